/** Pure pieces of the edges: configuration, goal ids, tokens, the CLI resolver's error. */
import { loadConfig } from '../../src/config';
import { log } from '../../src/logger';
import { makeGoalId } from '../../src/client/goals';
import { isLoopback, parseTokens } from '../../src/mcp/http';
import { selectTools } from '../../src/mcp/server';
import { TemporalCliNotFound } from '../../src/temporal-cli';
import { GoalIdSchema } from '../../src/domain/schemas';

test('configuration defaults follow DESIGN §1', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({
    temporalAddress: '127.0.0.1:7233',
    embedded: true,
    namespace: 'default',
    port: 3100,
    host: '127.0.0.1',
  });
  expect(c.toolsets).toEqual(['goals', 'relay', 'breakers']);
  expect(loadConfig({ AGENT_RUNTIME_TOOLSETS: 'all' }).toolsets).toContain('projects');
  expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).embedded).toBe(false);
});

test('goal ids are readable, URL-safe, and stable for one request_id', () => {
  const id = makeGoalId('Build the Auth System!');
  expect(id).toMatch(/^build-the-auth-system-[0-9a-f]{8}$/);
  expect(GoalIdSchema.safeParse(id).success).toBe(true);
  expect(makeGoalId('x', 'req-1')).toBe(makeGoalId('x', 'req-1'));
  expect(makeGoalId('日本語')).toMatch(/^goal-/);
});

test('tokens may name their subject', () => {
  const creds = parseTokens('alice:one, two');
  expect(creds.map((c) => [c.subject, c.secret.toString()])).toEqual([
    ['alice', 'one'],
    [undefined, 'two'],
  ]);
  expect(isLoopback('127.0.0.1')).toBe(true);
  expect(isLoopback('0.0.0.0')).toBe(false);
});

test('toolsets select tools; a tool in two toolsets is listed once', () => {
  const tools = [
    { name: 'a', toolsets: ['goals'] },
    { name: 'heartbeat', toolsets: ['goals', 'projects'] },
    { name: 'b', toolsets: ['relay'] },
  ] as never[];
  expect(selectTools(tools, ['projects']).map((t: { name: string }) => t.name)).toEqual(['heartbeat']);
  expect(selectTools(tools, ['all'])).toHaveLength(3);
});

test('the missing-CLI error names the three ways to get one', () => {
  const msg = new TemporalCliNotFound('no go').message;
  expect(msg).toContain('TEMPORAL_CLI_PATH');
  expect(msg).toContain('PATH');
  expect(msg).toContain('go install github.com/temporalio/cli/cmd/temporal@v1.5.1');
});

test('the log level is read in any case: WARN keeps info lines out and warnings in', () => {
  const before = process.env.AGENT_RUNTIME_LOG_LEVEL;
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    process.env.AGENT_RUNTIME_LOG_LEVEL = 'WARN';
    log.info('an info line');
    log.warn('a warning');
  } finally {
    spy.mockRestore();
    if (before === undefined) delete process.env.AGENT_RUNTIME_LOG_LEVEL;
    else process.env.AGENT_RUNTIME_LOG_LEVEL = before;
  }
  expect(written).toEqual(['[agent-runtime] WARN a warning\n']);
});
