/**
 * `agent-runtime up` as a user runs it (`npm start`): the embedded dev server persisted to a db file, the worker,
 * the Web UI and the HTTP MCP server. Stopped with Ctrl-C and started again, every goal and task is still there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../src/dev-server';
import { isPortOpen } from '../src/ports';
import { ok, ROOT, runCli, untilOutput } from './support/harness';

interface Up {
  child: ChildProcess;
  output: () => string;
}

async function startUp(env: Record<string, string>): Promise<Up> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'up'], {
    env: { ...(process.env as Record<string, string>), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await untilOutput(child, () => out, 'agent-runtime is up.', 'up');
  return { child, output: () => out };
}

async function stopUp(up: Up, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => up.child.once('exit', (code) => resolve(code)));
  up.child.kill(signal);
  return exited;
}

async function connect(url: string, agent: string): Promise<Client> {
  const client = new Client({ name: 'up-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { 'X-Agent-Id': agent } } }),
  );
  return client;
}

test('npm start serves the UI and MCP; stopping and starting again loses nothing', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-up-'));
  const [temporalPort, uiPort, mcpPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    AGENT_RUNTIME_HOME: home,
    AGENT_RUNTIME_TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    PORT: String(mcpPort),
    AGENT_RUNTIME_TASK_QUEUE: 'agent-runtime',
  };
  const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;

  let up = await startUp(env);
  let goalId: string;
  let taskId: string;
  try {
    expect(up.output()).toContain(`Web UI        http://127.0.0.1:${uiPort}`);
    expect(up.output()).toContain(`MCP (HTTP)    ${mcpUrl}`);
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(ui.status).toBe(200);
    expect(fs.existsSync(path.join(home, 'temporal.db'))).toBe(true);

    const client = await connect(mcpUrl, 'persistent-agent');
    goalId = (await ok(client, 'create_goal', { name: 'Survive a restart', description: 'durability' })).goal_id;
    await ok(client, 'decompose_goal', { goal_id: goalId, strategy: 'sequential' });
    const claim = await ok(client, 'get_next_task', { goal_id: goalId });
    taskId = claim.task.id;
    await ok(client, 'update_task_status', { task_id: taskId, status: 'in_progress' });
    await client.close();
  } finally {
    expect(await stopUp(up)).toBe(0);
  }

  up = await startUp(env);
  try {
    const client = await connect(mcpUrl, 'persistent-agent');
    const view = await ok(client, 'get_goal', { goal_id: goalId });
    expect(view.goal.name).toBe('Survive a restart');
    expect(view.tasks).toHaveLength(5);
    expect(view.tasks[0]).toMatchObject({ id: taskId, status: 'in_progress', agent_id: 'persistent-agent' });
    await ok(client, 'update_task_status', { task_id: taskId, status: 'completed', result: 'after restart' });
    const next = await ok(client, 'get_next_task', { goal_id: goalId });
    expect(next.task.id).toBe(`${goalId}/2`);
    await client.close();
    expect(fs.existsSync(path.join(home, 'daemon.json'))).toBe(true); // where this machine's agents find it
  } finally {
    // The terminal it ran in closing (SIGHUP) stops it as Ctrl-C does: the dev server, the daemon file, the worker.
    expect(await stopUp(up, 'SIGHUP')).toBe(0);
    expect(up.output()).toContain('SIGHUP: stopping…');
    expect(up.output()).toContain('stopped.');
    expect(fs.existsSync(path.join(home, 'daemon.json'))).toBe(false);
    expect(await isPortOpen('127.0.0.1', temporalPort)).toBe(false);
    fs.rmSync(home, { recursive: true, force: true });
  }
}, 180_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('up restarts a dev server that dies, and manages again one that an earlier up left behind', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-up-'));
  const [temporalPort, uiPort, mcpPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    AGENT_RUNTIME_HOME: home,
    AGENT_RUNTIME_TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    PORT: String(mcpPort),
    AGENT_RUNTIME_TASK_QUEUE: 'agent-runtime',
  };
  const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
  const pidOf = (): number =>
    (JSON.parse(fs.readFileSync(path.join(home, 'temporal.pid'), 'utf8')) as { pid: number }).pid;
  let up = await startUp(env);
  let orphan = 0;
  try {
    const first = pidOf();
    const client = await connect(mcpUrl, 'supervised');
    const goalId = (await ok(client, 'create_goal', { name: 'Outlive the dev server' })).goal_id;

    process.kill(first, 'SIGKILL'); // the dev server dies under a running `up`
    await until(() => up.output().includes('The Temporal dev server is back'));
    expect(pidOf()).not.toBe(first);
    let view: Record<string, any> | undefined;
    await until(async () => {
      const r = await client.callTool({ name: 'get_goal', arguments: { goal_id: goalId } });
      view = r.isError ? undefined : (r.structuredContent as Record<string, any>);
      return view !== undefined;
    });
    expect(view?.goal.name).toBe('Outlive the dev server');
    await client.close();

    // `up` killed outright leaves its dev server behind; the next `up` recognises it and stops it when it stops.
    orphan = pidOf();
    const exited = new Promise((r) => up.child.once('exit', r));
    up.child.kill('SIGKILL');
    await exited;
    expect(alive(orphan)).toBe(true);
    up = await startUp(env);
    expect(up.output()).toContain('left running by an earlier `up`');
    const again = await connect(mcpUrl, 'supervised');
    expect((await ok(again, 'get_goal', { goal_id: goalId })).goal.name).toBe('Outlive the dev server');
    await again.close();
  } finally {
    expect(await stopUp(up)).toBe(0);
    await until(() => !alive(orphan), 15_000);
    fs.rmSync(home, { recursive: true, force: true });
  }
}, 240_000);

interface UpEnv {
  AGENT_RUNTIME_HOME: string;
  AGENT_RUNTIME_TEMPORAL_PORT: string;
  TEMPORAL_UI_PORT: string;
  PORT: string;
  HOST?: string;
  AGENT_RUNTIME_TOKEN?: string;
}

async function upEnv(): Promise<UpEnv> {
  return {
    AGENT_RUNTIME_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-up-')),
    AGENT_RUNTIME_TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    PORT: String(await freePort()),
  };
}

test('up refuses a taken MCP port, or a reachable host without a token, before it starts anything', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const env = { ...(await upEnv()), PORT: String(port) };
    const r = await runCli(['up'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use by another process`);
    expect(r.stderr).toContain('--port (PORT)');
    expect(r.stderr).not.toContain('Starting the Temporal dev server');
    expect(await isPortOpen('127.0.0.1', Number(env.AGENT_RUNTIME_TEMPORAL_PORT))).toBe(false);
  } finally {
    taken.close();
  }
  const open = { ...(await upEnv()), HOST: '0.0.0.0' };
  const r = await runCli(['up'], open);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('Refusing to serve MCP on 0.0.0.0 without a token: set AGENT_RUNTIME_TOKEN');
  expect(r.stderr).not.toContain('Starting the Temporal dev server');
});

test('up that fails after its dev server started stops that dev server before it exits', async () => {
  // 203.0.113.1 (TEST-NET-3) is no address of this machine: the MCP server cannot listen there, after the dev
  // server and the worker have started.
  const env = { ...(await upEnv()), HOST: '203.0.113.1', AGENT_RUNTIME_TOKEN: 'secret' };
  const r = await runCli(['up'], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('Starting the Temporal dev server');
  expect(r.stderr).toContain('203.0.113.1 is not an address of this machine');
  expect(await isPortOpen('127.0.0.1', Number(env.AGENT_RUNTIME_TEMPORAL_PORT))).toBe(false);
}, 120_000);
