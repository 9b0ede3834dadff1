/**
 * `npm run bench -- --postgres`: the headline figures of both engines' reports side by side, with postgres ÷ dev.
 */
export interface SideBySideRow {
  figure: string;
  dev: number | null;
  postgres: number | null;
  /** postgres ÷ dev, 2 decimals (null when either is missing or dev is 0). */
  ratio: number | null;
}

type Report = Record<string, unknown>;

const p50 = (key: string) => (r: Report) => (r[key] as { p50_ms?: number } | undefined)?.p50_ms;

/** What each row reads from a report; a scenario the run skipped (e.g. scale in --quick) gives null. */
const FIGURES: [string, (r: Report) => number | undefined][] = [
  ['floor p50 ms (no-op Update)', p50('floor')],
  ['claim p50 ms (direct)', p50('claim_direct')],
  ['claim p50 ms (MCP over HTTP)', p50('claim_mcp')],
  ['relay handoff p50 ms', p50('handoff')],
  ['decompose 100-task plan p50 ms', p50('decompose_plan_100')],
  ['agent push p50 ms', p50('agent_push')],
  ['agent complete_task p50 ms', p50('agent_complete')],
  [
    'one goal, most stdio agents, no work: claims/s',
    (r) =>
      oneGoal(r)
        ?.rows.filter((row) => row.work_ms === 0)
        .pop()?.claims_per_s,
  ],
  ['one goal: chain handoff p50 ms', (r) => oneGoal(r)?.handoff_p50_ms],
  ['pull, most agents: tasks/s', (r) => lastPull(r)?.throughput_per_s],
  ['pull, most agents: efficiency', (r) => lastPull(r)?.efficiency],
  ['task-graph claim p50 ms (big workspace)', (r) => tg(r)?.claim.p50_ms],
  [
    'list_goals p50 ms (rows from Visibility)',
    (r) => (r.lists as { list_goals_p50_ms?: number } | undefined)?.list_goals_p50_ms,
  ],
  ['scale (100 × 100 steps, 1,000 agents): claims/s', (r) => scale(r)?.claims_per_s],
  ['scale: wall s', (r) => scale(r)?.wall_s],
  ['scale: double claims', (r) => scale(r)?.double_claims],
  ['scale: lost completions', (r) => scale(r)?.lost_completions],
  ['double claims, all pull and one-goal rows', (r) => doubles(r)],
];

function oneGoal(r: Report) {
  return r.one_goal_stdio as
    | {
        rows: { agents: number; work_ms: number; claims_per_s: number; double_claims: number }[];
        handoff_p50_ms: number;
      }
    | undefined;
}
function lastPull(r: Report) {
  const pull = r.pull as { throughput_per_s: number; efficiency: number; double_claims: number }[] | undefined;
  return pull?.[pull.length - 1];
}
function tg(r: Report) {
  return r.task_graph_workspace as { claim: { p50_ms: number } } | undefined;
}
function scale(r: Report) {
  return r.scale as
    { claims_per_s: number; wall_s: number; double_claims: number; lost_completions: number } | undefined;
}
function doubles(r: Report): number | undefined {
  const pull = r.pull as { double_claims: number }[] | undefined;
  const rows = oneGoal(r)?.rows;
  if (!pull || !rows) return undefined;
  return [...pull, ...rows].reduce((sum, row) => sum + row.double_claims, 0);
}

export function sideBySide(dev: Report, postgres: Report): SideBySideRow[] {
  return FIGURES.map(([figure, read]) => {
    const d = read(dev) ?? null;
    const p = read(postgres) ?? null;
    const ratio = d !== null && p !== null && d !== 0 ? Math.round((p / d) * 100) / 100 : null;
    return { figure, dev: d, postgres: p, ratio };
  });
}

export function sideBySideMd(rows: SideBySideRow[]): string {
  const cell = (v: number | null) => (v === null ? '—' : String(v));
  return [
    '| figure | dev server | PostgreSQL | PostgreSQL ÷ dev |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.figure} | ${cell(r.dev)} | ${cell(r.postgres)} | ${cell(r.ratio)} |`),
  ].join('\n');
}
