/**
 * Bounded answers under faults, and nothing lost or doubled across them:
 * - no worker polls the task queue: NO_WORKER (naming the command that starts one) within 5 s, for a change and a
 *   read; once a worker runs, the change retried with the same request_id is applied once;
 * - the Temporal server is killed mid-flow: TEMPORAL_UNAVAILABLE within 3 s, /healthz within 1 s; when it is back
 *   (same database), the calls retried with their request_ids complete every task exactly once.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { LazyClient } from '../src/client/connection';
import { breakerStartOptions } from '../src/client/breakers';
import { createGoalsClient } from '../src/client/goals';
import * as breaker from '../src/domain/breaker';
import { breakerWorkflowId } from '../src/workflows/messages';
import { loadConfig } from '../src/config';
import { freePort, startDevServer, type DevServer } from '../src/dev-server';
import { serveHttp } from '../src/mcp/http';
import { createServer } from '../src/mcp/server';
import { startWorker, type WorkerHandle } from '../src/worker';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { call, eventually, ok, quietRuntime, startHarness, uid } from './support/harness';

beforeAll(() => quietRuntime());

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t };
}

function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

test('no worker: NO_WORKER within 5 s for a change and a read; the change retried with its request_id applies once', async () => {
  const h = await startHarness({ worker: false });
  let worker: WorkerHandle | undefined;
  try {
    const mcp = await h.mcp('lonely');
    const goalId = uid('noworker');
    await ok(mcp, 'create_goal', { name: 'no worker', goal_id: goalId }); // starting a workflow needs no worker
    const change = await timed(() =>
      call(mcp, 'create_task', { goal_id: goalId, title: 'waits for a worker', request_id: 'nw-1' }),
    );
    expect(change.value.error?.code).toBe('NO_WORKER');
    expect(change.value.error?.message).toContain('agent-runtime worker');
    expect(change.value.error?.message).toContain('same request_id');
    expect(change.ms).toBeLessThan(5_000);
    const read = await timed(() => call(mcp, 'get_goal', { goal_id: goalId }));
    expect(read.value.error?.code).toBe('NO_WORKER');
    expect(read.ms).toBeLessThan(5_000);
    // list rows come from Visibility, not from the goals' workflows: they answer with no worker at all
    const row = await eventually(async () => {
      const listed = await call(mcp, 'list_goals', {});
      return listed.data?.goals.find((g: { id: string }) => g.id === goalId);
    });
    expect(row).toMatchObject({ name: 'no worker', status: 'active', task_counts: { total: 0 } });

    worker = await startWorker(h.config);
    const retried = await ok(mcp, 'create_task', { goal_id: goalId, title: 'waits for a worker', request_id: 'nw-1' });
    const tasks = await ok(mcp, 'list_tasks', { goal_id: goalId });
    expect(tasks.tasks.map((t: { id: string }) => t.id)).toEqual([retried.id]);
  } finally {
    await worker?.shutdown();
    await h.close();
  }
});

test('a goal and a breaker on a task queue no worker polls (started before the queue changed): NO_WORKER naming that queue, and a worker on it answers the retry', async () => {
  const h = await startHarness(); // this server: its own task queue, with a worker
  const elsewhere = uid('old-queue'); // where the workflows below started, and no worker ever polled
  let worker: WorkerHandle | undefined;
  try {
    const mcp = await h.mcp('mover');
    const before = createGoalsClient({
      client: () => h.lazy.get(),
      taskQueue: elsewhere,
      address: h.config.temporalAddress,
    });
    const goalId = uid('moved');
    await before.createGoal({ name: 'made before the move', goalId, tasks: [{ title: 'left behind' }] });
    // A breaker tripped there: it reads OPEN from its memo, and a change to it says where it waits.
    const agent = uid('moved-agent');
    const tripped = breaker.trip(breaker.newBreakerState(agent, Date.now()), 'before the move', Date.now());
    await (
      await h.lazy.get()
    ).workflow.start('circuitBreakerWorkflow', {
      workflowId: breakerWorkflowId(agent),
      taskQueue: elsewhere,
      args: [{ state: tripped }],
      ...breakerStartOptions(tripped),
    });

    const claim = await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'someone', request_id: 'mv-1' });
    expect(claim.error?.code).toBe('NO_WORKER');
    expect(claim.error?.message).toContain(`runs on task queue "${elsewhere}", which no worker polls`);
    expect(claim.error?.message).toContain(`AGENT_RUNTIME_TASK_QUEUE=${elsewhere} agent-runtime worker`);
    expect((await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).error?.code).toBe('BREAKER_OPEN');
    const reset = await call(mcp, 'circuit_breaker_reset', { agent_id: agent });
    expect(reset.error?.code).toBe('NO_WORKER');
    expect(reset.error?.message).toContain(`temporal workflow terminate -w breaker-${agent}`);

    // A worker on the old queue: the claim retried with its request_id is answered, once.
    worker = await startWorker({ ...h.config, taskQueue: elsewhere });
    const retried = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'someone', request_id: 'mv-1' });
    expect(retried).toMatchObject({ claimed: true, title: 'left behind' });
    expect(await ok(mcp, 'circuit_breaker_reset', { agent_id: agent })).toMatchObject({ state: 'CLOSED' });
  } finally {
    await worker?.shutdown();
    await h.close();
  }
});

test('Temporal killed mid-flow: TEMPORAL_UNAVAILABLE within 3 s, /healthz within 1 s; after it is back every task completes once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-'));
  const port = await freePort();
  const dbFile = path.join(dir, 'temporal.db');
  let server: DevServer | undefined = await startDevServer({ dbFile, port });
  const config = { ...loadConfig({ TEMPORAL_ADDRESS: server.address }), taskQueue: uid('q-faults') };
  const worker = await startWorker(config);
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  const httpPort = await freePort();
  const srv = await serveHttp({
    host: '127.0.0.1',
    port: httpPort,
    goals,
    toolsets: ['all'],
    health: () => goals.health(),
  });
  const mcpServer = createServer({ goals, toolsets: ['all'], context: { agentId: 'survivor' } });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await mcpServer.connect(serverSide);
  const mcp = new McpClient({ name: 'faults', version: '1' });
  await mcp.connect(clientSide);
  try {
    // A worker shows in /healthz once its first poll reaches the server, a moment after it starts.
    const healthy = await eventually(async () => {
      const h = await healthz(httpPort);
      return h.body.workers === 1 && h;
    }, 10_000);
    expect(healthy).toMatchObject({ status: 200, body: { ok: true, temporal: true, workers: 1 } });
    const goalId = uid('killed');
    await ok(mcp, 'create_goal', { name: 'killed mid-flow', goal_id: goalId });
    for (let i = 0; i < 6; i++) await ok(mcp, 'create_task', { goal_id: goalId, title: `t${i}`, request_id: `c${i}` });
    const first = await ok(mcp, 'get_next_task', { goal_id: goalId, request_id: 'claim-0' });
    await ok(mcp, 'update_task_status', { task_id: first.id, status: 'completed', request_id: 'done-0' });

    await server.stop(); // the server goes away; the worker and the clients stay
    server = undefined;
    const down = await timed(() => call(mcp, 'get_next_task', { goal_id: goalId, request_id: 'claim-1' }));
    expect(down.value.error?.code).toBe('TEMPORAL_UNAVAILABLE');
    expect(down.ms).toBeLessThan(3_000);
    const downHealth = await timed(() => healthz(httpPort));
    expect(downHealth.value.status).toBe(503);
    expect(downHealth.value.body).toMatchObject({ ok: false, temporal: false });
    expect(downHealth.ms).toBeLessThan(1_000);

    server = await startDevServer({ dbFile, port });
    // Each call retried with its request_id until it answers; then the rest of the work.
    const retry = async (name: string, args: Record<string, unknown>) => {
      for (let i = 0; ; i++) {
        const r = await call(mcp, name, args);
        if (!r.error) return r.data;
        if (!['TEMPORAL_UNAVAILABLE', 'NO_WORKER'].includes(r.error.code) || i > 60) throw new Error(r.error.message);
        await new Promise((res) => setTimeout(res, 500));
      }
    };
    const held = await retry('get_next_task', { goal_id: goalId, request_id: 'claim-1' });
    await retry('update_task_status', { task_id: held.id, status: 'completed', request_id: 'done-1' });
    for (let k = 2; ; k++) {
      const c = await retry('get_next_task', { goal_id: goalId, request_id: `claim-${k}` });
      if (!c.claimed) break;
      await retry('update_task_status', { task_id: c.id, status: 'completed', request_id: `done-${k}` });
    }
    const goal = (await ok(mcp, 'get_goal', { goal_id: goalId })).goal;
    expect(goal.task_counts).toMatchObject({ total: 6, completed: 6 });
    const events = await goals.queryGoal(goalId, (await import('../src/workflows/messages')).getEventsQuery, {
      limit: 200,
    });
    const completions = events.filter((e) => e.type === 'task_completed').map((e) => e.task_id);
    expect(completions.length).toBe(6);
    expect(new Set(completions).size).toBe(6);
  } finally {
    await mcp.close();
    await srv.close();
    await worker.shutdown().catch(() => undefined);
    await lazy.close(); // waits for the SDK's retries of calls made during the outage (see RetryGuard)
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
