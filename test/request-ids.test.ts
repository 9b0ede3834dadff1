/**
 * A request_id remembers the call it was first used for: the same call again is answered with the first result and
 * applied once; the same key for another call (other arguments, tool or caller) is refused with CONFLICT naming the
 * key, and nothing changes. Covered for each kind of keyed change: goal Updates alone and in a batch, goal and
 * pipeline creation, messages, breakers and task-graph workspaces.
 */
import { call, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function expectConflict(out: { error?: { code: string; message: string } }, key: string): void {
  expect(out.error?.code).toBe('CONFLICT');
  expect(out.error?.message).toContain(`request_id "${key}"`);
}

test('goal Updates: a retry answers the first result; the key reused for other arguments is refused, nothing applied', async () => {
  const mcp = await h.mcp('rid-alice');
  const goalId = uid('rid');
  await ok(mcp, 'create_goal', { name: 'keys', goal_id: goalId });
  const first = await ok(mcp, 'create_task', { goal_id: goalId, title: 'one', request_id: 'k-task' });
  const again = await ok(mcp, 'create_task', { goal_id: goalId, title: 'one', request_id: 'k-task' });
  expect(again.id).toBe(first.id);
  expectConflict(await call(mcp, 'create_task', { goal_id: goalId, title: 'two', request_id: 'k-task' }), 'k-task');
  // the same key from another caller is another call too
  const bob = await h.mcp('rid-bob');
  expectConflict(await call(bob, 'create_task', { goal_id: goalId, title: 'one', request_id: 'k-task' }), 'k-task');
  const tasks = await ok(mcp, 'list_tasks', { goal_id: goalId });
  expect(tasks.tasks.map((t: { title: string }) => t.title)).toEqual(['one']);

  // a claim and its completion, concurrent with other calls so they travel in one batch
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'three' });
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, request_id: 'k-claim' });
  expect(claim.id).toBe(first.id);
  const [retry, other, unrelated] = await Promise.all([
    call(mcp, 'get_next_task', { goal_id: goalId, request_id: 'k-claim' }),
    call(mcp, 'update_task_status', { task_id: first.id, status: 'completed', result: 'r', request_id: 'k-claim' }),
    call(mcp, 'get_next_task', { goal_id: goalId }),
  ]);
  expect(retry.error).toBeUndefined();
  expect(retry.data?.id).toBe(first.id);
  expect(retry.data?.lease_token).toBe(claim.lease_token);
  expectConflict(other, 'k-claim');
  expect(unrelated.data?.title).toBe('three');
  expect((await ok(mcp, 'get_task', { task_id: first.id })).status).toBe('claimed');
});

test('create_goal and create_relay_pipeline: the key reused for other arguments creates nothing', async () => {
  const mcp = await h.mcp('rid-carol');
  const key = uid('k-goal');
  const goal = await ok(mcp, 'create_goal', { name: 'first goal', request_id: key });
  expect((await ok(mcp, 'create_goal', { name: 'first goal', request_id: key })).goal_id).toBe(goal.goal_id);
  expectConflict(await call(mcp, 'create_goal', { name: 'first goal', description: 'other', request_id: key }), key);

  const relayKey = uid('k-relay');
  const args = { name: 'keyed relay', goal: 'g', agent_types: ['researcher', 'analyzer'], request_id: relayKey };
  const pipeline = await ok(mcp, 'create_relay_pipeline', args);
  expect((await ok(mcp, 'create_relay_pipeline', args)).pipeline_id).toBe(pipeline.pipeline_id);
  expectConflict(await call(mcp, 'create_relay_pipeline', { ...args, agent_types: ['researcher'] }), relayKey);
  const status = await ok(mcp, 'get_relay_status', { pipeline_id: pipeline.pipeline_id });
  expect(status.total_steps ?? status.status?.total_steps).toBe(2);
});

test('send_message, circuit_breaker_trip and task-graph create: the key reused for other arguments is refused', async () => {
  const sender = uid('rid-sender');
  const reader = uid('rid-reader');
  const mcp = await h.mcp(sender);
  await ok(mcp, 'register_agent', { agent_id: sender, name: sender, capabilities: ['code'] });
  await ok(mcp, 'register_agent', { agent_id: reader, name: reader, capabilities: ['code'] });
  const sent = await ok(mcp, 'send_message', { to: [reader], body: 'hello', request_id: 'k-msg' });
  expect((await ok(mcp, 'send_message', { to: [reader], body: 'hello', request_id: 'k-msg' })).message_id).toBe(
    sent.message_id,
  );
  expectConflict(await call(mcp, 'send_message', { to: [reader], body: 'changed', request_id: 'k-msg' }), 'k-msg');
  const inbox = await ok(await h.mcp(reader), 'fetch_inbox', { agent_id: reader });
  expect(inbox.messages.map((m: { body: string }) => m.body)).toEqual(['hello']);

  const breakerAgent = uid('rid-breaker');
  await ok(mcp, 'circuit_breaker_trip', { agent_id: breakerAgent, reason: 'first', request_id: 'k-trip' });
  await ok(mcp, 'circuit_breaker_reset', { agent_id: breakerAgent });
  expectConflict(
    await call(mcp, 'circuit_breaker_trip', { agent_id: breakerAgent, reason: 'other', request_id: 'k-trip' }),
    'k-trip',
  );
  expect((await ok(mcp, 'circuit_breaker_status', { agent_id: breakerAgent })).state).toBe('CLOSED');

  const tg = await h.mcp(undefined, ['task-graph']);
  const workspace = uid('rid-ws');
  await ok(tg, 'connect', { workspace, worker_id: 'w1' });
  const made = await ok(tg, 'create', { workspace, worker_id: 'w1', title: 'a', request_id: 'k-tg' });
  expectConflict(await call(tg, 'create', { workspace, worker_id: 'w1', title: 'b', request_id: 'k-tg' }), 'k-tg');
  const listed = await ok(tg, 'list_tasks', { workspace, worker_id: 'w1' });
  expect(listed.tasks.map((t: { id: string }) => t.id)).toEqual([made.id ?? made.task?.id]);
});
