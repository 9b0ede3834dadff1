/**
 * Continue-as-new under load, on a server that suggests it every 120 events: a goal worked by 8 agents at once (with
 * pickup-lease timers running) while refused calls keep arriving, continues as new several times; every task is
 * completed exactly once, no call fails, and every closed run's history replays without a nondeterminism error.
 *
 * The two defects this holds down: a workflow task that carried only refused Updates (which history does not keep)
 * woke the goal's main loop on Temporal's suggestion, so its lease timer's cancellation and the continue-as-new were
 * commands no replay made (src/workflows/continue-as-new.ts); and an Update the server dropped because the task that
 * carried it failed (a continue-as-new refused because a timer fired meanwhile) reached the caller as an error
 * instead of being sent again with its id (updateRetryInterceptor in src/client/connection.ts).
 *
 * Also: an agent's long-polls (fetch_inbox, mark_updates) waiting when its own workflow continues as new go on in the
 * new run instead of ending early and empty (untilDeadline in src/client/agents.ts).
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { Worker } from '@temporalio/worker';
import { workflowSource } from '../src/worker';
import { LazyClient } from '../src/client/connection';
import { createGoalsClient } from '../src/client/goals';
import { loadConfig } from '../src/config';
import { freePort, startDevServer, type DevServer } from '../src/dev-server';
import { createServer } from '../src/mcp/server';
import { startWorker, type WorkerHandle } from '../src/worker';
import { agentWorkflowId, goalWorkflowId } from '../src/workflows/messages';
import { call, closedRuns, ok, quietRuntime, uid } from './support/harness';

const SUGGEST_AT = 120;
// Enough work for several runs although looping agents' claims mostly ride on their completions (prefetch).
const TASKS = 400;
const AGENTS = 8;

let server: DevServer;
let worker: WorkerHandle;
let lazy: LazyClient;
const mcps: McpClient[] = [];

beforeAll(async () => {
  quietRuntime();
  server = await startDevServer({
    port: await freePort(),
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_AT },
  });
  const config = { ...loadConfig({ TEMPORAL_ADDRESS: server.address }), taskQueue: uid('q-can') };
  worker = await startWorker(config);
  lazy = new LazyClient(config);
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue: config.taskQueue, address: server.address });
  for (let i = 0; i <= AGENTS; i++) {
    const mcpServer = createServer({ goals, toolsets: ['all'], context: { agentId: `can-agent-${i}` } });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcpServer.connect(serverSide);
    const mcp = new McpClient({ name: 'continue-as-new', version: '1' });
    await mcp.connect(clientSide);
    mcps.push(mcp);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(mcps.map((m) => m.close()));
  await worker?.shutdown();
  await lazy?.close();
  await server?.stop();
});

test('a goal that continues as new under load with refused calls in between: nothing lost or doubled, every run replays', async () => {
  const [first] = mcps;
  if (!first) throw new Error('no MCP client');
  const goalId = uid('can');
  await ok(first, 'create_goal', { name: 'continues as new', goal_id: goalId });
  const ids: string[] = [];
  for (let i = 0; i < TASKS; i += 20) {
    const batch = Array.from({ length: 20 }, (_, k) => ({ title: `t${i + k}` }));
    ids.push(...(await ok(first, 'decompose_goal', { goal_id: goalId, tasks: batch })).tasks_created);
  }

  // Refused calls all along (completing a task this agent does not hold): the goal's validator refuses each, so each is
  // a workflow task that history does not keep.
  let working = true;
  let refused = 0;
  const noise = (async () => {
    const mcp = mcps[AGENTS] as McpClient;
    while (working) {
      const r = await call(mcp, 'update_task_status', { task_id: ids[0], status: 'completed' });
      if (r.error) refused += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  const doneBy = new Map<string, number>();
  const errors: string[] = [];
  await Promise.all(
    mcps.slice(0, AGENTS).map(async (mcp, a) => {
      for (;;) {
        const claimed = await call(mcp, 'get_next_task', { goal_id: goalId });
        if (claimed.error) {
          errors.push(`claim: ${claimed.error.code} ${claimed.error.message}`);
          continue;
        }
        if (!claimed.data?.claimed) return;
        const id = claimed.data.id as string;
        const done = await call(mcp, 'update_task_status', { task_id: id, status: 'completed' });
        if (done.error) errors.push(`complete: ${done.error.code} ${done.error.message}`);
        else if (doneBy.has(id)) errors.push(`${id} completed twice`);
        else doneBy.set(id, a);
      }
    }),
  );
  working = false;
  await noise;

  expect(errors).toEqual([]);
  expect(doneBy.size).toBe(TASKS);
  expect(refused).toBeGreaterThan(0);
  const goal = (await ok(first, 'get_goal', { goal_id: goalId })).goal;
  expect(goal.task_counts).toMatchObject({ total: TASKS, completed: TASKS });

  // Every closed run replays against the workflow code: the chain of runs, walked back from the current one.
  const histories = await closedRuns(await lazy.get(), goalWorkflowId(goalId));
  expect(histories.length).toBeGreaterThanOrEqual(3);
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories(
    { ...workflowSource(), replayName: 'continue-as-new-test' },
    histories,
  )) {
    if (r.error) failures.push(`${r.workflowId}: ${String(r.error).slice(0, 300)}`);
  }
  expect(failures).toEqual([]);
}, 300_000);

test('a fetch_inbox long-poll goes on in the new run when the agent continues as new: no wait ends early, empty', async () => {
  const [mcp] = mcps;
  if (!mcp) throw new Error('no MCP client');
  const reader = uid('can-reader');
  const sender = uid('can-sender');
  await ok(mcp, 'register_agent', { name: reader, capabilities: ['read'] });
  await ok(mcp, 'register_agent', { name: sender, capabilities: ['write'] });
  let since = 0;
  const endedEmpty: number[] = [];
  for (let i = 0; i < 40; i++) {
    const waiting = ok(mcp, 'fetch_inbox', { agent_id: reader, since, wait_seconds: 30 });
    await new Promise((resolve) => setTimeout(resolve, 30)); // the long-poll reaches the workflow
    await ok(mcp, 'send_message', { sender, to: [reader], subject: 'can', body: `message ${i}` });
    const got = await waiting;
    if (got.count !== 1) endedEmpty.push(i);
    since = (got.messages as Array<{ seq: number }>).at(-1)?.seq ?? since;
  }
  expect(endedEmpty).toEqual([]);
  // The waits did span runs: the reader's workflow continued as new on the way.
  expect((await closedRuns(await lazy.get(), agentWorkflowId(reader))).length).toBeGreaterThanOrEqual(2);
}, 120_000);

test('a mark_updates long-poll goes on in the new run when the agent continues as new: no wait ends early, empty', async () => {
  const [mcp] = mcps;
  if (!mcp) throw new Error('no MCP client');
  const workspace = uid('can-marks');
  await ok(mcp, 'create', { workspace, title: 'seed the workspace' });
  const { worker_id: watcher } = await ok(mcp, 'connect', { workspace, worker_id: uid('can-watcher') });
  const { worker_id: marker } = await ok(mcp, 'connect', { workspace, worker_id: uid('can-marker') });
  const endedEmpty: number[] = [];
  for (let i = 0; i < 40; i++) {
    const waiting = ok(mcp, 'mark_updates', { workspace, agent: watcher, wait_seconds: 30 });
    await new Promise((resolve) => setTimeout(resolve, 30)); // the long-poll reaches the watcher's workflow
    await ok(mcp, 'mark_file', { workspace, agent: marker, file: `src/file-${i}.ts` });
    const got = await waiting;
    if (got.count === 0) endedEmpty.push(i);
  }
  expect(endedEmpty).toEqual([]);
  expect((await closedRuns(await lazy.get(), agentWorkflowId(watcher as string))).length).toBeGreaterThanOrEqual(2);
}, 120_000);
