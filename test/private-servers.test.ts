/**
 * Tests that need a Temporal dev server of their own.
 *
 * A goal workflow continues-as-new when Temporal suggests it, carrying its state and the update ids it applied,
 * so a retried call after the new run began is answered, not applied twice. A private dev server suggests
 * continue-as-new after 60 history events to make that happen in seconds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { ensureSearchAttributes } from '../src/client/admin';
import { LazyClient } from '../src/client/connection';
import { createGoalsClient } from '../src/client/goals';
import { startDevServer, type DevServer } from '../src/dev-server';
import { startWorker, type WorkerHandle } from '../src/worker';
import { goalWorkflowId } from '../src/workflows/messages';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { createServer } from '../src/mcp/server';
import type { GoalsClient } from '../src/client/goals';
import { closedRuns, eventually, killHard, ROOT } from './support/harness';

async function serverFor(goals: GoalsClient): Promise<McpClient> {
  const server = createServer({ goals, toolsets: ['task-graph'] });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new McpClient({ name: 'can-test', version: '1' });
  await client.connect(clientSide);
  return client;
}

async function tool(mcp: McpClient, name: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await mcp.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  return r.structuredContent as Record<string, any>;
}

let server: DevServer;
let worker: WorkerHandle;
let lazy: LazyClient;

beforeAll(async () => {
  server = await startDevServer({
    binary: process.env.TEMPORAL_CLI_PATH,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 60 },
  });
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed by another test file in this process
  }
  const config = { ...loadConfig({ TEMPORAL_ADDRESS: server.address }), taskQueue: 'can-test' };
  worker = await startWorker(config);
  lazy = new LazyClient(config);
});
afterAll(async () => {
  await worker?.shutdown();
  await lazy?.close();
  await server?.stop();
});

test('state and applied update ids survive continue-as-new', async () => {
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue: 'can-test', address: server.address });
  const goal = await goals.createGoal({ name: 'long lived', leaseSeconds: 600 });
  await goals.createTasks(
    goal.id,
    Array.from({ length: 40 }, (_, i) => ({ title: `t${i}` })),
  );

  const first = await goals.claimNextTask({ agentId: 'a', goalId: goal.id, requestId: 'claim-before-can' });
  expect(first.claimed).toBe(true);

  const client = await lazy.get();
  const handle = client.workflow.getHandle(goalWorkflowId(goal.id));
  const firstRun = (await handle.describe()).runId;
  for (let i = 0; i < 20; i++) {
    const c = await goals.claimNextTask({ agentId: `w${i}`, goalId: goal.id });
    await goals.setTaskStatus({ taskId: c.task!.id, status: 'completed', agentId: `w${i}`, result: `r${i}` });
  }
  const after = await handle.describe();
  expect(after.runId).not.toBe(firstRun);
  expect(after.historyLength).toBeLessThan(100);

  // The retried claim is answered from the carried update ids: same task, no second claim.
  const retried = await goals.claimNextTask({ agentId: 'a', goalId: goal.id, requestId: 'claim-before-can' });
  expect(retried.task?.id).toBe(first.task?.id);
  const view = await goals.getGoal(goal.id);
  expect(view.goal.task_counts).toMatchObject({ total: 40, completed: 20, claimed: 1, ready: 19 });
  expect(view.tasks.filter((t) => t.result !== null)).toHaveLength(20);
  // The lease timer is re-armed in the new run: the held task still has its lease.
  expect(view.tasks.find((t) => t.id === first.task?.id)?.lease_expires_at).not.toBeNull();
});

test('a 10,000-task workspace and its detail shards continue as new with nothing lost or applied twice', async () => {
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue: 'can-test', address: server.address });
  const mcp = await serverFor(goals);
  const workspace = `can-${Date.now()}`;
  const children = Array.from({ length: 9_999 }, (_, n) => ({ title: `item ${n}`, description: `details of ${n}` }));
  await tool(mcp, 'create_tree', { workspace, tree: { title: 'backlog', join_mode: 'also', children } });
  const { worker_id: w } = await tool(mcp, 'connect', { workspace, worker_id: 'can-worker' });
  const first = await tool(mcp, 'claim', {
    workspace,
    worker_id: w,
    request_id: 'ws-claim-before-can',
    files: ['a.ts'],
  });
  const client = await lazy.get();
  const handle = client.workflow.getHandle(`workspace-${workspace}`);
  const firstRun = (await handle.describe()).runId;
  for (let i = 0; i < 15; i++) {
    const c = await tool(mcp, 'claim', { workspace, worker_id: `w${i}` });
    await tool(mcp, 'attach', { workspace, agent: `w${i}`, task: c.task.id, type: 'note', content: `n${i}` });
    await tool(mcp, 'update', { workspace, worker_id: `w${i}`, task: c.task.id, status: 'completed' });
  }
  expect((await handle.describe()).runId).not.toBe(firstRun);
  // The retried claim is answered from the carried update ids: the same task, no second claim.
  const retried = await tool(mcp, 'claim', {
    workspace,
    worker_id: w,
    request_id: 'ws-claim-before-can',
    files: ['a.ts'],
  });
  expect(retried.task.id).toBe(first.task.id);
  const counts = await tool(mcp, 'query', {
    workspace,
    sql: 'SELECT status, count(*) AS n, count(description) AS described FROM tasks GROUP BY status ORDER BY status',
  });
  expect(counts.rows).toEqual([
    { status: 'completed', n: 15, described: 15 },
    { status: 'pending', n: 9_984, described: 9_983 },
    { status: 'working', n: 1, described: 1 },
  ]);
  const notes = await tool(mcp, 'query', {
    workspace,
    sql: "SELECT count(*) AS n FROM attachments WHERE attachment_type = 'note'",
  });
  expect(notes.rows).toEqual([{ n: 15 }]);
  // The held claim kept its lease and its mark across the new run.
  expect((await tool(mcp, 'list_marks', { workspace, agent: w })).count).toBe(1);
  expect((await tool(mcp, 'get', { workspace, task: first.task.id })).worker_id).toBe(w);
}, 240_000);

test('search attributes are registered on a Temporal that lacks them, once', async () => {
  const bare = await startDevServer({ binary: process.env.TEMPORAL_CLI_PATH, searchAttributes: false });
  const lazyBare = new LazyClient(loadConfig({ TEMPORAL_ADDRESS: bare.address }));
  try {
    const client = await lazyBare.get();
    expect(await ensureSearchAttributes(client, 'default')).toEqual(expect.arrayContaining(['ArEntity', 'ArAgents']));
    const listed = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(expect.arrayContaining(['ArEntity', 'ArScopes']));
    expect(await ensureSearchAttributes(client, 'default')).toEqual([]);
  } finally {
    await lazyBare.close();
    await bare.stop();
  }
});

test('a goal past 512 KB continues as new without a payload-size warning in its worker’s log', async () => {
  // A worker process of its own, so its log (Temporal's core writes its warnings there) can be read.
  const taskQueue = 'payload-warn';
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'worker.js')], {
    // This server's own namespace (a run against an external server sets another one in the environment).
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: 'default',
      AGENT_RUNTIME_TASK_QUEUE: taskQueue,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue, address: server.address });
  try {
    await eventually(async () => ((await goals.health()).workers ?? 0) > 0, 60_000);
    const goal = await goals.createGoal({ name: 'heavy' });
    // 150 tasks with 5,000-character descriptions: about 800 KB of state, well within the goal's budget.
    for (let n = 0; n < 3; n++) {
      const specs = Array.from({ length: 50 }, (_, i) => ({ title: `t${n}.${i}`, description: 'd'.repeat(5_000) }));
      await goals.createTasks(goal.id, specs);
    }
    // Worked call by call past the 60 events after which this server suggests continuing as new.
    for (let i = 0; i < 20; i++) {
      const c = await goals.claimNextTask({ agentId: 'heavy', goalId: goal.id });
      await goals.setTaskStatus({ taskId: c.task?.id ?? '', status: 'completed', agentId: 'heavy' });
    }
    expect((await closedRuns(await lazy.get(), goalWorkflowId(goal.id))).length).toBeGreaterThanOrEqual(1);
    expect((await goals.getGoal(goal.id)).tasks.filter((t) => t.status === 'completed')).toHaveLength(20);
    expect(log).not.toContain('TMPRL1103');
  } finally {
    await goals.drain(500); // a reservation its last completion left goes back before the server stops
    await killHard(child);
  }
}, 120_000);
