/**
 * Concurrent hot-path calls on one goal travel as one applyBatch Update: checked against a real dev server and
 * worker, by what agents get back and by what the goal's history holds.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowClientInterceptor, WorkflowHandle } from '@temporalio/client';
import { SECOND_BATCH_AT } from '../src/client/goals';
import { applyBatchUpdate, goalWorkflowId } from '../src/workflows/messages';
import { startHarness, uid, watchedGoals, type Harness } from './support/harness';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function history(goalId: string): Promise<HistoryEvent[]> {
  const client = await h.lazy.get();
  return (await client.workflow.getHandle(goalWorkflowId(goalId)).fetchHistory()).events ?? [];
}

/** The names of the Updates the goal accepted, in order. */
async function acceptedUpdates(goalId: string): Promise<string[]> {
  return (await history(goalId))
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)
    .filter((n): n is string => typeof n === 'string');
}

async function goalWith(count: number): Promise<string> {
  const g = await h.goals.createGoal({
    name: `batch ${uid()}`,
    tasks: Array.from({ length: count }, (_, i) => ({ title: `t${i}` })),
  });
  return g.id;
}

test('40 agents claim at once from 30 tasks: 30 distinct claims in a few Updates, 10 told why not', async () => {
  const goalId = await goalWith(30);
  const outcomes = await Promise.all(
    Array.from({ length: 40 }, (_, a) => h.goals.claimNextTask({ agentId: `agent-${a}`, goalId })),
  );
  const claimed = outcomes.filter((o) => o.claimed);
  expect(claimed).toHaveLength(30);
  expect(new Set(claimed.map((o) => o.task?.id)).size).toBe(30);
  expect(new Set(claimed.map((o) => o.lease_token)).size).toBe(30);
  for (const o of outcomes.filter((x) => !x.claimed)) expect(o.reason).toMatch(/No task of goal .* is ready: 30 held/);

  const updates = await acceptedUpdates(goalId);
  expect(updates).toContain('applyBatch');
  expect(updates.length).toBeLessThan(40);

  // Every holder completes at once: again batched, and each task is completed exactly once.
  await Promise.all(
    claimed.map((o, i) =>
      h.goals.setTaskStatus({
        taskId: o.task?.id as string,
        status: 'completed',
        agentId: o.task?.agent_id as string,
        leaseToken: o.lease_token ?? undefined,
        result: `done ${i}`,
      }),
    ),
  );
  const view = await h.goals.getGoal(goalId);
  expect(view.goal.status).toBe('completed');
  expect(view.tasks.every((t) => t.status === 'completed')).toBe(true);
});

test('calls arriving behind a busy batch leave as a second batch before its answer; each applies once', async () => {
  const goalId = await goalWith(40);
  const size = SECOND_BATCH_AT + 2;
  const group = (from: number) =>
    Array.from({ length: size }, (_, a) => goals.claimNextTask({ agentId: `agent-${from + a}`, goalId }));
  let batchesSent = 0;
  let firstReturned = false;
  let secondLeftWhileFirstInFlight: boolean | undefined;
  let second: ReturnType<typeof group> = [];
  // A real client whose interceptor sees each applyBatch Update leave and come back: when the first leaves, a second
  // group of agents calls, so their calls wait behind a batch certainly in flight.
  const watch: WorkflowClientInterceptor = {
    startUpdate(input, next) {
      if (input.updateName !== applyBatchUpdate.name) return next(input);
      batchesSent += 1;
      if (batchesSent === 2) secondLeftWhileFirstInFlight = !firstReturned;
      if (batchesSent !== 1) return next(input);
      second = group(size);
      const sent = next(input);
      void sent.finally(() => (firstReturned = true)).catch(() => undefined);
      return sent;
    },
  };
  const goals = await watchedGoals(h, watch);
  try {
    const outcomes = [...(await Promise.all(group(0))), ...(await Promise.all(second))];
    expect(secondLeftWhileFirstInFlight).toBe(true);
    expect(outcomes.every((o) => o.claimed)).toBe(true);
    expect(new Set(outcomes.map((o) => o.task?.id)).size).toBe(2 * size);
    expect((await acceptedUpdates(goalId)).filter((n) => n === applyBatchUpdate.name)).toHaveLength(2);
    expect((await h.goals.getGoal(goalId)).goal.task_counts.claimed).toBe(2 * size);
  } finally {
    await goals.drain();
  }
});

test('a call refused inside a batch gets its own error; the others in the batch still apply', async () => {
  const goalId = await goalWith(4);
  const claims = await Promise.all([0, 1].map((a) => h.goals.claimNextTask({ agentId: `agent-${a}`, goalId })));
  const [mine, theirs] = claims as [(typeof claims)[0], (typeof claims)[0]];
  const results = await Promise.allSettled([
    h.goals.setTaskStatus({ taskId: mine.task?.id as string, status: 'completed', agentId: 'agent-0' }),
    // agent-0 does not hold this one: fenced.
    h.goals.setTaskStatus({ taskId: theirs.task?.id as string, status: 'completed', agentId: 'agent-0' }),
    h.goals.heartbeat('agent-1', theirs.task?.id as string),
  ]);
  expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 'completed' } });
  expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'LEASE_LOST' } });
  expect(results[2]).toMatchObject({ status: 'fulfilled', value: { agent_id: 'agent-1' } });
  const theirsNow = await h.goals.getTask(theirs.task?.id as string);
  expect(theirsNow).toMatchObject({ status: 'claimed', agent_id: 'agent-1' });
});

test('a batch in which every call is refused leaves no trace in history', async () => {
  const goalId = await goalWith(2);
  await Promise.all([0, 1].map((a) => h.goals.claimNextTask({ agentId: `holder-${a}`, goalId })));
  // What the refused calls could leave: Updates accepted or completed. (The goal's own search-attribute refresh timer
  // may fire meanwhile; it is not theirs.)
  const updateEvents = async () =>
    (await history(goalId)).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes,
    ).length;
  const before = await updateEvents();
  const outcomes = await Promise.all(
    Array.from({ length: 12 }, (_, a) => h.goals.claimNextTask({ agentId: `late-${a}`, goalId })),
  );
  expect(outcomes.every((o) => !o.claimed && /2 held by other agents/.test(o.reason ?? ''))).toBe(true);
  expect(await updateEvents()).toBe(before);
});

test('a request_id applied inside a batch is answered, not applied again, when retried alone', async () => {
  const goalId = await goalWith(5);
  const requestId = randomUUID();
  const together = await Promise.all([
    h.goals.claimNextTask({ agentId: 'retrier', goalId, requestId }),
    h.goals.claimNextTask({ agentId: 'other', goalId }),
  ]);
  expect(await acceptedUpdates(goalId)).toContain('applyBatch');
  const again = await h.goals.claimNextTask({ agentId: 'retrier', goalId, requestId });
  expect(again.task?.id).toBe(together[0].task?.id);
  expect(again.lease_token).toBe(together[0].lease_token);
  const held = (await h.goals.getGoal(goalId)).tasks.filter((t) => t.agent_id === 'retrier');
  expect(held).toHaveLength(1);
});

/**
 * History events other than workflow tasks. The server may keep the empty workflow task of a refused Update: measured,
 * once, when the refusal comes straight after a goal's first workflow task (one carrying a dozen commands).
 */
async function recorded(goalId: string): Promise<number> {
  return (await history(goalId)).filter(
    (e) =>
      !e.workflowTaskScheduledEventAttributes &&
      !e.workflowTaskStartedEventAttributes &&
      !e.workflowTaskCompletedEventAttributes,
  ).length;
}

test('a malformed batch is refused with INVALID_ARGUMENT and changes nothing', async () => {
  const goalId = await goalWith(1);
  await h.goals.getGoal(goalId); // its first workflow task is done
  const before = await recorded(goalId);
  const handle = (await h.lazy.get()).workflow.getHandle(goalWorkflowId(goalId));
  for (const ops of [[], [{ id: 'x', update: 'createTasks', input: {} }], [{ update: 'claimTask', input: {} }]]) {
    const err = await handle
      .executeUpdate(applyBatchUpdate, { args: [{ ops: ops as never }] })
      .catch((e: unknown) => e);
    expect(String((err as { cause?: { type?: string } }).cause?.type)).toBe('INVALID_ARGUMENT');
  }
  expect(await recorded(goalId)).toBe(before);
  expect((await h.goals.getGoal(goalId)).tasks[0]?.status).toBe('ready');
});
