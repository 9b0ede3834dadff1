/** Small text helpers for the markdown the Web UI shows (current details). */

/** A table cell: pipes escaped, one line. */
export function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** An ISO time as a table shows it: `2026-11-30 10:31:05` (UTC), or nothing. */
export function utc(iso: string | null | undefined): string {
  return iso
    ? iso
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '')
        .replace(/Z$/, '')
    : '';
}

/**
 * The markdown for a workflow's current details. The Web UI sizes the panel by its body's height, which leaves out
 * the last element's margins, so the end of a table was clipped: a trailing paragraph that renders blank (a
 * no-break space; an empty line would be collapsed) takes that cut instead.
 */
export function forPanel(lines: string[]): string {
  return [...lines, '', '\u00a0', '', '\u00a0', ''].join('\n');
}

/** A time for a narrow table column: `11:09:04` on the day of `now` (UTC), else `2026-12-01 11:09`. */
export function utcShort(iso: string | null | undefined, now: number): string {
  if (!iso) return '';
  const full = utc(iso);
  return full.slice(0, 10) === utc(new Date(now).toISOString()).slice(0, 10) ? full.slice(11) : full.slice(0, 16);
}
