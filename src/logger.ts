/** One logger for the whole process. It writes to stderr only: under stdio, stdout belongs to the MCP protocol. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const IGNORING = Symbol.for('agent-runtime.stderr-errors-ignored');

/**
 * Logs are best-effort: a stderr that closes (the terminal gone, a pipe whose reader exited) must not end the process.
 * Unhandled, the write error did: an `up` whose stderr went to `| head` died and left its dev server running. Once per
 * process, however often this module is loaded (a test runner loads it once per test file, and Node warned of a
 * listener leak at the eleventh).
 */
export function ignoreStderrErrors(): void {
  const stderr = process.stderr as NodeJS.WriteStream & { [IGNORING]?: true };
  if (stderr[IGNORING]) return;
  stderr[IGNORING] = true;
  stderr.on('error', () => undefined);
}
ignoreStderrErrors();
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const env = (process.env.AGENT_RUNTIME_LOG_LEVEL ?? 'info').trim().toLowerCase() as Level;
  return ORDER[env] ?? ORDER.info;
}

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold()) return;
  const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
  process.stderr.write(`[agent-runtime] ${level === 'info' ? '' : level.toUpperCase() + ' '}${message}${extra}\n`);
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => write('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => write('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => write('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => write('error', m, f),
};
