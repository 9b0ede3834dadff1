/**
 * The one rule for free-form identifiers (agent ids, entity references): printable text of bounded length, with no
 * control characters (NUL, newlines), no bidirectional overrides or isolates (which make a Web UI show another name
 * than the real one), and no `..` path segment. Ids appear in workflow ids, the Web UI and logs.
 */
import { zodApi } from './shared';

// C0/C1 controls and DEL; bidi embeddings, overrides and isolates; zero-width and marks that render invisibly.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;
const DOT_DOT = /(^|[/\\])\.\.([/\\]|$)/;

export function idProblem(v: string): string | undefined {
  if (FORBIDDEN.test(v)) return 'must not contain control, invisible or bidirectional-override characters';
  if (DOT_DOT.test(v)) return 'must not contain a ".." path segment';
  if (v.trim() !== v) return 'must not start or end with spaces';
  return undefined;
}

/** A free-form id of at most `max` characters under the rule above. */
export function safeId(max: number) {
  return zodApi()
    .string()
    .min(1)
    .max(max)
    .superRefine((v, ctx) => {
      const problem = idProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `an id ${problem}` });
    });
}
