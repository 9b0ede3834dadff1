/**
 * The two ways agents connect: a spawned `agent-runtime mcp` over stdio, and `agent-runtime serve` over
 * Streamable HTTP; and what they say when no Temporal answers.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../src/dev-server';
import { SERVER_VERSION } from '../src/mcp/server';
import { call, ok, ROOT, runCli, startHarness, type Harness } from './support/harness';

const CLI = path.join(ROOT, 'dist', 'cli.js');
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, AGENT_RUNTIME_LOG_LEVEL: 'warn', ...extra };
}

async function seedFlow(client: Client, agent: string): Promise<void> {
  const { goal_id: goalId } = await ok(client, 'create_goal', { name: `over ${agent}`, description: 'transport test' });
  await ok(client, 'decompose_goal', { goal_id: goalId, strategy: 'sequential' });
  const first = await ok(client, 'get_next_task', { goal_id: goalId });
  expect(first.task.agent_id).toBe(agent); // identity from AGENT_ID (stdio) or the X-Agent-Id header (HTTP)
  await ok(client, 'update_task_status', { task_id: first.task.id, status: 'in_progress' });
  await ok(client, 'update_task_status', { task_id: first.task.id, status: 'completed', result: 'ok' });
  const second = await ok(client, 'get_next_task', { goal_id: goalId });
  expect(second.task.id).toBe(`${goalId}/2`);
}

test('a spawned `agent-runtime mcp` serves the seed flow over stdio', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp'],
    env: baseEnv({
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
      AGENT_ID: 'stdio-agent',
    }),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('get_next_task');
    await seedFlow(client, 'stdio-agent');
  } finally {
    await client.close();
  }
});

test('`agent-runtime mcp --namespace N` serves namespace N, whatever TEMPORAL_NAMESPACE says', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', '--namespace', h.config.namespace, '--agent-id=flag-agent'],
    env: baseEnv({
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      TEMPORAL_NAMESPACE: 'not-this-namespace',
      AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
    }),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'flags-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    await seedFlow(client, 'flag-agent');
  } finally {
    await client.close();
  }
});

test('a mistyped flag or setting stops the command before it starts anything, saying what to change', async () => {
  const env = {
    TEMPORAL_ADDRESS: h.config.temporalAddress,
    AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
    AGENT_RUNTIME_LOG_LEVEL: 'warn',
  };
  const typo = await runCli(['mcp', '--namespce', 'team-a'], env);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain('Unknown flag --namespce. Did you mean --namespace?');
  expect(typo.stderr).toContain('Nothing was started.');

  const toolset = await runCli(['mcp'], { ...env, AGENT_RUNTIME_TOOLSETS: 'goals,agent' });
  expect(toolset.code).toBe(2);
  expect(toolset.stderr).toContain('"agent" is none of them');

  const port = await runCli(['serve', '--port', 'abc'], env);
  expect(port.code).toBe(2);
  expect(port.stderr).toContain('PORT (--port) takes a port number from 0 to 65535, not "abc".');

  const host = await runCli(['serve', '--host', 'no-such-host.invalid', '--token', 'secret'], env);
  expect(host.code).toBe(1);
  expect(host.stderr).toContain('no-such-host.invalid is not an address of this machine (ENOTFOUND)');

  const extra = await runCli(['worker', 'now'], env);
  expect(extra.code).toBe(2);
  expect(extra.stderr).toContain('agent-runtime worker takes flags only, not "now"');
}, 30_000);

test('`agent-runtime --version` prints the version the MCP server reports', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--version']);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(stdout).toBe(`agent-runtime ${pkg.version}\n`);
  expect(SERVER_VERSION).toBe(pkg.version);
});

test('`agent-runtime mcp` exits by itself when its client closes stdin, and the claim it held ahead goes back', async () => {
  const goal = await h.goals.createGoal({
    name: 'stdio exit',
    tasks: Array.from({ length: 5 }, (_, k) => ({ title: `t${k}` })),
  });
  const child = spawn(process.execPath, [CLI, 'mcp'], {
    env: baseEnv({
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
      AGENT_ID: 'stdio-looper',
      AGENT_RUNTIME_DAEMON: 'off',
      AGENT_RUNTIME_PREFETCH_MS: '60000', // a claim made ahead waits a minute for its agent: only the exit returns it
    }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // JSON-RPC by hand, so that nothing but the end of stdin tells the server to stop.
  const answers = new Map<number, (m: { result?: any; error?: unknown }) => void>();
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const m = JSON.parse(buffer.slice(0, nl)) as { id?: number; result?: unknown; error?: unknown };
      buffer = buffer.slice(nl + 1);
      if (typeof m.id === 'number') answers.get(m.id)?.(m);
    }
  });
  let next = 0;
  const rpc = (method: string, params: unknown) =>
    new Promise<any>((resolve, reject) => {
      const id = ++next;
      answers.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  const tool = async (name: string, args: Record<string, unknown>) => {
    const r = await rpc('tools/call', { name, arguments: args });
    expect(r.isError).toBeFalsy();
    return r.structuredContent as Record<string, any>;
  };
  await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  // A fast loop: from its second completion on, each completion also claims the agent's next task ahead.
  for (let i = 0; i < 3; i++) {
    const claim = await tool('get_next_task', { goal_id: goal.id });
    expect(claim.claimed).toBe(true);
    await tool('update_task_status', { task_id: claim.id, status: 'completed', result: 'ok' });
  }
  const held = (await h.goals.getGoal(goal.id)).goal.task_counts;
  expect(held).toMatchObject({ completed: 3, claimed: 1, ready: 1 }); // the fourth task, held for the agent

  child.stdin.end();
  expect(await exited).toEqual({ code: 0, signal: null });
  const after = (await h.goals.getGoal(goal.id)).goal.task_counts;
  expect(after).toMatchObject({ completed: 3, claimed: 0, ready: 2 });
}, 60_000);

/** `agent-runtime serve` on `port` for the harness's task queue, logging at info level to a pipe. */
function spawnServe(port: number, extra: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, 'serve'], {
    env: baseEnv({
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
      PORT: String(port),
      AGENT_RUNTIME_LOG_LEVEL: 'info',
      ...extra,
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

test('`agent-runtime serve` serves the seed flow over Streamable HTTP, with bearer auth', async () => {
  const port = await freePort();
  const child = spawnServe(port, { AGENT_RUNTIME_TOKEN: 'http-agent:s3cret' });
  try {
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('/mcp')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const url = new URL(`http://127.0.0.1:${port}/mcp`);

    const anonymous = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);

    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: 'Bearer s3cret' } } }),
    );
    await seedFlow(client, 'http-agent');
    await client.close();
  } finally {
    child.kill('SIGTERM');
  }
});

test('`agent-runtime serve` keeps serving when its stderr closes, and still stops cleanly', async () => {
  const port = await freePort();
  const child = spawnServe(port);
  // The reader goes away before the first log line (a terminal closed, `| head` done): every write meets EPIPE.
  child.stderr.destroy();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let health: { ok?: boolean } | undefined;
    for (let i = 0; i < 200 && health === undefined && child.exitCode === null; i++) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.json() as Promise<{ ok?: boolean }>)
        .catch(() => undefined);
      if (health === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(child.exitCode).toBeNull();
    expect(health?.ok).toBe(true);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
}, 40_000);

test('with no Temporal at the address, `agent-runtime mcp` says so on stderr and in every tool result', async () => {
  const deadPort = await freePort();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp'],
    env: baseEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${deadPort}` }),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'offline-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(5);
    for (const [tool, args] of [
      ['create_goal', { name: 'x' }],
      ['list_goals', {}],
      ['get_next_task', { agent_id: 'a' }],
    ] as const) {
      const r = await call(client, tool, args);
      expect(r.isError).toBe(true);
      expect(r.error?.code).toBe('TEMPORAL_UNAVAILABLE');
      expect(r.error?.message).toContain('agent-runtime up');
    }
    expect(stderr).toContain(`127.0.0.1:${deadPort}`);
  } finally {
    await client.close();
  }
}, 60_000);

describe('one MCP server behind stateless HTTP', () => {
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('concurrent callers with the same request ids each get their own answer, as themselves', async () => {
    const { serveHttp } = await import('../src/mcp/http');
    const http = await serveHttp({ host: '127.0.0.1', port: await freePort(), goals: h.goals, toolsets: ['all'] });
    try {
      const goal = await h.goals.createGoal({
        name: 'http callers',
        tasks: Array.from({ length: 12 }, (_, i) => ({ title: `t${i}` })),
      });
      // Every agent numbers its request 1: the server must not mix them up.
      const answers = await Promise.all(
        Array.from({ length: 12 }, async (_, a) => {
          const res = await post(
            http.url,
            {
              jsonrpc: '2.0',
              id: 1,
              method: 'tools/call',
              params: { name: 'get_next_task', arguments: { goal_id: goal.id } },
            },
            { 'x-agent-id': `caller-${a}` },
          );
          expect(res.status).toBe(200);
          return (await res.json()) as {
            id: number;
            result: { structuredContent: { task: { id: string; agent_id: string } } };
          };
        }),
      );
      expect(answers.every((r) => r.id === 1)).toBe(true);
      expect(answers.map((r) => r.result.structuredContent.task.agent_id)).toEqual(
        Array.from({ length: 12 }, (_, a) => `caller-${a}`),
      );
      expect(new Set(answers.map((r) => r.result.structuredContent.task.id)).size).toBe(12);

      // A JSON-RPC batch is answered as a list, in order; notifications alone are accepted with 202.
      const batch = await post(http.url, [
        { jsonrpc: '2.0', id: 'a', method: 'tools/list' },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 'b', method: 'ping' },
      ]);
      const listed = (await batch.json()) as Array<{ id: string; result: Record<string, unknown> }>;
      expect(listed.map((r) => r.id)).toEqual(['a', 'b']);
      expect((listed[0]?.result.tools as unknown[]).length).toBeGreaterThan(20);
      expect((await post(http.url, { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);

      // Bad bodies and unknown protocol versions are refused with a JSON-RPC error that says why.
      const bad = await post(http.url, { hello: 'world' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/JSON-RPC 2.0 message/);
      const notJson = await post(http.url, '{"jsonrpc": ');
      expect(notJson.status).toBe(400);
      const old = await post(
        http.url,
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { 'mcp-protocol-version': '1999-01-01' },
      );
      expect(old.status).toBe(400);
      expect(((await old.json()) as { error: { message: string } }).error.message).toMatch(
        /unsupported protocol version/,
      );
    } finally {
      await http.close();
    }
  });
});
