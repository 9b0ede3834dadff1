/**
 * Handoff in one step: an agent long-polling a goal (get_next_task with wait_seconds) waits inside the goal workflow
 * and is handed the task a completion readies in the same workflow task that applies the completion — with many
 * waiters, and with the worker killed while they wait.
 */
import type { temporal } from '@temporalio/proto';
import { WorkflowUpdateStage } from '@temporalio/client';
import { completeTaskUpdate, goalWorkflowId, waitForTaskUpdate } from '../src/workflows/messages';
import { callerKey } from '../src/domain/request-ids';
import { createGoalsClient } from '../src/client/goals';
import { ok, uid, useWorkerProcess, eventually } from './support/harness';

const w = useWorkerProcess();

type Event = temporal.api.history.v1.IHistoryEvent;
async function history(goalId: string): Promise<Event[]> {
  const client = await w.h.lazy.get();
  return (await client.workflow.getHandle(goalWorkflowId(goalId)).fetchHistory()).events ?? [];
}
const acceptedWaits = (events: Event[]) =>
  events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'waitForTask')
    .length;

/** The id of the WorkflowTaskCompleted event that wrote an Update's completion. */
function taskThatCompleted(events: Event[], updateId: string): number {
  let lastTaskCompleted = -1;
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) lastTaskCompleted = Number(e.eventId);
    const id = e.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId;
    if (id && callerKey(id) === updateId) return lastTaskCompleted; // the Update id is `<request_id>~<digest>`
  }
  throw new Error(`update ${updateId} did not complete`);
}

/** A goal of two tasks, the second waiting on the first. */
const chainOfTwo = (goalId: string) =>
  w.h.goals.createGoal({ goalId, name: 'chain', tasks: [{ title: 'first' }, { title: 'second', dependencies: [0] }] });

test('a completion hands the unblocked task to the waiting agent in the same workflow task', async () => {
  const goalId = uid('handoff');
  await chainOfTwo(goalId);
  const mcp = w.mcp;
  const first = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'A' });
  const waiting = ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'B', wait_seconds: 30, request_id: 'b-waits' });
  await eventually(async () => acceptedWaits(await history(goalId)) === 1);
  await ok(mcp, 'update_task_status', {
    task_id: first.id,
    status: 'completed',
    agent_id: 'A',
    request_id: 'a-completes',
  });
  const second = await waiting;
  expect(second).toMatchObject({ claimed: true, id: `${goalId}/2`, agent_id: 'B', status: 'claimed' });
  const events = await history(goalId);
  expect(taskThatCompleted(events, 'b-waits')).toBe(taskThatCompleted(events, 'a-completes'));
});

test("the completion's answer carries the claim it handed over, so a waiting client in the same process answers at once", async () => {
  const goalId = uid('riders');
  await chainOfTwo(goalId);
  const first = await w.h.goals.claimNextTask({ goalId, agentId: 'A' });
  const client = await w.h.lazy.get();
  const handle = client.workflow.getHandle(goalWorkflowId(goalId));
  const wait = await handle.startUpdate(waitForTaskUpdate, {
    args: [{ agentId: 'B', waitMs: 30_000 }],
    updateId: 'b-waits-raw',
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  const complete = { taskId: first.task?.id as string, agentId: 'A', result: 'done' };
  const answer = (await handle.executeUpdate(completeTaskUpdate, {
    args: [complete],
    updateId: 'a-done-raw',
  })) as Record<string, unknown>;
  const waited = await wait.result();
  expect(waited.task).toMatchObject({ id: `${goalId}/2`, agent_id: 'B' });
  expect(answer.handed).toEqual([{ id: 'b-waits-raw', claim: waited }]);

  // Through the tools the answer never shows another agent's claim (nor its lease token): nothing of task 2.
  const goal2 = uid('riders');
  await chainOfTwo(goal2);
  const held = await ok(w.mcp, 'get_next_task', { goal_id: goal2, agent_id: 'A' });
  const waiting = ok(w.mcp, 'get_next_task', { goal_id: goal2, agent_id: 'B', wait_seconds: 30 });
  await eventually(async () => acceptedWaits(await history(goal2)) === 1);
  const done = await ok(w.mcp, 'update_task_status', { task_id: held.id, status: 'completed', agent_id: 'A' });
  const handed = await waiting;
  expect(handed).toMatchObject({ claimed: true, id: `${goal2}/2`, agent_id: 'B' });
  expect(done).not.toHaveProperty('handed');
  expect(JSON.stringify(done)).not.toContain(`${goal2}/2`);
});

test('16 waiting agents get 16 distinct tasks when they appear; the rest are told no task came', async () => {
  const goalId = uid('waiters');
  await w.h.goals.createGoal({ goalId, name: 'waiters' });
  const agents = Array.from({ length: 20 }, (_, i) => `w${i}`);
  const claims = agents.map((a) => ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: a, wait_seconds: 8 }));
  await eventually(async () => acceptedWaits(await history(goalId)) === agents.length);
  await w.h.goals.createTasks(
    goalId,
    Array.from({ length: 16 }, (_, i) => ({ title: `t${i}` })),
  );
  const results = await Promise.all(claims);
  const won = results.filter((r) => r.claimed);
  expect(won).toHaveLength(16);
  expect(new Set(won.map((r) => r.id)).size).toBe(16);
  expect(new Set(won.map((r) => r.agent_id)).size).toBe(16);
  for (const r of results.filter((x) => !x.claimed)) expect(r.message).toMatch(/No tasks available/);
});

test('agents waiting while the worker is killed are handed tasks once a worker is back', async () => {
  const goalId = uid('waitcrash');
  await w.h.goals.createGoal({ goalId, name: 'crash while waiting' });
  const claims = ['x', 'y', 'z'].map((a) =>
    ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: a, wait_seconds: 60 }),
  );
  await eventually(async () => acceptedWaits(await history(goalId)) === 3);
  await w.kill();
  const created = w.h.goals.createTasks(goalId, [{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
  w.start();
  await created;
  const results = await Promise.all(claims);
  expect(results.map((r) => r.claimed)).toEqual([true, true, true]);
  expect(new Set(results.map((r) => r.id)).size).toBe(3);
  const goal = await w.h.goals.getGoal(goalId);
  expect(goal.tasks.map((t) => t.status)).toEqual(['claimed', 'claimed', 'claimed']);
});

test('each wait ends at its own deadline, whatever waits came before it or were served early', async () => {
  const goalId = uid('deadlines');
  await w.h.goals.createGoal({ goalId, name: 'deadlines' });
  /** A wait, with how long it took in seconds. */
  const wait = async (agent: string, seconds: number) => {
    const t = Date.now();
    const r = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: agent, wait_seconds: seconds });
    return { r, took: (Date.now() - t) / 1000 };
  };
  // Served at once: its 10 s deadline timer stays armed.
  const served = wait('served', 10);
  await eventually(async () => acceptedWaits(await history(goalId)) === 1);
  await w.h.goals.createTasks(goalId, [{ title: 'first' }]);
  expect((await served).r).toMatchObject({ claimed: true, agent_id: 'served' });

  const long = wait('long', 30);
  const after = wait('after', 11); // due after that timer fires
  const short = wait('short', 2); // due before it
  const ended = await Promise.all([short, after]);
  for (const [{ r, took }, seconds] of [
    [ended[0], 2],
    [ended[1], 11],
  ] as const) {
    expect(r).toMatchObject({ claimed: false });
    expect(r.message).toMatch(/No tasks available/);
    expect(took).toBeGreaterThanOrEqual(seconds - 0.05);
    expect(took).toBeLessThan(seconds + 4); // not at some later deadline
  }
  // The long wait is still there, and is handed the next task.
  await w.h.goals.createTasks(goalId, [{ title: 'second' }]);
  expect((await long).r).toMatchObject({ claimed: true, id: `${goalId}/2`, agent_id: 'long' });
});

test('a claim waiting across goals is woken by a task this process readies, not at its next look', async () => {
  // Looks 60 s apart: without the wake, the wait would find the task only at its 30 s deadline.
  const goals = createGoalsClient({
    client: () => w.h.lazy.get(),
    taskQueue: w.h.config.taskQueue,
    address: w.h.config.temporalAddress,
    crossGoalPollMs: { first: 60_000, max: 60_000 },
  });
  const scope = uid('roam');
  const waiting = goals.claimNextTask({ agentId: 'roamer', scope, waitSeconds: 30 });
  await new Promise((r) => setTimeout(r, 500)); // its first look found nothing
  const t = Date.now();
  const goal = await goals.createGoal({ goalId: uid('roam'), name: 'elsewhere', tasks: [{ title: 'found', scope }] });
  const r = await waiting;
  expect(r).toMatchObject({ claimed: true, goal_id: goal.id, task: { title: 'found', agent_id: 'roamer' } });
  expect(Date.now() - t).toBeLessThan(15_000);
});
