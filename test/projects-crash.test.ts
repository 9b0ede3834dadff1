/**
 * A 200-step project runs to completion with 16 simulated agents while the worker process is SIGKILLed and
 * restarted twice: every step is completed exactly once.
 */
import { goalWorkflowId } from '../src/workflows/messages';
import { eventually, ok, uid, useWorkerProcess } from './support/harness';

const env = useWorkerProcess();

test('200 steps, 16 agents, the worker killed and restarted twice: every step completed once', async () => {
  const name = uid('hq200');
  // Ten lanes of twenty: step n depends on step n-10, so there is always parallel work and real dependencies.
  const steps = Array.from({ length: 200 }, (_, i) => ({
    step_num: i + 1,
    branch: `lane-${i % 10}/${Math.floor(i / 10)}`,
    scope: `lane-${i % 10}`,
    depends_on: i >= 10 ? [i - 9] : [],
  }));
  await ok(env.mcp, 'create_project', { name, base_commit: 'base', steps, lease_seconds: 120 });

  const completions: string[] = [];
  let finished = false;
  const agent = async (id: string) => {
    while (!finished) {
      const claim = await ok(env.mcp, 'claim_step', { project: name, agent_id: id });
      if (!claim.claimed) {
        const { project } = await ok(env.mcp, 'get_project', { name });
        if (project.status === 'completed') return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      await ok(env.mcp, 'start_step', { step_id: claim.step.id, agent_id: id, worktree: `/wt/${id}` });
      await ok(env.mcp, 'complete_step', {
        step_id: claim.step.id,
        commit_hash: `c${claim.step.step_num.toString().padStart(4, '0')}`,
        agent_id: id,
        lease_token: claim.lease_token,
      });
      completions.push(claim.step.id);
    }
  };
  const agents = Promise.all(Array.from({ length: 16 }, (_, i) => agent(`agent-${i}`)));

  for (const threshold of [40, 120]) {
    await eventually(() => Promise.resolve(completions.length >= threshold), 120_000, 20);
    await env.kill();
    await new Promise((r) => setTimeout(r, 500));
    env.start();
  }
  await agents;
  finished = true;

  const { project, steps: final } = await ok(env.mcp, 'get_project', { name });
  expect(project.status).toBe('completed');
  expect(project.step_counts.completed).toBe(200);
  expect(completions).toHaveLength(200);
  expect(new Set(completions).size).toBe(200);
  expect(final.every((s: any) => s.commit_hash === `c${s.step_num.toString().padStart(4, '0')}`)).toBe(true);

  // The agents' concurrent calls went as batches (applyBatch Updates), killed mid-flight like the rest.
  const client = await env.h.lazy.get();
  const handle = client.workflow.getHandle(goalWorkflowId(name));
  const names = (await handle.fetchHistory()).events?.map(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name,
  );
  expect(names).toContain('applyBatch');
}, 300_000);
