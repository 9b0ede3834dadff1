/**
 * hq's model on the goal model: a project is a goal (its name is the goal id), a step is a task carrying
 * step_num, branch and scope. Pure conversions, metrics and staleness; no Temporal here.
 */
import type { z } from 'zod';
import { sharedSchemas } from './shared';
import { fail } from './errors';
import { findCycle } from './goal';
import { escapeCell, forPanel, utcShort } from './text';
import type { GoalState } from './goal';
import { LIMITS, TASK_STATUSES, type Task, type TaskCounts, type TaskSpec, type TaskStatus } from './schemas';

export const STEP_STATUSES = ['not_started', 'claimed', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

// Built once per workflow thread (see ./shared); the names below are those objects.
const schemas = sharedSchemas('domain/projects', (z) => {
  const StepSpecSchema = z.object({
    step_num: z.int().min(0).max(1_000_000),
    branch: z.string().min(1).max(LIMITS.nameLength),
    scope: z.string().min(1).max(LIMITS.fileLength),
    depends_on: z.array(z.int().min(0)).max(LIMITS.dependenciesPerTask).default([]),
    title: z.string().trim().min(1).max(LIMITS.titleLength).optional(),
    description: z.string().max(LIMITS.descriptionLength).optional(),
  });

  const StepSchema = z.object({
    id: z.string().describe('The step id (`<project>/<n>`): pass it to start_step, complete_step, …'),
    project_id: z.string(),
    step_num: z.number(),
    branch: z.string(),
    scope: z.string().nullable(),
    status: z.enum(STEP_STATUSES),
    ready: z.boolean().describe('Not started and every dependency completed: claimable now.'),
    task_status: z.string().describe('The runtime’s finer state: pending, ready, blocked, claimed, …'),
    depends_on: z.array(z.number()),
    blocked_by: z.array(z.string()),
    agent_id: z.string().nullable(),
    claimed_at: z.string().nullable(),
    started_at: z.string().nullable(),
    last_heartbeat: z.string().nullable(),
    completed_at: z.string().nullable(),
    lease_expires_at: z.string().nullable(),
    lease_token: z.number().nullable(),
    worktree: z.string().nullable(),
    commit_hash: z.string().nullable(),
    last_commit: z.string().nullable().describe('hq’s name for commit_hash.'),
    files_modified: z.array(z.string()),
    notes: z.string().nullable(),
    failure_reason: z.string().nullable(),
    attempts: z.number(),
    failures: z.array(z.unknown()),
    title: z.string(),
  });

  // ------------------------------------------------------------------------------------------------ metrics

  const CountsSchema = z.object({
    total: z.number(),
    not_started: z.number(),
    claimed: z.number(),
    in_progress: z.number(),
    completed: z.number(),
    failed: z.number(),
    cancelled: z.number(),
  });

  const MetricsSchema = z.object({
    counts: CountsSchema,
    avg_seconds_claim_to_complete: z.number().nullable(),
    avg_seconds_start_to_complete: z.number().nullable(),
    by_scope: z.record(z.string(), CountsSchema),
    by_agent: z.record(
      z.string(),
      z.object({
        completed: z.number(),
        failed: z.number(),
        active: z.number(),
        avg_seconds_claim_to_complete: z.number().nullable(),
      }),
    ),
  });

  const StepListSchema = z.array(StepSpecSchema).max(LIMITS.tasksPerCall);
  const StringListSchema = z.array(z.string().max(LIMITS.fileLength)).max(LIMITS.filesPerTask);

  return { StepSpecSchema, StepSchema, CountsSchema, MetricsSchema, StepListSchema, StringListSchema };
});
export const { StepSpecSchema, StepSchema, CountsSchema, MetricsSchema } = schemas;
const { StepListSchema, StringListSchema } = schemas;

export type StepSpec = z.infer<typeof StepSpecSchema>;

/** hq's vocabulary: everything not yet claimed is not_started (ready says whether it can be claimed now). */
export function stepStatus(status: TaskStatus): StepStatus {
  switch (status) {
    case 'pending':
    case 'ready':
    case 'blocked':
      return 'not_started';
    default:
      return status;
  }
}
export type Step = z.infer<typeof StepSchema>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function toStep(task: Task): Step {
  const m = task.metadata;
  return {
    id: task.id,
    project_id: task.goal_id,
    step_num: typeof m.step_num === 'number' ? m.step_num : Number(task.id.split('/').pop()),
    branch: str(m.branch) ?? '',
    scope: task.scope,
    status: stepStatus(task.status),
    ready: task.status === 'ready',
    task_status: task.status,
    depends_on: Array.isArray(m.depends_on) ? (m.depends_on as number[]) : [],
    blocked_by: task.blocked_by,
    agent_id: task.agent_id,
    claimed_at: task.claimed_at,
    started_at: task.started_at,
    last_heartbeat: task.last_heartbeat,
    completed_at: task.completed_at,
    lease_expires_at: task.lease_expires_at,
    lease_token: task.lease_token,
    worktree: str(m.worktree),
    commit_hash: str(m.commit_hash),
    last_commit: str(m.commit_hash),
    files_modified: Array.isArray(m.files_modified) ? (m.files_modified as string[]) : [],
    notes: str(m.notes),
    failure_reason: task.error,
    attempts: task.attempts,
    failures: Array.isArray(m.failures) ? (m.failures as unknown[]) : [],
    title: task.title,
  };
}

/**
 * Turns hq steps into one atomic plan: ordered by step_num (so older = lower step), `depends_on` by step_num
 * resolved to plan indexes. Duplicate or unknown step numbers and cycles are refused.
 */
export function stepsToPlan(steps: StepSpec[]): TaskSpec[] {
  if (steps.length === 0) fail('INVALID_ARGUMENT', 'A project needs at least one step.');
  const sorted = [...steps].sort((a, b) => a.step_num - b.step_num);
  const index = new Map<number, number>();
  sorted.forEach((s, i) => {
    if (index.has(s.step_num))
      fail('INVALID_ARGUMENT', `Step number ${s.step_num} appears twice; step numbers must be unique.`);
    index.set(s.step_num, i);
  });
  const deps = sorted.map((s) =>
    s.depends_on.map((n) => {
      const i = index.get(n);
      if (i === undefined) {
        fail(
          'INVALID_ARGUMENT',
          `Step ${s.step_num} depends on step ${n}, which is not in this project. Known steps: ${[...index.keys()].join(', ')}.`,
        );
      }
      if (n === s.step_num) fail('DEPENDENCY_CYCLE', `Step ${n} cannot depend on itself.`);
      return i;
    }),
  );
  const names = sorted.map((s) => `step ${s.step_num}`);
  const cycle = findCycle(
    names,
    deps.map((d) => d.map((i) => names[i] as string)),
  );
  if (cycle)
    fail(
      'DEPENDENCY_CYCLE',
      `These steps depend on each other in a cycle: ${cycle.join(' → ')}. Remove one dependency.`,
    );
  return sorted.map((s, i) => ({
    title: s.title ?? `Step ${s.step_num}: ${s.branch}`,
    description: s.description ?? `Work on branch ${s.branch} in ${s.scope}.`,
    scope: s.scope,
    dependencies: [...new Set(deps[i])],
    metadata: { kind: 'step', step_num: s.step_num, branch: s.branch, depends_on: s.depends_on },
  }));
}

/** Parses steps given as an array or as a JSON string (hq accepted both). */
export function parseSteps(raw: unknown): StepSpec[] {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch (err) {
      fail(
        'INVALID_ARGUMENT',
        `steps is a string but not valid JSON (${err instanceof Error ? err.message : String(err)}); pass an array of {step_num, branch, scope, depends_on}.`,
      );
    }
  }
  const parsed = StepListSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(
      'INVALID_ARGUMENT',
      `Invalid steps: ${issue ? `${issue.path.join('.') || '(steps)'}: ${issue.message}` : 'not an array'}. Each step is {step_num, branch, scope, depends_on: [step_num, …]}.`,
    );
  }
  return parsed.data;
}

/** files_modified as an array or a JSON string of an array. */
export function parseStringList(raw: unknown, what: string): string[] {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
  }
  const parsed = StringListSchema.safeParse(value);
  if (!parsed.success) fail('INVALID_ARGUMENT', `${what} must be an array of strings (or a JSON string of one).`);
  return parsed.data;
}

// ------------------------------------------------------------------------------------------------ staleness

export interface StaleStep {
  step: Step;
  minutes_since_heartbeat: number;
}

/** Held steps whose last heartbeat (or claim) is older than the timeout. */
export function staleSteps(tasks: readonly Task[], now: number, timeoutMinutes: number): StaleStep[] {
  const out: StaleStep[] = [];
  for (const t of tasks) {
    if (t.status !== 'claimed' && t.status !== 'in_progress') continue;
    const last = Date.parse(t.last_heartbeat ?? t.claimed_at ?? t.updated_at);
    const minutes = (now - last) / 60_000;
    if (minutes >= timeoutMinutes)
      out.push({ step: toStep(t), minutes_since_heartbeat: Math.round(minutes * 10) / 10 });
  }
  return out;
}
type Counts = z.infer<typeof CountsSchema>;
export type Metrics = z.infer<typeof MetricsSchema>;

const emptyCounts = (): Counts => ({
  total: 0,
  not_started: 0,
  claimed: 0,
  in_progress: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
});

function mean(values: number[]): number | null {
  return values.length === 0 ? null : Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10;
}

/** Step counts from a goal's task counts (what a list row carries), the same as computeMetrics' counts. */
export function stepCountsOf(taskCounts: TaskCounts): Counts {
  const counts = emptyCounts();
  for (const status of TASK_STATUSES) {
    const n = taskCounts[status];
    counts.total += n;
    counts[stepStatus(status)] += n;
  }
  return counts;
}

export function computeMetrics(tasks: readonly Task[]): Metrics {
  const counts = emptyCounts();
  const byScope: Record<string, Counts> = {};
  const agents: Record<string, { completed: number; failed: number; active: number; durations: number[] }> = {};
  const claimToComplete: number[] = [];
  const startToComplete: number[] = [];
  for (const t of tasks) {
    const s = stepStatus(t.status);
    counts.total += 1;
    counts[s] += 1;
    const scope = t.scope ?? '(none)';
    const sc = (byScope[scope] ??= emptyCounts());
    sc.total += 1;
    sc[s] += 1;
    if (t.agent_id) {
      const a = (agents[t.agent_id] ??= { completed: 0, failed: 0, active: 0, durations: [] });
      if (t.status === 'completed') a.completed += 1;
      else if (t.status === 'failed') a.failed += 1;
      else if (t.status === 'claimed' || t.status === 'in_progress') a.active += 1;
    }
    if (t.status === 'completed' && t.completed_at) {
      const end = Date.parse(t.completed_at);
      if (t.claimed_at) {
        const d = (end - Date.parse(t.claimed_at)) / 1000;
        claimToComplete.push(d);
        if (t.agent_id) agents[t.agent_id]?.durations.push(d);
      }
      if (t.started_at) startToComplete.push((end - Date.parse(t.started_at)) / 1000);
    }
  }
  return {
    counts,
    avg_seconds_claim_to_complete: mean(claimToComplete),
    avg_seconds_start_to_complete: mean(startToComplete),
    by_scope: byScope,
    by_agent: Object.fromEntries(
      Object.entries(agents).map(([id, a]) => [
        id,
        {
          completed: a.completed,
          failed: a.failed,
          active: a.active,
          avg_seconds_claim_to_complete: mean(a.durations),
        },
      ]),
    ),
  };
}

/** A project's current details in the Web UI, in hq's words: its steps with hq's statuses, branches and commits. */
export function renderProjectDetails(state: GoalState, maxRows = 25, now = Date.now()): string {
  const steps = state.tasks.map(toStep);
  const count = (st: string): number => steps.filter((x) => x.status === st).length;
  const lines = [
    `### Project: ${escapeCell(state.goal.name)}`,
    `**${state.goal.status}** · ${count('completed')}/${steps.length} completed · not started ${count('not_started')} (ready ${steps.filter((x) => x.ready).length}) · claimed ${count('claimed')} · in progress ${count('in_progress')} · failed ${count('failed')} · cancelled ${count('cancelled')}`,
    '',
  ];
  if (steps.length > 0) {
    lines.push(
      '| step | status | agent | branch | commit | lease ends (UTC) | blocked by | title |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const open = steps.filter((x) => x.status !== 'completed' && x.status !== 'cancelled');
    const shown = (open.length > 0 ? open : steps).slice(0, maxRows);
    for (const x of shown) {
      lines.push(
        `| ${x.step_num} | ${x.status}${x.ready ? ' (ready)' : ''} | ${x.agent_id ?? ''} | ${escapeCell(x.branch)} | ${(x.commit_hash ?? '').slice(0, 12)} | ${utcShort(x.lease_expires_at, now)} | ${x.blocked_by.map((b) => b.split('/').pop()).join(', ')} | ${escapeCell(x.title.slice(0, 60))} |`,
      );
    }
    const hidden = (open.length > 0 ? open.length : steps.length) - shown.length;
    if (hidden > 0) lines.push('', `…and ${hidden} more open step(s).`);
  }
  return forPanel(lines);
}
