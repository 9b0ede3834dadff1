/**
 * Command-line flags as environment variables, and what is wrong with either. No imports, so the thin stdio front can
 * use it: a flag or setting that would be silently ignored (a typo, a toolset that does not exist, a port that is not
 * a number) stops the command with a sentence saying what to change, before anything starts.
 */

/** Every variable the runtime reads (README, "Configuration"); each is also a flag. */
export const VARIABLES = [
  'AGENT_RUNTIME_HOME',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'AGENT_RUNTIME_TOOLSETS',
  'AGENT_ID',
  'AGENT_RUNTIME_WORKSPACE',
  'AGENT_RUNTIME_ALLOWED_HOSTS',
  'AGENT_RUNTIME_ALLOWED_ORIGINS',
  'AGENT_RUNTIME_PICKUP_SECONDS',
  'AGENT_RUNTIME_PREFETCH_MS',
  'AGENT_RUNTIME_OUTPUT_SCHEMAS',
  'HOST',
  'PORT',
  'AGENT_RUNTIME_TOKEN',
  'AGENT_RUNTIME_TEMPORAL_PORT',
  'TEMPORAL_UI_PORT',
  'TEMPORAL_CLI_PATH',
  'AGENT_RUNTIME_LOG_LEVEL',
  'AGENT_RUNTIME_DAEMON',
  'AGENT_RUNTIME_POSTGRES',
  'DATABASE_URL',
  'AGENT_RUNTIME_PG_PORT',
  'AGENT_RUNTIME_SETUP_SECONDS',
  'AGENT_RUNTIME_WORKERS',
  'AGENT_RUNTIME_TASK_QUEUE',
] as const;

export const ALL_TOOLSETS = ['goals', 'relay', 'breakers', 'projects', 'agents', 'task-graph'] as const;

/** The most worker processes `up --postgres` runs (AGENT_RUNTIME_WORKERS). */
export const MAX_WORKERS = 16;

/** Variables whose flag may stand alone: `--postgres` is `--postgres on`. */
const SWITCHES: Record<string, string> = { AGENT_RUNTIME_POSTGRES: 'on' };

const known = new Set<string>(VARIABLES);

/**
 * The variable a flag sets: the flag's own name (`--temporal-address` → TEMPORAL_ADDRESS, `--port` → PORT), else with
 * AGENT_RUNTIME_ (`--toolsets`, `--home`, `--log-level`), else with TEMPORAL_ (`--namespace`, `--ui-port`).
 */
export function variableOfFlag(flag: string): string | undefined {
  const name = flag.replace(/-/g, '_').toUpperCase();
  return [name, `AGENT_RUNTIME_${name}`, `TEMPORAL_${name}`].find((v) => known.has(v));
}

export interface ParsedFlags {
  /** The variables the flags set. */
  env: Record<string, string>;
  /** Arguments that are not flags, in order. */
  positional: string[];
  /** What is wrong, one sentence each. */
  problems: string[];
}

/**
 * `--name value` and `--name=value` → variables. `own` names a command's flags of its own (create-task's
 * `--priority`): each sets the variable of its name in capitals (PRIORITY), as every flag did before flags were checked.
 */
export function parseFlags(argv: string[], own: readonly string[] = []): ParsedFlags {
  const parsed: ParsedFlags = { env: {}, positional: [], problems: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg.length === 2) {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const variable = own.includes(flag) ? flag.replace(/-/g, '_').toUpperCase() : variableOfFlag(flag);
    const next = argv[i + 1];
    const value = eq > 0 ? arg.slice(eq + 1) : next !== undefined && !next.startsWith('--') ? next : undefined;
    if (variable === undefined) {
      parsed.problems.push(unknownFlag(flag, own));
      if (eq < 0 && value !== undefined) i++;
      continue;
    }
    if (value === undefined && eq < 0 && SWITCHES[variable] !== undefined) {
      parsed.env[variable] = SWITCHES[variable];
      continue;
    }
    if (value === undefined) {
      parsed.problems.push(`--${flag} needs a value: --${flag} VALUE, or --${flag}=VALUE.`);
      continue;
    }
    if (eq < 0) i++;
    parsed.env[variable] = value;
  }
  return parsed;
}

/** A variable's flag as the help and the messages name it: the short name when it sets that variable (`--toolsets`). */
export function flagOf(variable: string): string {
  const full = variable.toLowerCase().replace(/_/g, '-');
  const short = full.replace(/^(agent-runtime|temporal)-/, '');
  return variableOfFlag(short) === variable ? short : full;
}

function unknownFlag(flag: string, own: readonly string[]): string {
  const forms = [...own, ...VARIABLES.flatMap((v) => [v.toLowerCase().replace(/_/g, '-'), flagOf(v)])];
  const best = forms
    .map((f) => ({ f, d: editDistance(flag.toLowerCase(), f) }))
    .sort((a, b) => a.d - b.d || a.f.length - b.f.length)[0];
  const hint = best && best.d <= 2 ? ` Did you mean --${best.f}?` : '';
  return `Unknown flag --${flag}.${hint} Each setting of the README's "Configuration" is a flag: --namespace, --toolsets, --port, …`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] as number;
}

type Check = {
  variable: string;
  commands?: readonly string[];
  problem: (value: string) => string | null;
};

const SERVERS = ['up', 'serve', 'mcp'];

function port(variable: string, commands: readonly string[]): Check {
  return {
    variable,
    commands,
    problem: (v) => (/^\d+$/.test(v) && Number(v) <= 65_535 ? null : `a port number from 0 to 65535, not "${v}"`),
  };
}

/** A value from a list, as the code that reads it compares it (exactly, or in any case with `anyCase`). */
function oneOf(
  variable: string,
  values: readonly string[],
  opts: { commands?: readonly string[]; anyCase?: boolean } = {},
): Check {
  return {
    variable,
    commands: opts.commands,
    problem: (v) =>
      values.includes(opts.anyCase ? v.toLowerCase() : v)
        ? null
        : `one of ${values.map((x) => `"${x}"`).join(', ')}, not "${v}"`,
  };
}

/** The settings a typo in would otherwise go unnoticed, with the commands that read each (all when unnamed). */
const CHECKS: Check[] = [
  {
    variable: 'AGENT_RUNTIME_TOOLSETS',
    commands: SERVERS,
    problem: (v) => {
      if (v.trim() === 'all') return null;
      const unknown = v
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !(ALL_TOOLSETS as readonly string[]).includes(t));
      return unknown.length === 0
        ? null
        : `toolset names from ${ALL_TOOLSETS.join(', ')} (comma-separated), or all; "${unknown.join('", "')}" is none of them`;
    },
  },
  port('PORT', ['up', 'serve']),
  port('AGENT_RUNTIME_TEMPORAL_PORT', ['up']),
  port('TEMPORAL_UI_PORT', ['up']),
  port('AGENT_RUNTIME_PG_PORT', ['up']),
  {
    variable: 'AGENT_RUNTIME_WORKERS',
    commands: ['up'],
    problem: (v) =>
      /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_WORKERS ? null : `from 1 to ${MAX_WORKERS}, not "${v}"`,
  },
  oneOf('AGENT_RUNTIME_LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { anyCase: true }),
  oneOf('AGENT_RUNTIME_DAEMON', ['on', 'off'], { commands: SERVERS }),
  oneOf('AGENT_RUNTIME_POSTGRES', ['on', 'off', 'true', 'false', '1', '0'], {
    commands: ['up'],
    anyCase: true,
  }),
  oneOf('AGENT_RUNTIME_OUTPUT_SCHEMAS', ['on', 'off'], { commands: SERVERS }),
];

/** What is wrong with the settings `command` reads, one sentence each; empty settings are the defaults. */
export function configProblems(env: NodeJS.ProcessEnv, command: string): string[] {
  const problems: string[] = [];
  if (!env.TEMPORAL_TLS_CERT?.trim() !== !env.TEMPORAL_TLS_KEY?.trim()) {
    problems.push(
      'TEMPORAL_TLS_CERT (--tls-cert) and TEMPORAL_TLS_KEY (--tls-key) go together: mTLS needs the client certificate and its key. Set both, or neither.',
    );
  }
  for (const check of CHECKS) {
    const value = env[check.variable];
    if (value === undefined || value.trim() === '') continue;
    if (check.commands && !check.commands.includes(command)) continue;
    const wanted = check.problem(value.trim());
    if (wanted) problems.push(`${check.variable} (--${flagOf(check.variable)}) takes ${wanted}.`);
  }
  return problems;
}

/**
 * The flags of `command` applied to process.env, or, if any flag or setting is wrong, every problem on stderr and exit
 * code 2 before anything starts. `positional` says whether the command takes arguments that are not flags (beyond
 * those it took itself, which `takes` names).
 */
export function applyFlagsOrExit(
  command: string,
  argv: string[],
  opts: { own?: readonly string[]; positional?: boolean; takes?: string } = {},
): ParsedFlags {
  const parsed = parseFlags(argv, opts.own);
  if (!opts.positional && parsed.positional.length > 0) {
    parsed.problems.push(
      `agent-runtime ${command} takes ${opts.takes ?? 'flags only'}, not "${parsed.positional.join(' ')}" (a value that starts with -- goes as --flag=VALUE).`,
    );
  }
  Object.assign(process.env, parsed.env);
  const problems = [...parsed.problems, ...configProblems(process.env, command)];
  if (problems.length > 0) {
    process.stderr.write(
      problems.map((p) => `[agent-runtime] ${p}\n`).join('') +
        '[agent-runtime] Nothing was started. Run `agent-runtime --help` for the commands and flags.\n',
    );
    process.exit(2);
  }
  return parsed;
}
