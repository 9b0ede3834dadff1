/**
 * The identity rule: an owner action from a caller with no identity at all acts for the current holder (hq's step id
 * is the capability); a caller with an identity — agent_id, AGENT_ID, or a lease_token — keeps full fencing, so a
 * zombie is still refused. And numbers are accepted wherever an id goes.
 */
import { call, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

test('a reclaimed task refuses its old holder by agent_id, by AGENT_ID and by stale token; no identity acts for the new holder', async () => {
  const anonymous = await h.mcp();
  const goalId = uid('ident');
  await ok(anonymous, 'create_goal', { name: 'identity', description: 'fencing', goal_id: goalId });
  await ok(anonymous, 'create_task', { goal_id: goalId, title: 'only task' });
  const first = await ok(anonymous, 'get_next_task', { goal_id: goalId, agent_id: 'zombie' });
  // zombie goes quiet; an operator recovers the task and alice takes it
  await h.goals.recoverTask(first.id, 'zombie went quiet');
  const second = await ok(anonymous, 'get_next_task', { goal_id: goalId, agent_id: 'alice' });
  expect(second.lease_token).toBeGreaterThan(first.lease_token);

  const byArg = await call(anonymous, 'update_task_status', {
    task_id: first.id,
    status: 'completed',
    agent_id: 'zombie',
  });
  expect(byArg.error?.code).toBe('LEASE_LOST');
  const zombieServer = await h.mcp('zombie'); // AGENT_ID=zombie on its server
  const byEnv = await call(zombieServer, 'update_task_status', { task_id: first.id, status: 'completed' });
  expect(byEnv.error?.code).toBe('LEASE_LOST');
  const byToken = await call(anonymous, 'update_task_status', {
    task_id: first.id,
    status: 'completed',
    lease_token: first.lease_token,
  });
  expect(byToken.error?.code).toBe('LEASE_LOST');
  expect((await ok(anonymous, 'get_task', { task_id: first.id })).status).toBe('claimed'); // nothing changed

  const started = await ok(anonymous, 'update_task_status', { task_id: second.id, status: 'in_progress' });
  expect(started).toMatchObject({ status: 'in_progress', agent_id: 'alice', acted_as: 'alice' });
  const beat = await ok(anonymous, 'heartbeat', { task_id: second.id });
  expect(beat).toMatchObject({ ok: true, agent_id: 'alice' });
  const done = await ok(anonymous, 'update_task_status', { task_id: second.id, status: 'completed', result: 'r' });
  expect(done).toMatchObject({ status: 'completed', agent_id: 'alice', acted_as: 'alice' });
  const named = await ok(anonymous, 'get_task', { task_id: second.id });
  expect(named.result).toBe('r');
});

test('hq: start_step and complete_step without agent_id act for the holder; a recovered step refuses its old holder', async () => {
  const mcp = await h.mcp();
  const project = uid('hq-ident');
  await ok(mcp, 'create_project', {
    name: project,
    base_commit: 'abc123',
    steps: [{ step_num: 1, branch: 'b1', scope: 'api', depends_on: [] }],
  });
  const claim = await ok(mcp, 'claim_step', { project, agent_id: 'agent-1' });
  await ok(mcp, 'recover_step', { step_id: claim.id });
  const again = await ok(mcp, 'claim_step', { project, agent_id: 'agent-2' });
  expect(again.id).toBe(claim.id);
  const zombie = await call(mcp, 'complete_step', { step_id: claim.id, commit_hash: 'dead000', agent_id: 'agent-1' });
  expect(zombie.error?.code).toBe('LEASE_LOST');
  const stale = await call(mcp, 'complete_step', {
    step_id: claim.id,
    commit_hash: 'dead000',
    lease_token: claim.lease_token,
  });
  expect(stale.error?.code).toBe('LEASE_LOST');
  expect(await ok(mcp, 'start_step', { step_id: claim.id, worktree: '/w' })).toMatchObject({
    ok: true,
    acted_as: 'agent-2',
  });
  const done = await ok(mcp, 'complete_step', { step_id: claim.id, commit_hash: 'c0ffee1' });
  expect(done).toMatchObject({ ok: true, acted_as: 'agent-2', step: { status: 'completed', agent_id: 'agent-2' } });
});

test('numbers are accepted wherever an id goes, as their decimal strings', async () => {
  const mcp = await h.mcp('numbers');
  const goal = 700_000_000 + Math.floor(Math.random() * 99_999_999);
  const created = await ok(mcp, 'create_goal', { name: 'Build REST API', description: 'ids', goal_id: goal });
  expect(created.id).toBe(String(goal));
  const plan = await ok(mcp, 'decompose_goal', { goal_id: goal, strategy: 'sequential' });
  expect(plan).toMatchObject({ goal_id: String(goal), count: 5 });
  const deploy = await ok(mcp, 'create_task', { goal_id: goal, title: 'Deploy', dependencies: [3, 4] });
  expect(deploy.dependencies).toEqual([`${goal}/3`, `${goal}/4`]);
  expect((await ok(mcp, 'get_goal', { goal_id: goal })).task_counts.total).toBe(6);
  expect((await ok(mcp, 'list_tasks', { goal_id: goal, limit: 50 })).count).toBe(6);
  const claim = await ok(mcp, 'get_next_task', { goal_id: goal, agent_id: 42 });
  expect(claim.agent_id).toBe('42');
  // A bare number that names no imported task and no goal in the call is not found, with the way out.
  const unknown = await call(mcp, 'get_task', { task_id: 987_654_321 });
  expect(unknown.error?.code).toBe('NOT_FOUND');
  expect(unknown.error?.message).toMatch(/agent-runtime import/);
  // Not a number, not an id: still a clear INVALID_ARGUMENT.
  expect((await call(mcp, 'get_task', { task_id: 1.5 })).error?.code).toBe('INVALID_ARGUMENT');
  expect((await call(mcp, 'get_goal', { goal_id: -1 })).error?.code).toBe('INVALID_ARGUMENT');
});

test('agent_id, agent and worker_id name the same agent everywhere; two different ones are refused', async () => {
  const mcp = await h.mcp();
  const goalId = uid('alias');
  await ok(mcp, 'create_goal', { name: 'aliases', goal_id: goalId });
  await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'parallel' });
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, worker_id: 'w-7' });
  expect(claim.agent_id).toBe('w-7');
  expect((await ok(mcp, 'heartbeat', { agent: 'w-7', task_id: claim.id })).agent_id).toBe('w-7');
  const done = await ok(mcp, 'update_task_status', { task_id: claim.id, status: 'completed', agent: 'w-7' });
  expect(done).toMatchObject({ status: 'completed', acted_as: null });
  const both = await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'a', worker_id: 'b' });
  expect(both.error?.code).toBe('INVALID_ARGUMENT');
});
