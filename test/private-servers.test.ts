/**
 * Tests that need a Temporal dev server of their own.
 *
 * A goal workflow continues-as-new when Temporal suggests it, carrying its state and the update ids it applied,
 * so a retried call after the new run began is answered, not applied twice. A private dev server suggests
 * continue-as-new after 60 history events to make that happen in seconds.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { ensureSearchAttributes } from '../src/client/admin';
import { LazyClient } from '../src/client/connection';
import { createGoalsClient } from '../src/client/goals';
import { startDevServer, type DevServer } from '../src/dev-server';
import { startWorker, type WorkerHandle } from '../src/worker';
import { goalWorkflowId } from '../src/workflows/messages';

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
