/**
 * The worker process is SIGKILLed mid-flow and restarted: nothing is lost, nothing is applied twice, the flow completes.
 */
import { eventually, ok, useWorkerProcess } from './support/harness';

const env = useWorkerProcess();

test('the worker killed (SIGKILL) and restarted mid-flow: every task completed exactly once', async () => {
  const { goal_id: goalId } = await ok(env.mcp, 'create_goal', {
    name: 'crash drill',
    description: 'survive a dead worker',
  });
  // Three waves of four tasks: wave n+1 depends on all of wave n.
  const tasks = Array.from({ length: 12 }, (_, i) => {
    const wave = Math.floor(i / 4);
    return {
      title: `wave ${wave} task ${i % 4}`,
      dependencies: wave === 0 ? [] : [0, 1, 2, 3].map((k) => (wave - 1) * 4 + k),
    };
  });
  await ok(env.mcp, 'decompose_goal', { goal_id: goalId, tasks });

  const completions: string[] = [];
  const agent = async (name: string) => {
    for (;;) {
      const claim = await ok(env.mcp, 'get_next_task', { goal_id: goalId, agent_id: name, wait_seconds: 2 });
      if (!claim.claimed) {
        const { goal } = await ok(env.mcp, 'get_goal', { goal_id: goalId });
        if (goal.status === 'completed') return;
        continue;
      }
      await ok(env.mcp, 'update_task_status', { task_id: claim.task.id, status: 'in_progress', agent_id: name });
      await new Promise((r) => setTimeout(r, 50));
      await ok(env.mcp, 'update_task_status', {
        task_id: claim.task.id,
        status: 'completed',
        agent_id: name,
        lease_token: claim.lease_token,
        result: `done by ${name}`,
      });
      completions.push(claim.task.id);
    }
  };
  const agents = Promise.all(['a1', 'a2', 'a3', 'a4'].map(agent));

  await eventually(() => Promise.resolve(completions.length >= 3), 60_000, 20);
  await env.kill();
  await new Promise((r) => setTimeout(r, 1000));
  env.start();

  await agents;
  const view = await ok(env.mcp, 'get_goal', { goal_id: goalId });
  expect(view.goal.status).toBe('completed');
  expect(view.goal.task_counts.completed).toBe(12);
  expect([...completions].sort()).toEqual(view.tasks.map((t: { id: string }) => t.id).sort());
  expect(new Set(completions).size).toBe(12);
}, 180_000);
