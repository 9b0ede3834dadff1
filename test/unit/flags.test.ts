/** Flags and settings: each variable of the README's "Configuration" as a flag, and a clear sentence for a wrong one. */
import fs from 'node:fs';
import path from 'node:path';
import { configProblems, parseFlags, variableOfFlag, VARIABLES } from '../../src/flags';

test('every documented variable is a flag, by its full name and by its short one', () => {
  expect(parseFlags(['--temporal-address', 'h:1', '--toolsets=all', '--agent-id', 'me', '--home', '/x'])).toEqual({
    env: { TEMPORAL_ADDRESS: 'h:1', AGENT_RUNTIME_TOOLSETS: 'all', AGENT_ID: 'me', AGENT_RUNTIME_HOME: '/x' },
    positional: [],
    problems: [],
  });
  // --namespace sets TEMPORAL_NAMESPACE: the variable loadConfig and the front read (it once set NAMESPACE, unread).
  expect(parseFlags(['--namespace', 'team-a', '--ui-port=9000', '--log-level', 'warn']).env).toEqual({
    TEMPORAL_NAMESPACE: 'team-a',
    TEMPORAL_UI_PORT: '9000',
    AGENT_RUNTIME_LOG_LEVEL: 'warn',
  });
  for (const v of VARIABLES) expect(variableOfFlag(v.toLowerCase().replace(/_/g, '-'))).toBe(v);
  expect(variableOfFlag('temporal-port')).toBe('AGENT_RUNTIME_TEMPORAL_PORT');
  expect(variableOfFlag('port')).toBe('PORT');
});

test('the variables the flags know are the ones the README documents', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('Commands: `agent-runtime up`'));
  const firstCells = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|')[1] ?? '');
  const documented = new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])));
  expect([...documented].sort()).toEqual([...VARIABLES].sort());
});

test('--postgres stands alone; any other flag without a value says how to give one', () => {
  expect(parseFlags(['--postgres', '--workers', '2']).env).toEqual({
    AGENT_RUNTIME_POSTGRES: 'on',
    AGENT_RUNTIME_WORKERS: '2',
  });
  const r = parseFlags(['--namespace', '--port', '3200']);
  expect(r.env).toEqual({ PORT: '3200' });
  expect(r.problems).toEqual(['--namespace needs a value: --namespace VALUE, or --namespace=VALUE.']);
});

test('an unknown flag is named, with the nearest known one', () => {
  const r = parseFlags(['--namespce', 'team-a', '--toolset', 'all', '--frobnicate', 'x']);
  expect(r.env).toEqual({});
  expect(r.positional).toEqual([]); // the values of unknown flags are not taken for arguments
  expect(r.problems[0]).toMatch(/^Unknown flag --namespce\. Did you mean --namespace\?/);
  expect(r.problems[1]).toMatch(/^Unknown flag --toolset\. Did you mean --toolsets\?/);
  expect(r.problems[2]).toMatch(/^Unknown flag --frobnicate\. Each setting/);
  expect(r.problems[2]).not.toContain('Did you mean');
});

test("a command's own flags and its arguments", () => {
  const r = parseFlags(
    ['fix the login', '--priority', 'high', '--codebase-id=web', 'details'],
    ['priority', 'codebase-id'],
  );
  expect(r.env).toEqual({ PRIORITY: 'high', CODEBASE_ID: 'web' });
  expect(r.positional).toEqual(['fix the login', 'details']);
  expect(r.problems).toEqual([]);
});

test('settings a typo would otherwise hide: toolsets, ports, workers, log level, switches', () => {
  expect(configProblems({ AGENT_RUNTIME_TOOLSETS: 'goals, task-graph,agents' }, 'mcp')).toEqual([]);
  expect(configProblems({ AGENT_RUNTIME_TOOLSETS: 'all' }, 'serve')).toEqual([]);
  expect(configProblems({ AGENT_RUNTIME_TOOLSETS: 'goals,agent,taskgraph' }, 'mcp')).toEqual([
    'AGENT_RUNTIME_TOOLSETS (--toolsets) takes toolset names from goals, relay, breakers, projects, agents, task-graph (comma-separated), or all; "agent", "taskgraph" is none of them.',
  ]);
  expect(configProblems({ PORT: 'abc', AGENT_RUNTIME_TEMPORAL_PORT: '70000' }, 'up')).toEqual([
    'PORT (--port) takes a port number from 0 to 65535, not "abc".',
    'AGENT_RUNTIME_TEMPORAL_PORT (--temporal-port) takes a port number from 0 to 65535, not "70000".',
  ]);
  expect(configProblems({ AGENT_RUNTIME_WORKERS: '0' }, 'up')).toEqual([
    'AGENT_RUNTIME_WORKERS (--workers) takes from 1 to 16, not "0".',
  ]);
  expect(configProblems({ AGENT_RUNTIME_LOG_LEVEL: 'verbose' }, 'worker')).toEqual([
    'AGENT_RUNTIME_LOG_LEVEL (--log-level) takes one of "debug", "info", "warn", "error", not "verbose".',
  ]);
  expect(configProblems({ AGENT_RUNTIME_DAEMON: 'no' }, 'mcp')[0]).toContain('"on", "off", not "no"');
  expect(configProblems({ AGENT_RUNTIME_LOG_LEVEL: 'WARN' }, 'up')).toEqual([]); // the logger reads it in any case
  expect(configProblems({ AGENT_RUNTIME_POSTGRES: 'ON', AGENT_RUNTIME_WORKERS: '4' }, 'up')).toEqual([]);
  expect(configProblems({ PORT: '', AGENT_RUNTIME_TOOLSETS: ' ' }, 'up')).toEqual([]); // empty: the default
});

test('a setting is checked only for the commands that read it', () => {
  // PORT is a common variable of other programs' too: `mcp` (stdio) and `worker` never listen on it.
  expect(configProblems({ PORT: 'http', AGENT_RUNTIME_TOOLSETS: 'nope' }, 'worker')).toEqual([]);
  expect(configProblems({ PORT: 'http' }, 'mcp')).toEqual([]);
  expect(configProblems({ PORT: 'http' }, 'serve')).toHaveLength(1);
});

test('an mTLS certificate without its key (or the other way round) is refused, not dropped', () => {
  const problem =
    'TEMPORAL_TLS_CERT (--tls-cert) and TEMPORAL_TLS_KEY (--tls-key) go together: mTLS needs the client certificate and its key. Set both, or neither.';
  expect(configProblems({ TEMPORAL_TLS_CERT: '/etc/c.pem' }, 'worker')).toEqual([problem]);
  expect(configProblems({ TEMPORAL_TLS_KEY: '/etc/c.key' }, 'mcp')).toEqual([problem]);
  expect(configProblems({ TEMPORAL_TLS_CERT: '/etc/c.pem', TEMPORAL_TLS_KEY: '/etc/c.key' }, 'up')).toEqual([]);
  expect(parseFlags(['--tls-cert', 'c.pem', '--tls-key=c.key']).env).toEqual({
    TEMPORAL_TLS_CERT: 'c.pem',
    TEMPORAL_TLS_KEY: 'c.key',
  });
});
