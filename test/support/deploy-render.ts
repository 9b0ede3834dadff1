/**
 * Renders the deploy/ templates the way their consumers do, for the subset the templates use (anything else
 * throws, so a template cannot grow a construct these checks would get wrong):
 * - Go templates as the Temporal and UI servers render them with sprig: `{{ env "X" | default "y" | quote }}` —
 *   the Temporal server with text/template, the UI server with html/template (`html: true`), which HTML-escapes
 *   every value it prints;
 * - Compose interpolation: `${X}`, `${X:-default}`, `${X:?message}` and `$$`.
 */

/** The variables a template reads, each with its default (undefined when it has none). */
export function templateVariables(text: string): Map<string, string | undefined> {
  const vars = new Map<string, string | undefined>();
  for (const action of actions(text)) vars.set(action.name, action.fallback);
  return vars;
}

interface Action {
  whole: string;
  name: string;
  fallback?: string;
  quote: boolean;
}

function actions(text: string): Action[] {
  const out: Action[] = [];
  for (const m of text.matchAll(/\{\{(.*?)\}\}/g)) {
    const stages = (m[1] ?? '').split('|').map((s) => s.trim());
    const env = /^env "([A-Z0-9_]+)"$/.exec(stages[0] ?? '');
    if (!env?.[1]) throw new Error(`unsupported template action: ${m[0]}`);
    const action: Action = { whole: m[0], name: env[1], quote: false };
    for (const stage of stages.slice(1)) {
      const d = /^default "([^"]*)"$/.exec(stage);
      if (d) action.fallback = d[1];
      else if (stage === 'quote') action.quote = true;
      else throw new Error(`unsupported template stage "${stage}" in ${m[0]}`);
    }
    out.push(action);
  }
  return out;
}

/** Renders a Go template with `env`; a variable without a default must be set. */
export function renderTemplate(
  text: string,
  env: Record<string, string | undefined>,
  opts: { html?: boolean } = {},
): string {
  let out = text;
  for (const a of actions(text)) {
    const set = env[a.name];
    const value = set !== undefined && set !== '' ? set : a.fallback;
    if (value === undefined) throw new Error(`${a.name} is not set and has no default`);
    const printed = a.quote ? JSON.stringify(value) : value;
    out = out.replace(a.whole, opts.html ? htmlEscape(printed) : printed);
  }
  return out;
}

/** What html/template does to a value printed in text context. */
function htmlEscape(s: string): string {
  const table: Record<string, string> = {
    '&': '&amp;',
    "'": '&#39;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&#34;',
    '+': '&#43;',
  };
  return s.replace(/[&'<>"+]/g, (c) => table[c] ?? c);
}

/** Compose's variable interpolation of one string. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (whole, name?: string, op?: string, arg?: string) => {
      if (whole === '$$') return '$';
      const set = env[name as string];
      if (set !== undefined && set !== '') return set;
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(`${name}: ${arg}`);
      return '';
    },
  );
}
