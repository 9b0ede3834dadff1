/**
 * An agent id whose agent workflow cannot answer — registered by another deployment (task queue) whose worker is
 * gone, as happens to test runs sharing a server or teams sharing a namespace — never holds up this deployment's claims
 * and completions: the board notes they send to it give up after a moment.
 */
import { ok, startHarness, uid, type Harness } from './support/harness';

let other: Harness;
let h: Harness;
beforeAll(async () => {
  other = await startHarness();
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  await other.close();
});

test("claims and completions answer when the agent's own workflow has no worker", async () => {
  const agent = uid('foreign');
  await ok(await other.mcp(), 'register_agent', { agent_id: agent, name: agent, capabilities: ['code'] });
  await other.worker?.shutdown(); // that deployment's worker is gone; its agent workflow stays

  const mcp = await h.mcp();
  const goalId = uid('foreign-goal');
  await ok(mcp, 'create_goal', { name: 'here', goal_id: goalId });
  await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'parallel' });
  const t = Date.now();
  for (let i = 0; i < 3; i++) {
    const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
    expect(claim.claimed).toBe(true);
    await ok(mcp, 'update_task_status', { task_id: claim.id, status: 'completed', agent_id: agent, result: 'ok' });
  }
  expect(Date.now() - t).toBeLessThan(30_000); // each side note gives up after about 2 s; before, the first one hung
});
