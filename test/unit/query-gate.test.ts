/**
 * The query gate's rules (src/client/query-gate.ts), against a stand-in for the call to Temporal: one query per
 * workflow at a time; identical queries still waiting share one call; one already sent is never shared; different
 * workflows do not wait for each other; a failure reaches only its own callers; each query is sent in its asker's
 * async context. The gate against a real server: test/query-gate.test.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ServiceError, type WorkflowQueryInput } from '@temporalio/client';
import { toAppError } from '../../src/client/errors';
import { askedUntil, queryGateInterceptor, untilTaskRecovers } from '../../src/client/query-gate';

type Query = NonNullable<ReturnType<typeof queryGateInterceptor>['query']>;

function input(workflowId: string, queryType: string, ...args: unknown[]): WorkflowQueryInput {
  return { workflowExecution: { workflowId }, queryType, args, headers: {} };
}

/** A stand-in server: records each call sent and lets the test answer it. */
function server() {
  const sent: Array<{ input: WorkflowQueryInput; answer: (v: unknown) => void; refuse: (e: Error) => void }> = [];
  const next = (i: WorkflowQueryInput): Promise<unknown> =>
    new Promise((answer, refuse) => sent.push({ input: i, answer, refuse }));
  return { sent, next };
}

const turn = () => new Promise((r) => setImmediate(r));

test('one query per workflow at a time; other workflows do not wait', async () => {
  const query = queryGateInterceptor().query as Query;
  const s = server();
  const a1 = query(input('goal-a', 'getTask', { taskId: '1' }), s.next);
  const a2 = query(input('goal-a', 'getTask', { taskId: '2' }), s.next);
  const b1 = query(input('goal-b', 'getTask', { taskId: '1' }), s.next);
  await turn();
  expect(s.sent.map((c) => [c.input.workflowExecution.workflowId, c.input.args])).toEqual([
    ['goal-a', [{ taskId: '1' }]],
    ['goal-b', [{ taskId: '1' }]],
  ]);
  s.sent[1]!.answer('b1');
  await expect(b1).resolves.toBe('b1');
  expect(s.sent).toHaveLength(2); // goal-a's second still waits for its first
  s.sent[0]!.answer('a1');
  await expect(a1).resolves.toBe('a1');
  await turn();
  expect(s.sent).toHaveLength(3);
  expect(s.sent[2]!.input.args).toEqual([{ taskId: '2' }]);
  s.sent[2]!.answer('a2');
  await expect(a2).resolves.toBe('a2');
});

test('identical queries waiting share one call; one already sent is not shared', async () => {
  const query = queryGateInterceptor().query as Query;
  const s = server();
  const first = query(input('goal-a', 'listTasks', { status: 'ready' }), s.next); // sent at once
  await turn();
  // Asked after `first` was sent: it may have to see a change made since, so it gets a call of its own...
  const second = query(input('goal-a', 'listTasks', { status: 'ready' }), s.next);
  // ...which these, asked while it still waits, share; a different argument does not.
  const third = query(input('goal-a', 'listTasks', { status: 'ready' }), s.next);
  const other = query(input('goal-a', 'listTasks', { status: 'pending' }), s.next);
  expect(s.sent).toHaveLength(1);
  s.sent[0]!.answer(['old']);
  await expect(first).resolves.toEqual(['old']);
  await turn();
  expect(s.sent).toHaveLength(2);
  s.sent[1]!.answer(['new']);
  await expect(second).resolves.toEqual(['new']);
  await expect(third).resolves.toEqual(['new']);
  await turn();
  expect(s.sent).toHaveLength(3);
  expect(s.sent[2]!.input.args).toEqual([{ status: 'pending' }]);
  s.sent[2]!.answer([]);
  await expect(other).resolves.toEqual([]);
});

test('a refused query fails only its own callers, and the next one is sent', async () => {
  const query = queryGateInterceptor().query as Query;
  const s = server();
  const bad = query(input('goal-a', 'getTask', { taskId: 'x' }), s.next);
  const good = query(input('goal-a', 'getTask', { taskId: 'y' }), s.next);
  await turn();
  s.sent[0]!.refuse(new Error('refused'));
  await expect(bad).rejects.toThrow('refused');
  await turn();
  s.sent[1]!.answer('y');
  await expect(good).resolves.toBe('y');
  // A stand-in that throws instead of rejecting is a failure of that query too, not of the gate.
  const throwing = query(input('goal-a', 'getTask', { taskId: 'z' }), () => {
    throw new Error('thrown');
  });
  await expect(throwing).rejects.toThrow('thrown');
  await expect(query(input('goal-a', 'getTask', { taskId: 'w' }), () => Promise.resolve('w'))).resolves.toBe('w');
});

test("each query is sent in its asker's async context (its deadline and abort signal)", async () => {
  const query = queryGateInterceptor().query as Query;
  const context = new AsyncLocalStorage<string>();
  const s = server();
  const seen: Array<string | undefined> = [];
  const next = (i: WorkflowQueryInput): Promise<unknown> => {
    seen.push(context.getStore());
    return s.next(i);
  };
  const one = context.run('first asker', () => query(input('goal-a', 'getTask', { taskId: '1' }), next));
  const two = context.run('second asker', () => query(input('goal-a', 'getTask', { taskId: '2' }), next));
  await turn();
  s.sent[0]!.answer(1);
  await one;
  await turn();
  s.sent[1]!.answer(2);
  await two;
  expect(seen).toEqual(['first asker', 'second asker']);
});

test('a query whose asker gave up while it waited for its turn is not sent; the next one is', async () => {
  const query = queryGateInterceptor().query as Query;
  const s = server();
  const busy = query(input('agent-a', 'row'), s.next);
  const stop = new AbortController();
  const given = askedUntil(stop.signal, () => query(input('agent-a', 'row', 'side'), s.next));
  const after = query(input('agent-a', 'row', 'later'), s.next);
  await turn();
  stop.abort(); // e.g. the client draining: the SDK would not cancel a call started after this
  s.sent[0]!.answer('first');
  await expect(busy).resolves.toBe('first');
  await expect(given).rejects.toThrow('its caller stopped waiting');
  await turn();
  expect(s.sent.map((c) => c.input.args)).toEqual([[], ['later']]);
  s.sent[1]!.answer('later');
  await expect(after).resolves.toBe('later');
});

test('a refusal that outlasts the retries is answered as Temporal being busy, with what to do, not as a bug', () => {
  const details = 'consistent query buffer is full, this may be caused by too many queries';
  const cause = Object.assign(new Error(`8 RESOURCE_EXHAUSTED: ${details}`), { code: 8, details, metadata: {} });
  const e = toAppError(new ServiceError('Failed to query Workflow', { cause }), { entity: 'Goal g-1' });
  expect(e.code).toBe('TEMPORAL_UNAVAILABLE');
  expect(e.message).toContain('Temporal is too busy with Goal g-1');
  expect(e.message).toContain(details);
  expect(e.message).toContain('Call again in a moment');
});

/** The server's refusal of a query to a workflow whose last workflow task failed. */
function taskFailed(): ServiceError {
  const details = 'Unable to query workflow due to Workflow Task in failed state.';
  const cause = Object.assign(new Error(`9 FAILED_PRECONDITION: ${details}`), { code: 9, details, metadata: {} });
  return new ServiceError('Failed to query Workflow', { cause });
}

test('a query refused while the workflow task is failed is sent again until the task has run again', async () => {
  let sends = 0;
  const flaky = () => {
    sends += 1;
    return sends < 3 ? Promise.reject(taskFailed()) : Promise.resolve('answered');
  };
  await expect(untilTaskRecovers(flaky)).resolves.toBe('answered');
  expect(sends).toBe(3);

  let others = 0;
  const other = () => {
    others += 1;
    return Promise.reject(new Error('something else'));
  };
  await expect(untilTaskRecovers(other)).rejects.toThrow('something else'); // any other failure: at once
  expect(others).toBe(1);

  await expect(untilTaskRecovers(() => Promise.reject(taskFailed()), 250)).rejects.toThrow('Failed to query');
  const e = toAppError(taskFailed(), { entity: 'Agent ada' });
  expect(e.code).toBe('TEMPORAL_UNAVAILABLE'); // outlasting the retries: not a bug, and what to do
  expect(e.message).toContain('Agent ada could not be read');
  expect(e.message).toContain('Call again in a moment');
});
