/**
 * `agent-runtime up --postgres --workers 2` as a user runs it: PostgreSQL initialized under AGENT_RUNTIME_HOME (as the
 * `postgres` user when root), both schemas migrated, a Temporal server on it, the Web UI, two worker processes and the
 * HTTP MCP server. A goal's flow works over MCP; Ctrl-C stops every process it started; started again on the same home
 * it resumes the goal where it was.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../src/dev-server';
import { ok, ROOT, untilOutput } from './support/harness';
import { temporalPortRange } from './support/server-ports';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-pg-'));
let ports: { temporal: number; http: number; ui: number; pg: number };
let up: ChildProcess | undefined;
let log = '';

beforeAll(async () => {
  fs.chmodSync(home, 0o755); // the postgres user must reach its data directory inside
  ports = { temporal: await temporalPortRange(), http: await freePort(), ui: await freePort(), pg: await freePort() };
});

afterAll(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGINT');
    await new Promise((resolve) => up?.once('exit', resolve));
  }
});

async function startUp(): Promise<ChildProcess> {
  log = '';
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.TEMPORAL_ADDRESS;
  delete env.TEMPORAL_NAMESPACE;
  const child = spawn(process.execPath, [CLI, 'up', '--postgres', '--workers', '2'], {
    env: {
      ...env,
      AGENT_RUNTIME_HOME: home,
      AGENT_RUNTIME_TEMPORAL_PORT: String(ports.temporal),
      PORT: String(ports.http),
      TEMPORAL_UI_PORT: String(ports.ui),
      AGENT_RUNTIME_PG_PORT: String(ports.pg),
      AGENT_RUNTIME_DAEMON: 'off',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await untilOutput(child, () => log, 'agent-runtime is up', 'up --postgres');
  return child;
}

async function mcp(agent: string): Promise<Client> {
  const client = new Client({ name: 'postgres-up', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${ports.http}/mcp`), {
      requestInit: { headers: { 'X-Agent-Id': agent } },
    }),
  );
  return client;
}

/** Processes whose command line mentions this test's home or ports: what `up` started and must stop. */
function leftovers(): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(home) || l.includes(`:${ports.temporal}`) || l.includes(`-p ${ports.pg}`))
    .filter((l) => !l.includes('ps -eo'));
}

test('up --postgres: the stack starts, serves a goal, stops entirely on Ctrl-C and resumes on the same home', async () => {
  up = await startUp();
  expect(log).toContain('Initializing a PostgreSQL cluster');
  expect(log).toContain('Registered namespace default');
  const health = await (await fetch(`http://127.0.0.1:${ports.http}/healthz`)).json();
  expect(health).toMatchObject({ ok: true, temporal: true, workers: 2 });
  expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);

  const agent = await mcp('pg-agent');
  await ok(agent, 'create_goal', { name: 'on postgres', goal_id: 'pg-goal' });
  await ok(agent, 'decompose_goal', { goal_id: 'pg-goal', strategy: 'sequential' });
  const first = await ok(agent, 'get_next_task', { goal_id: 'pg-goal' });
  await ok(agent, 'update_task_status', { task_id: first.id, status: 'completed', result: 'done on postgres' });
  const listed = await ok(agent, 'list_goals', {});
  expect(listed.goals.map((g: { id: string }) => g.id)).toContain('pg-goal'); // Visibility on PostgreSQL
  await agent.close();

  const stopped = up;
  stopped.kill('SIGINT');
  expect(await new Promise((resolve) => stopped.once('exit', resolve))).toBe(0);
  expect(leftovers()).toEqual([]);

  up = await startUp();
  expect(log).not.toContain('Initializing a PostgreSQL cluster');
  const again = await mcp('pg-agent');
  const goal = (await ok(again, 'get_goal', { goal_id: 'pg-goal' })).goal;
  expect(goal.task_counts).toMatchObject({ completed: 1 });
  const second = await ok(again, 'get_next_task', { goal_id: 'pg-goal' });
  expect(second.claimed).toBe(true);
  expect(second.id).not.toBe(first.id);
  await again.close();
}, 300_000);

test('agent-runtime temporal-server prints the server, sql tool and UI server that up --postgres runs', () => {
  // Built by .ci/run (or by the test above) if they were missing; this only finds them.
  const paths = execFileSync(process.execPath, [CLI, 'temporal-server'], { encoding: 'utf8' }).trim().split('\n');
  expect(paths).toHaveLength(3);
  expect(paths[0]).toMatch(/temporal-server-v[\d.]+\/server$/);
  expect(paths[1]).toMatch(/temporal-server-v[\d.]+\/sql$/);
  expect(paths[2]).toMatch(/temporal-ui-server-v[\d.]+\/server$/);
  for (const p of paths) fs.accessSync(p, fs.constants.X_OK);
}, 900_000);
