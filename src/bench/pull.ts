/**
 * The pull simulation: N agents each loop claim → simulated work → complete over independent tasks, for a fixed
 * time. Reports throughput, scaling efficiency against one agent, claim success rate, the Gini coefficient of tasks
 * per agent, double claims and claim latency. Pure helpers (gini, svg) are exported for tests.
 */
import type { GoalsClient } from '../client/goals';
import { summarize } from './stats';

export interface PullResult {
  agents: number;
  goals: number;
  throughput_per_s: number;
  efficiency: number;
  claim_success_rate: number;
  gini: number;
  double_claims: number;
  lost_completions: number;
  p99_claim_ms: number;
  completed: number;
}

/** Gini coefficient of non-negative counts: 0 = perfectly even, towards 1 = one agent did everything. */
export function gini(counts: number[]): number {
  const n = counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  const sorted = [...counts].sort((a, b) => a - b);
  let weighted = 0;
  sorted.forEach((c, i) => (weighted += (i + 1) * c));
  return Math.round(((2 * weighted) / (n * total) - (n + 1) / n) * 1000) / 1000;
}

/** Tasks per goal in the pull simulation: its start input stays under Temporal's 512 KB payload warning. */
export const GOAL_SIZE = 800;

export async function pullSimulation(
  goals: GoalsClient,
  agents: number,
  seconds: number,
  workMs: number,
  baseline?: number,
): Promise<PullResult> {
  // The agents are one team working through a queue of goals of up to GOAL_SIZE tasks each (enough for every agent
  // at full speed): all claim from the current goal and move to the next when it has no ready task left.
  const capacity = Math.ceil((agents * seconds * 1000) / workMs) + agents;
  const goalIds: string[] = [];
  for (let i = 0; i < capacity; i += GOAL_SIZE) {
    const size = Math.min(GOAL_SIZE, capacity - i);
    const goal = await goals.createGoal({
      name: `pull ${agents} #${goalIds.length}`,
      tasks: Array.from({ length: size }, (_, k) => ({ title: `w${i + k}` })),
    });
    goalIds.push(goal.id);
  }
  let current = 0;
  const held = new Set<string>();
  const completedBy = new Map<string, string>();
  let doubleClaims = 0;
  let attempts = 0;
  let successes = 0;
  const claimMs: number[] = [];
  const perAgent = new Array<number>(agents).fill(0);
  const deadline = Date.now() + seconds * 1000;

  await Promise.all(
    Array.from({ length: agents }, async (_, a) => {
      const agentId = `puller-${a}`;
      while (Date.now() < deadline) {
        attempts += 1;
        const t = process.hrtime.bigint();
        // One request for work: the current goal, or the next ones when it has run dry.
        let g = current;
        let c = await goals.claimNextTask({ agentId, goalId: goalIds[g] });
        while (!c.claimed && g + 1 < goalIds.length) {
          g += 1;
          current = Math.max(current, g);
          c = await goals.claimNextTask({ agentId, goalId: goalIds[g] });
        }
        claimMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (!c.claimed || !c.task) continue;
        successes += 1;
        if (held.has(c.task.id) || completedBy.has(c.task.id)) doubleClaims += 1;
        held.add(c.task.id);
        await new Promise((r) => setTimeout(r, workMs));
        await goals.setTaskStatus({
          taskId: c.task.id,
          status: 'completed',
          agentId,
          leaseToken: c.lease_token ?? undefined,
        });
        held.delete(c.task.id);
        completedBy.set(c.task.id, agentId);
        perAgent[a] = (perAgent[a] ?? 0) + 1;
      }
    }),
  );
  const elapsed = seconds;
  let lost = 0;
  for (const goalId of goalIds) {
    const view = await goals.getGoal(goalId);
    for (const t of view.tasks) if (completedBy.has(t.id) && t.status !== 'completed') lost += 1;
  }
  const throughput = Math.round((completedBy.size / elapsed) * 100) / 100;
  return {
    agents,
    goals: goalIds.length,
    throughput_per_s: throughput,
    efficiency: baseline ? Math.round((throughput / (agents * baseline)) * 1000) / 1000 : 1,
    claim_success_rate: attempts === 0 ? 0 : Math.round((successes / attempts) * 1000) / 1000,
    gini: gini(perAgent),
    double_claims: doubleClaims,
    lost_completions: lost,
    p99_claim_ms: summarize(claimMs).p99_ms,
    completed: completedBy.size,
  };
}

/** A small SVG chart: throughput (left axis) and p99 claim latency (right axis) against N. */
export function pullChart(results: PullResult[]): string {
  const W = 640;
  const H = 320;
  const pad = 50;
  const xs = results.map((r) => r.agents);
  const x = (n: number) =>
    pad +
    ((Math.log2(n) - Math.log2(xs[0] ?? 1)) / Math.max(1, Math.log2(xs[xs.length - 1] ?? 1) - Math.log2(xs[0] ?? 1))) *
      (W - 2 * pad);
  const maxT = Math.max(1, ...results.map((r) => r.throughput_per_s));
  const maxL = Math.max(1, ...results.map((r) => r.p99_claim_ms));
  const yT = (v: number) => H - pad - (v / maxT) * (H - 2 * pad);
  const yL = (v: number) => H - pad - (v / maxL) * (H - 2 * pad);
  const line = (pts: string, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"/>`;
  const tPts = results.map((r) => `${x(r.agents).toFixed(1)},${yT(r.throughput_per_s).toFixed(1)}`).join(' ');
  const lPts = results.map((r) => `${x(r.agents).toFixed(1)},${yL(r.p99_claim_ms).toFixed(1)}`).join(' ');
  const ticks = results
    .map(
      (r) =>
        `<text x="${x(r.agents).toFixed(1)}" y="${H - pad + 18}" font-size="11" text-anchor="middle">${r.agents}</text>`,
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" font-size="14" text-anchor="middle">Pull simulation: throughput and p99 claim latency vs agents</text>`,
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>`,
    ticks,
    `<text x="${W / 2}" y="${H - 10}" font-size="11" text-anchor="middle">agents (N)</text>`,
    line(tPts, '#1f77b4'),
    line(lPts, '#d62728'),
    `<text x="${pad}" y="${pad - 10}" font-size="11" fill="#1f77b4">throughput (tasks/s), max ${maxT}</text>`,
    `<text x="${W - pad}" y="${pad - 10}" font-size="11" fill="#d62728" text-anchor="end">p99 claim (ms), max ${maxL}</text>`,
    '</svg>',
  ].join('\n');
}
