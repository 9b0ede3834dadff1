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
