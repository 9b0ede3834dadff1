/**
 * A workflow's state must always fit in the input of its next run: the server ends a run whose continue-as-new input
 * passes its payload limit (2 MB), and a goal or an agent would close with its work inside. Changes that store text
 * are weighed first and refused with a clear error when they would not fit (docs/DECISIONS.md, "State that always
 * fits"). Real dev server, real MCP client.
 */
import { call, closedRuns, ok, startHarness, uid, type Harness } from './support/harness';
import { goalWorkflowId } from '../src/workflows/messages';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

test('a goal refuses text it could not carry, loses nothing, and keeps working across continue-as-new', async () => {
  const mcp = await h.mcp('budget-worker');
  const goalId = uid('budget');
  await ok(mcp, 'create_goal', { name: 'large descriptions', goal_id: goalId });
  // Four plans of 50 tasks with 10 KB descriptions: 2 MB if all were taken, past what a run can hand to the next.
  const refusals: string[] = [];
  for (let batch = 0; batch < 4; batch++) {
    const tasks = Array.from({ length: 50 }, (_, i) => ({
      title: `big ${batch}.${i}`,
      description: 'd'.repeat(10_000),
    }));
    const r = await call(mcp, 'decompose_goal', { goal_id: goalId, tasks });
    if (r.isError) {
      expect(r.error?.code).toBe('INVALID_ARGUMENT');
      refusals.push(r.error?.message ?? '');
    }
  }
  expect(refusals.length).toBeGreaterThan(0);
  expect(refusals[0]).toMatch(/holds \d+\.\d\d MB .* past 1\.50 MB.*Shorten the text/);
  const kept = (await ok(mcp, 'get_goal', { goal_id: goalId })).task_counts.total as number;
  expect(kept).toBe((4 - refusals.length) * 50); // each plan whole or not at all
  // Small tasks still fit; worked call by call, the goal passes 1,024 history events and continues as new.
  await ok(mcp, 'decompose_goal', {
    goal_id: goalId,
    tasks: Array.from({ length: 200 }, (_, i) => ({ title: `small ${i}` })),
  });
  let done = 0;
  for (;;) {
    const c = await h.goals.claimNextTask({ goalId, agentId: 'budget-worker' });
    if (!c.claimed || !c.task) break;
    await h.goals.setTaskStatus({
      taskId: c.task.id,
      status: 'completed',
      agentId: 'budget-worker',
      result: `done ${done}`,
    });
    done += 1;
  }
  expect(done).toBe(kept + 200);
  const goal = await ok(mcp, 'get_goal', { goal_id: goalId });
  expect(goal.goal.status).toBe('completed');
  expect(goal.task_counts).toMatchObject({ total: kept + 200, completed: kept + 200 });
  expect((await closedRuns(await h.lazy.get(), goalWorkflowId(goalId))).length).toBeGreaterThanOrEqual(1);
  const first = await ok(mcp, 'get_task', { task_id: `${goalId}/1` });
  expect(first.description).toHaveLength(10_000);
  expect(first.result).toBe('done 0');
}, 180_000);

test('an agent refuses messages it could not carry; its other calls work, and acknowledging makes room', async () => {
  const mcp = await h.mcp();
  const [bob, alice] = [uid('bob'), uid('alice')];
  await ok(mcp, 'register_agent', { name: bob, capabilities: ['x'] });
  await ok(mcp, 'register_agent', { name: alice, capabilities: ['x'] });
  const send = (subject: string) =>
    ok(mcp, 'send_message', { sender: alice, to: [bob], subject, body: 'b'.repeat(99_000), ack_required: true });
  let refused: { agent_id: string; reason: string } | undefined;
  let sent = 0;
  while (!refused && sent < 30) {
    const r = await send(`m${sent}`);
    if (r.not_delivered.length > 0) refused = r.not_delivered[0];
    else sent += 1;
  }
  expect(refused?.agent_id).toBe(bob);
  expect(refused?.reason).toMatch(/holds \d+\.\d\d MB .* past 1\.50 MB/);
  expect(sent).toBeGreaterThanOrEqual(10); // about a megabyte and a half of messages awaiting acknowledgement

  // Everything else about the agent still works: its inbox, its board row, its claims.
  const inbox = await ok(mcp, 'fetch_inbox', { agent_id: bob, limit: 100 });
  expect(inbox.count).toBe(sent);
  expect(inbox.messages[0].body).toHaveLength(99_000);
  await ok(mcp, 'create_task', { title: 'still works', goal_id: uid('g') }).catch(() => undefined);
  expect((await ok(mcp, 'heartbeat', { agent_id: bob })).ok).toBe(true);

  for (const m of inbox.messages) await ok(mcp, 'acknowledge_message', { agent_id: bob, message_id: m.id });
  const again = await send('after the acknowledgements');
  expect(again.delivered_to).toEqual([bob]);
}, 180_000);

test('a relay pipeline refuses a summary it could not carry (weighed in UTF-8); a shorter one advances it', async () => {
  const mcp = await h.mcp();
  const { pipeline_id: id } = await ok(mcp, 'create_relay_pipeline', {
    name: uid('relay'),
    goal: 'Long summaries',
    agent_types: Array.from({ length: 64 }, (_, i) => `step${i}`),
  });
  let refusal: string | undefined;
  let advanced = 0;
  while (!refusal && advanced < 64) {
    const r = await call(mcp, 'advance_relay', {
      pipeline_id: id,
      quality_score: 0.9,
      l_score: 0.5,
      tokens_used: 1,
      output_summary: '漢'.repeat(20_000), // 60 KB of UTF-8: 64 of them would be 3.8 MB
    });
    if (r.isError) {
      expect(r.error?.code).toBe('INVALID_ARGUMENT');
      refusal = r.error?.message;
    } else advanced += 1;
  }
  expect(refusal).toMatch(/holds \d+\.\d\d MB .*Shorten output_summary/);
  expect(advanced).toBeGreaterThanOrEqual(20);
  await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.9, l_score: 0.5, tokens_used: 1 });
  expect((await ok(mcp, 'get_relay_status', { pipeline_id: id })).current_step).toBe(advanced + 1);
}, 180_000);
