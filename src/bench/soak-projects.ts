/**
 * Sustained load on the projects model (issue: "100 agents heartbeating every second for 5 minutes"):
 * creates P projects of S steps, runs A agents that claim → start → heartbeat every H ms for W beats → complete,
 * samples every workflow's history length, and checks at the end that nothing was lost or claimed twice.
 *
 *   npm run soak -- --projects 1 --steps 1000 --agents 100 --minutes 5
 *   npm run soak -- --projects 100 --steps 100 --agents 100 --minutes 2
 *
 * Uses TEMPORAL_ADDRESS if set, else starts an in-memory dev server; runs its own worker on a private task queue.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../client/errors';
import { createProjectsClient } from '../client/projects';
import { goalWorkflowId } from '../workflows/messages';
import { startBenchEnvironment } from './environment';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const P = arg('projects', 1);
  const S = arg('steps', 1000);
  const A = arg('agents', 100);
  const minutes = arg('minutes', 5);
  const beatMs = arg('heartbeat-ms', 1000);
  const beats = arg('beats', 3);
  const say = (m: string) => process.stderr.write(`[soak] ${m}\n`);

  const env = await startBenchEnvironment('soak', say);
  const { client, goals } = env;
  const projects = createProjectsClient(goals);

  const run = randomUUID().slice(0, 6);
  const names = Array.from({ length: P }, (_, p) => `soak-${run}-${p}`);
  say(`creating ${P} project(s) of ${S} steps…`);
  const t0 = Date.now();
  await goals.mapLimited(names, 8, (name) =>
    projects.createProject({
      name,
      baseCommit: 'soak',
      leaseSeconds: 60,
      steps: Array.from({ length: S }, (_, i) => ({
        step_num: i + 1,
        branch: `b${i}`,
        scope: `lane-${i % 20}`,
        depends_on: i >= 20 ? [i - 19] : [],
      })),
    }),
  );
  say(`created in ${((Date.now() - t0) / 1000).toFixed(1)} s; running ${A} agents for ${minutes} min…`);

  const held = new Map<string, string>(); // step id → agent (to detect double claims)
  const completedAcks = new Set<string>();
  let doubleClaims = 0;
  let claims = 0;
  let heartbeats = 0;
  let errors = 0;
  let maxHistory = 0;
  const runs = new Set<string>();
  const deadline = Date.now() + minutes * 60_000;

  const sample = async () => {
    for (const name of names) {
      const d = await client.workflow
        .getHandle(goalWorkflowId(name))
        .describe()
        .catch(() => undefined);
      if (!d) continue;
      maxHistory = Math.max(maxHistory, d.historyLength);
      runs.add(d.runId);
    }
  };
  const sampler = setInterval(() => void sample(), 5_000);
  const progress = setInterval(
    () =>
      say(
        `claims ${claims}, heartbeats ${heartbeats}, completed ${completedAcks.size}, max history ${maxHistory}, runs seen ${runs.size}, errors ${errors}`,
      ),
    15_000,
  );

  const agent = async (i: number) => {
    const id = `soak-agent-${i}`;
    let p = i % P;
    while (Date.now() < deadline) {
      const name = names[p % P] as string;
      p += 1;
      try {
        const c = await projects.claimStep(name, id);
        if (!c.claimed) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        claims += 1;
        const stepId = c.step.id;
        if (held.has(stepId)) doubleClaims += 1;
        held.set(stepId, id);
        await projects.startStep(stepId, id);
        for (let b = 0; b < beats && Date.now() < deadline; b++) {
          await new Promise((r) => setTimeout(r, beatMs));
          await goals.heartbeat(id, stepId);
          heartbeats += 1;
        }
        held.delete(stepId);
        await projects.completeStep({
          stepId,
          agentId: id,
          commitHash: `c-${stepId}`,
          leaseToken: c.lease_token ?? undefined,
        });
        completedAcks.add(stepId);
      } catch (err) {
        errors += 1;
        if (!(err instanceof AppError)) say(`agent ${id}: ${String(err)}`);
        else if (err.code !== 'LEASE_LOST') say(`agent ${id}: ${err.code} ${err.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: A }, (_, i) => agent(i)));
  clearInterval(sampler);
  clearInterval(progress);
  await sample();

  // Every acknowledged completion must be completed in the final state.
  let lost = 0;
  let completedFinal = 0;
  for (const name of names) {
    const view = await goals.getGoal(name);
    for (const t of view.tasks) {
      if (t.status === 'completed') completedFinal += 1;
      else if (completedAcks.has(t.id)) lost += 1;
    }
  }
  const continuedAsNew = runs.size - names.length;
  const summary = {
    projects: P,
    steps_per_project: S,
    agents: A,
    minutes,
    heartbeat_ms: beatMs,
    claims,
    heartbeats,
    completions_acknowledged: completedAcks.size,
    completed_in_final_state: completedFinal,
    lost_completions: lost,
    double_claims: doubleClaims,
    errors,
    max_history_length: maxHistory,
    runs_seen_beyond_first: continuedAsNew,
    heartbeats_per_s: Math.round((heartbeats / (minutes * 60)) * 10) / 10,
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  await env.close();
  process.exit(lost === 0 && doubleClaims === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`[soak] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
