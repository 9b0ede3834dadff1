/**
 * Prefetch: an agent looping get_next_task → work → complete on one goal has its next task claimed with its
 * completion, and its next get_next_task is answered from that claim without a round trip — an ordinary, fenced
 * claim; waiting agents come first; an unused reservation goes back without counting an attempt; many agents and a
 * worker killed mid-run lose nothing and claim nothing twice.
 */
import type { temporal } from '@temporalio/proto';
import { getEventsQuery, goalWorkflowId } from '../src/workflows/messages';
import { call, eventually, loopThroughWorkerKill, ok, uid, useWorkerProcess } from './support/harness';

// A hold longer than the default (1 s), so that steps of these tests on a busy machine still count as a fast loop.
process.env.AGENT_RUNTIME_PREFETCH_MS = '3000';
const w = useWorkerProcess();

type Event = temporal.api.history.v1.IHistoryEvent;
async function history(goalId: string): Promise<Event[]> {
  const client = await w.h.lazy.get();
  return (await client.workflow.getHandle(goalWorkflowId(goalId)).fetchHistory()).events ?? [];
}

/** Claims that reached the goal workflow as calls of their own (alone, in a batch, or as a long-poll). */
function claimCalls(events: Event[]): number {
  let n = 0;
  for (const e of events) {
    const input = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (input?.name === 'claimTask' || input?.name === 'waitForTask') n += 1;
    if (input?.name === 'applyBatch') {
      const data = input.args?.payloads?.[0]?.data;
      const ops = (JSON.parse(Buffer.from(data as Uint8Array).toString()) as { ops: Array<{ update: string }> }).ops;
      n += ops.filter((o) => o.update === 'claimTask').length;
    }
  }
  return n;
}

async function newGoal(name: string, tasks: Array<{ title: string; dependencies?: number[] }>): Promise<string> {
  const goalId = uid(name);
  await w.h.goals.createGoal({ goalId, name, tasks });
  return goalId;
}

const complete = (taskId: string, agentId: string, leaseToken?: number) =>
  ok(w.mcp, 'update_task_status', { task_id: taskId, status: 'completed', agent_id: agentId, lease_token: leaseToken });

/** One task claimed and completed at once: the agent's next get_next_task on the goal shows it loops. */
async function doOne(goalId: string, agentId: string): Promise<string> {
  const c = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: agentId });
  expect(c.claimed).toBe(true);
  await complete(c.id, agentId, c.lease_token);
  return c.id as string;
}

test('a fast loop: the completion claims the next task, and get_next_task answers with it without a round trip', async () => {
  const goalId = await newGoal(
    'loop',
    ['one', 'two', 'three', 'four'].map((title) => ({ title })),
  );
  // One task alone is no loop: nothing is held for the agent after it.
  await doOne(goalId, 'loopy');
  expect(await w.h.goals.getTask(`${goalId}/2`)).toMatchObject({ status: 'ready' });
  const second = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'loopy' });
  expect(second.id).toBe(`${goalId}/2`);
  await complete(second.id, 'loopy', second.lease_token);

  // It came back at once: its completion reserved the next task in the same step, held by it before it asks.
  const three = await w.h.goals.getTask(`${goalId}/3`);
  expect(three).toMatchObject({ status: 'claimed', agent_id: 'loopy', attempts: 0 });
  const before = (await history(goalId)).length;
  const third = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'loopy' });
  expect(third).toMatchObject({ claimed: true, id: three.id, agent_id: 'loopy', lease_token: three.lease_token });
  expect((await history(goalId)).length).toBe(before); // answered without calling the goal

  // An ordinary claim: fenced like any other (a stale token is refused), completed with its own token.
  const stale = await call(w.mcp, 'update_task_status', {
    task_id: third.id,
    status: 'completed',
    agent_id: 'loopy',
    lease_token: second.lease_token,
  });
  expect(stale.error?.code).toBe('LEASE_LOST');
  await complete(third.id, 'loopy', third.lease_token);
  const fourth = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'loopy' });
  expect(fourth).toMatchObject({ claimed: true, id: `${goalId}/4` });
  await complete(fourth.id, 'loopy', fourth.lease_token);
  const view = await ok(w.mcp, 'get_goal', { goal_id: goalId });
  expect(view.goal).toMatchObject({ status: 'completed' });
  expect(view.goal.task_counts.completed).toBe(4);
  expect(claimCalls(await history(goalId))).toBe(2); // the last two were answered from reservations
});

test('an unused reservation goes back to the queue after the hold, without counting an attempt', async () => {
  const goalId = await newGoal('unused', [{ title: 'one' }, { title: 'two' }, { title: 'three' }]);
  await doOne(goalId, 'quitter');
  await doOne(goalId, 'quitter');
  expect(await w.h.goals.getTask(`${goalId}/3`)).toMatchObject({ status: 'claimed', agent_id: 'quitter' });

  // The agent never asks again: the task is anyone's after the hold, as if it had never been claimed.
  const back = await eventually(async () => {
    const t = await w.h.goals.getTask(`${goalId}/3`);
    return t.status === 'ready' ? t : undefined;
  }, 15_000);
  expect(back).toMatchObject({ agent_id: null, attempts: 0 });
  const events = await w.h.goals.queryGoal(goalId, getEventsQuery, { limit: 100 });
  expect(events.some((e) => e.type === 'task_released' && /prefetched claim not picked up/.test(e.detail ?? ''))).toBe(
    true,
  );
  const other = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'someone-else' });
  expect(other).toMatchObject({ claimed: true, id: `${goalId}/3` });
});

test('a waiting agent is handed the unblocked task before the completer reserves one', async () => {
  const goalId = await newGoal('chain', [
    { title: 'warm-up' },
    { title: 'a' },
    { title: 'b', dependencies: [1] },
    { title: 'c' },
  ]);
  // The completer loops fast on the goal, so its next completion asks for a reservation.
  await doOne(goalId, 'fast');
  const c = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'fast' });
  expect(c.id).toBe(`${goalId}/2`);
  // Another agent takes the one other ready task; a third waits for b.
  const got = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'waiter', wait_seconds: 30 });
  expect(got.id).toBe(`${goalId}/4`);
  const waitingForB = ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'waiter2', wait_seconds: 30 });
  await eventually(async () =>
    (await history(goalId)).some(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'waitForTask',
    ),
  );
  await complete(c.id, 'fast', c.lease_token);
  expect(await waitingForB).toMatchObject({ claimed: true, id: `${goalId}/3`, agent_id: 'waiter2' });
  // The completion did ask for a reservation; the waiter came first and left none.
  const asked = (await history(goalId)).filter((e) => {
    const input = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    return (
      input &&
      JSON.stringify(input.args?.payloads?.map((p) => Buffer.from(p.data as Uint8Array).toString())).includes(
        'reserveNext',
      )
    );
  });
  expect(asked).toHaveLength(1);
  const next = await ok(w.mcp, 'get_next_task', { goal_id: goalId, agent_id: 'fast' });
  expect(next.claimed).toBe(false); // nothing was left to reserve
});

test('a claim with another filter passes the reservation by: it goes back, and the claim is made as asked', async () => {
  const g1 = await newGoal('first', [{ title: 'one' }, { title: 'two' }, { title: 'three' }]);
  const g2 = await newGoal('second', [{ title: 'other' }]);
  await doOne(g1, 'switcher');
  await doOne(g1, 'switcher');
  expect(await w.h.goals.getTask(`${g1}/3`)).toMatchObject({ status: 'claimed', agent_id: 'switcher' });
  const there = await ok(w.mcp, 'get_next_task', { goal_id: g2, agent_id: 'switcher' });
  expect(there).toMatchObject({ claimed: true, id: `${g2}/1` });
  await eventually(async () => (await w.h.goals.getTask(`${g1}/3`)).status === 'ready', 15_000);
  expect(await w.h.goals.getTask(`${g1}/3`)).toMatchObject({ agent_id: null, attempts: 0 });
});

test('16 agents looping on one goal, the worker killed mid-run: every task completed once, none held twice', async () => {
  const tasks = 120;
  const goalId = await newGoal(
    'many',
    Array.from({ length: tasks }, (_, i) => ({ title: `t${i}` })),
  );
  const { completed, doubles } = await loopThroughWorkerKill(
    w,
    goalId,
    Array.from({ length: 16 }, (_, i) => ({ client: w.mcp, name: `m${i}`, agentArg: true })),
  );

  expect(doubles).toEqual([]);
  expect(completed).toHaveLength(tasks);
  expect(new Set(completed).size).toBe(tasks);
  const view = await ok(w.mcp, 'get_goal', { goal_id: goalId });
  expect(view.goal.task_counts.completed).toBe(tasks);
  // Most claims were answered from reservations: far fewer claims reached the goal than tasks were done.
  expect(claimCalls(await history(goalId))).toBeLessThan(tasks / 2);
}, 180_000);
