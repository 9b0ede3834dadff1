/**
 * Failover between workers: two worker processes on one task queue; the one that has the goal cached (its sticky
 * queue) is killed with SIGKILL mid-flow, between two of the goal's workflow tasks. The next call on the goal is
 * answered by the other worker after the 1 s sticky timeout workers set, not the SDK default's 10 s (about 1.3 s
 * after the kill on an idle machine, up to 2–4 s with the rest of the suite beside it on two cores: the bound below
 * is set between the two, not at the figure), and the work continues with nothing lost or doubled.
 */
import type { ChildProcess } from 'node:child_process';
import { goalWorkflowId } from '../src/workflows/messages';
import { eventually, killHard, ok, spawnWorker, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ worker: false });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => killHard(w)));
  await h.close();
});

async function pollers(): Promise<number> {
  return (await h.goals.health()).workers ?? 0;
}

test('a worker killed mid-flow: the next call on its goal is answered by the other worker well before the SDK default 10 s', async () => {
  const mcp = await h.mcp('failover-agent');
  // The first worker alone: every goal it touches is cached there (sticky to it).
  const first = spawnWorker(h.config);
  workers.push(first);
  await eventually(async () => (await pollers()) > 0, 60_000);
  const goalId = uid('failover');
  await ok(mcp, 'create_goal', { name: 'failover', goal_id: goalId });
  for (let i = 0; i < 6; i++) await ok(mcp, 'create_task', { goal_id: goalId, title: `t${i}`, request_id: `c${i}` });
  const held = await ok(mcp, 'get_next_task', { goal_id: goalId, request_id: 'claim-0' });
  await ok(mcp, 'update_task_status', { task_id: held.id, status: 'completed', request_id: 'done-0' });

  const second = spawnWorker(h.config);
  workers.push(second);
  await eventually(async () => (await pollers()) > 1, 60_000);
  // Killed between two of the goal's workflow tasks: none in flight and no timer due soon (the goal refreshes its
  // search attributes 2 s after a change). A workflow task the dying worker had already taken waits for the workflow
  // task timeout (10 s) instead, whatever the sticky timeout: docs/DECISIONS.md, "Failover between workers".
  const goal = (await h.lazy.get()).workflow.getHandle(goalWorkflowId(goalId));
  await eventually(async () => {
    const events = (await goal.fetchHistory()).events ?? [];
    const ended = new Set(events.map((e) => (e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes)?.timerId));
    const soon = events.filter((e) => {
      const t = e.timerStartedEventAttributes;
      return t && !ended.has(t.timerId) && Number(t.startToFireTimeout?.seconds ?? 0) < 10;
    });
    const scheduled = events.filter((e) => e.workflowTaskScheduledEventAttributes).length;
    const closed = events.filter(
      (e) =>
        e.workflowTaskCompletedEventAttributes ??
        e.workflowTaskTimedOutEventAttributes ??
        e.workflowTaskFailedEventAttributes,
    ).length;
    return soon.length === 0 && scheduled === closed;
  }, 30_000);

  await killHard(first);
  const killedAt = Date.now();
  const next = await ok(mcp, 'get_next_task', { goal_id: goalId, request_id: 'claim-1' });
  const answeredIn = Date.now() - killedAt;
  expect(next.claimed).toBe(true);
  expect(answeredIn).toBeLessThan(6_000); // with the SDK default it would be 10 s or more

  await ok(mcp, 'update_task_status', { task_id: next.id, status: 'completed', request_id: 'done-1' });
  for (let k = 2; ; k++) {
    const c = await ok(mcp, 'get_next_task', { goal_id: goalId, request_id: `claim-${k}` });
    if (!c.claimed) break;
    await ok(mcp, 'update_task_status', { task_id: c.id, status: 'completed', request_id: `done-${k}` });
  }
  const done = (await ok(mcp, 'get_goal', { goal_id: goalId })).goal;
  expect(done.task_counts).toMatchObject({ total: 6, completed: 6 });
  expect(done.status).toBe('completed');
}, 120_000);
