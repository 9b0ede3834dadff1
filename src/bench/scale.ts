/**
 * The scale scenario (full mode): P projects × S steps with dependencies, A concurrent agents pulling steps until
 * every step is done. Reports wall time, claims/s, double claims, lost completions and the largest history length.
 */
import type { GoalsClient } from '../client/goals';
import { createProjectsClient } from '../client/projects';
import { goalWorkflowId } from '../workflows/messages';

export interface ScaleResult {
  projects: number;
  steps: number;
  agents: number;
  wall_s: number;
  claims_per_s: number;
  double_claims: number;
  lost_completions: number;
  max_history_length: number;
  completed: number;
}

export async function scaleScenario(
  goals: GoalsClient,
  projectsCount: number,
  stepsPerProject: number,
  agents: number,
  say: (m: string) => void,
): Promise<ScaleResult> {
  const projects = createProjectsClient(goals);
  const run = Math.random().toString(36).slice(2, 8);
  const names = Array.from({ length: projectsCount }, (_, p) => `scale-${run}-${p}`);
  await goals.mapLimited(names, 8, (name) =>
    projects.createProject({
      name,
      baseCommit: 'scale',
      leaseSeconds: 300,
      steps: Array.from({ length: stepsPerProject }, (_, i) => ({
        step_num: i + 1,
        branch: `b${i}`,
        scope: `lane-${i % 10}`,
        depends_on: i >= 10 ? [i - 9] : [],
      })),
    }),
  );
  say(`scale: ${projectsCount} projects × ${stepsPerProject} steps created; ${agents} agents start`);
  const held = new Set<string>();
  const completed = new Set<string>();
  let doubleClaims = 0;
  let claims = 0;
  const started = Date.now();
  const done = new Set<string>();
  // Whether a project is complete: one read per project at a time, shared by every agent that asks meanwhile (a
  // thousand agents each reading every project they pass is a burst of Queries the benchmark would measure instead).
  const reads = new Map<string, Promise<boolean>>();
  const finished = (name: string): Promise<boolean> => {
    let read = reads.get(name);
    if (!read) {
      read = goals.getGoal(name).then((v) => v.goal.status === 'completed');
      reads.set(name, read);
      const forget = () => void setTimeout(() => reads.delete(name), 250);
      read.then(forget, forget);
    }
    return read;
  };
  const ticker = setInterval(() => say(`scale: ${completed.size} steps completed, ${claims} claims`), 15_000);
  await Promise.all(
    Array.from({ length: agents }, async (_, a) => {
      const agentId = `scale-agent-${a}`;
      let p = a % projectsCount;
      while (done.size < projectsCount) {
        const name = names[p] as string;
        if (done.has(name)) {
          p = (p + 1) % projectsCount;
          continue;
        }
        const c = await projects.claimStep(name, agentId);
        if (!c.claimed) {
          if (await finished(name)) done.add(name);
          else await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        claims += 1;
        if (held.has(c.step.id) || completed.has(c.step.id)) doubleClaims += 1;
        held.add(c.step.id);
        await projects.completeStep({
          stepId: c.step.id,
          agentId,
          commitHash: `c-${c.step.id}`,
          leaseToken: c.lease_token ?? undefined,
        });
        held.delete(c.step.id);
        completed.add(c.step.id);
      }
    }),
  );
  clearInterval(ticker);
  const wall = (Date.now() - started) / 1000;
  let lost = 0;
  let maxHistory = 0;
  await goals.mapLimited(names, 16, async (name) => {
    const view = await goals.getGoal(name);
    for (const t of view.tasks) if (completed.has(t.id) && t.status !== 'completed') lost += 1;
    const d = await goals.withClient((client) => client.workflow.getHandle(goalWorkflowId(name)).describe());
    maxHistory = Math.max(maxHistory, d.historyLength);
  });
  return {
    projects: projectsCount,
    steps: stepsPerProject,
    agents,
    wall_s: Math.round(wall * 10) / 10,
    claims_per_s: Math.round((claims / wall) * 10) / 10,
    double_claims: doubleClaims,
    lost_completions: lost,
    max_history_length: maxHistory,
    completed: completed.size,
  };
}
