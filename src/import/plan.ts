/**
 * What `agent-runtime import` recreates from a seed's SQLite rows, as plain data: goal, relay and breaker states
 * ready to start workflows with, and the seed's numeric task ids kept as aliases. No Temporal, no SQLite: the rows
 * come in as plain objects, so the mapping is tested without either.
 */
import { z } from 'zod';
import type { AliasEntry } from '../domain/aliases';
import { BREAKER_STATES, DEFAULT_CONFIG, newBreakerState, type BreakerState } from '../domain/breaker';
import { addTasks, newGoalState, refreshWaitingTasks, type GoalState } from '../domain/goal';
import { stepsToPlan } from '../domain/projects';
import { newRelayState, type RelayState } from '../domain/relay';
import { ANONYMOUS_AGENT, GoalIdSchema, type Task, type TaskSpec } from '../domain/schemas';

export type Row = Record<string, unknown>;
export type SeedSystem = 'agent-runtime-mcp' | 'hq';

/** A goal (or project), pipeline or breaker to create, named by its workflow id. */
export interface PlannedGoal {
  kind: 'goal' | 'project';
  seedId: string;
  state: GoalState;
}
export interface ImportPlan {
  system: SeedSystem;
  goals: PlannedGoal[];
  relays: Array<{ seedId: string; state: RelayState }>;
  breakers: Array<{ seedId: string; state: BreakerState }>;
  aliases: AliasEntry[];
  /** What could not be carried over as it was, one sentence each. */
  notes: string[];
}

/** Where an imported goal (task, pipeline, breaker) came from: kept in its memo so a second import skips it. */
export const importKey = (system: SeedSystem, kind: string, id: string | number): string => `${system}:${kind}:${id}`;

/** Goals that hold agent-runtime-mcp tasks created without a goal. */
export const IMPORTED_INBOX_GOAL_ID = 'imported-inbox';
/** Who holds an imported in-progress task that the seed recorded no agent for. */
export const IMPORTED_HOLDER = ANONYMOUS_AGENT;
const HQ_LEASE_SECONDS = 900;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
/** An id column (INTEGER or TEXT) as a string; null when absent. */
const idText = (v: unknown): string | null =>
  typeof v === 'number' ? String(v) : typeof v === 'string' && v !== '' ? v : null;
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
function json<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}
/** SQLite's `YYYY-MM-DD HH:MM:SS` (UTC) or Python's isoformat, as ISO 8601; null when absent or unreadable. */
export function isoTime(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const normal = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s) ? `${s.replace(' ', 'T')}Z` : s;
  const ms = Date.parse(normal);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const clampPriority = (p: unknown): number => Math.max(0, Math.min(100, Math.round(num(p, 5))));

/** Puts imported statuses, results and holders onto tasks that addTasks created pending/ready. */
function overlay(
  state: GoalState,
  task: Task,
  row: {
    status: string;
    agentId: string | null;
    result?: string | null;
    error?: string | null;
    created?: string | null;
    started?: string | null;
    claimed?: string | null;
    completed?: string | null;
    heartbeat?: string | null;
  },
  now: number,
  leaseSeconds: number,
): void {
  const at = new Date(now).toISOString();
  if (row.created) task.created_at = row.created;
  task.updated_at = at;
  switch (row.status) {
    case 'completed':
    case 'merged':
      task.status = 'completed';
      task.result = row.result ?? null;
      task.completed_at = row.completed ?? at;
      task.agent_id = row.agentId;
      task.started_at = row.started ?? null;
      task.claimed_at = row.claimed ?? null;
      break;
    case 'failed':
      task.status = 'failed';
      task.error = row.error ?? row.result ?? 'failed before the import';
      task.attempts = 1;
      task.agent_id = row.agentId;
      break;
    case 'cancelled':
      task.status = 'cancelled';
      task.error = row.error ?? null;
      break;
    case 'claimed':
    case 'in_progress': {
      // A held task stays held by the same agent, with a fresh lease and a new fencing token.
      state.leaseEpoch += 1;
      task.status = row.status;
      task.agent_id = row.agentId ?? IMPORTED_HOLDER;
      task.lease_token = state.leaseEpoch;
      task.lease_expires_at = leaseSeconds > 0 ? new Date(now + leaseSeconds * 1000).toISOString() : null;
      task.metadata = { ...task.metadata, lease_seconds: leaseSeconds };
      task.claimed_at = row.claimed ?? row.started ?? at;
      task.started_at = row.status === 'in_progress' ? (row.started ?? at) : null;
      task.last_heartbeat = at;
      break;
    }
    default:
      break; // pending: the dependencies decide between pending and ready
  }
}

/** Recomputes readiness and the goal's status after the overlay. */
function settle(state: GoalState, now: number, seedStatus: string | null): void {
  refreshWaitingTasks(state, now);
  const done = state.tasks.length > 0 && state.tasks.every((t) => t.status === 'completed' || t.status === 'cancelled');
  state.goal.status =
    seedStatus === 'cancelled' || seedStatus === 'aborted' ? 'cancelled' : done ? 'completed' : 'active';
}

// ------------------------------------------------------------------------------------------ agent-runtime-mcp

export interface AgentRuntimeMcpRows {
  goals: Row[];
  tasks: Row[];
  pipelines: Row[];
  results: Row[];
  batons: Row[];
  breakers: Row[];
  failures: Row[];
}

export function planAgentRuntimeMcp(rows: AgentRuntimeMcpRows, now: number): ImportPlan {
  const plan: ImportPlan = { system: 'agent-runtime-mcp', goals: [], relays: [], breakers: [], aliases: [], notes: [] };
  const system = plan.system;
  const tasksByGoal = new Map<string, Row[]>();
  const goalOfTask = new Map<number, string>();
  for (const t of [...rows.tasks].sort((a, b) => num(a.id) - num(b.id))) {
    const goalId = idText(t.goal_id) ?? IMPORTED_INBOX_GOAL_ID;
    goalOfTask.set(num(t.id), goalId);
    tasksByGoal.set(goalId, [...(tasksByGoal.get(goalId) ?? []), t]);
  }
  const goalRows: Row[] = [...rows.goals].sort((a, b) => num(a.id) - num(b.id));
  if (tasksByGoal.has(IMPORTED_INBOX_GOAL_ID)) {
    goalRows.push({ id: IMPORTED_INBOX_GOAL_ID, name: 'Imported inbox', description: 'Tasks created without a goal.' });
  }
  for (const g of goalRows) {
    const goalId = String(g.id);
    const meta = json<Record<string, unknown>>(g.metadata, {});
    const state = newGoalState(
      {
        id: goalId,
        name: str(g.name) ?? `Goal ${goalId}`,
        description: str(g.description) ?? '',
        metadata: {
          ...(meta && typeof meta === 'object' ? meta : {}),
          imported_from: importKey(system, 'goal', goalId),
        },
        leaseSeconds: 0, // the seed's cross-session resume: a task stays in progress until its agent comes back
      },
      now,
    );
    const taskRows = tasksByGoal.get(goalId) ?? [];
    const planIndex = new Map<number, number>(); // seed task id → its index in this goal's plan
    taskRows.forEach((t, i) => planIndex.set(num(t.id), i));
    const specs: TaskSpec[] = taskRows.map((t) => {
      const deps: number[] = [];
      for (const d of json<unknown[]>(t.dependencies, [])) {
        const mapped = typeof d === 'number' ? planIndex.get(d) : undefined;
        if (mapped !== undefined) deps.push(mapped);
        else
          plan.notes.push(
            `Task ${String(t.id)} depended on task ${String(d)} of another goal (or none); that dependency was dropped.`,
          );
      }
      const tMeta = json<Record<string, unknown>>(t.metadata, {});
      return {
        title: (str(t.title) ?? `Task ${String(t.id)}`).slice(0, 500),
        description: str(t.description) ?? undefined,
        priority: clampPriority(t.priority),
        dependencies: deps,
        metadata: { ...(tMeta && typeof tMeta === 'object' ? tMeta : {}), seed_id: num(t.id) },
      };
    });
    try {
      if (specs.length > 0) addTasks(state, specs, now, 'agent-runtime import');
    } catch (err) {
      plan.notes.push(`Goal ${goalId} was skipped: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    taskRows.forEach((t, i) => {
      const task = state.tasks[i] as Task;
      overlay(
        state,
        task,
        {
          status: str(t.status) ?? 'pending',
          agentId: null,
          result: str(t.result),
          error: str(t.error),
          created: isoTime(t.created_at),
          started: isoTime(t.started_at),
          completed: isoTime(t.completed_at),
        },
        now,
        0,
      );
      plan.aliases.push({ alias: String(num(t.id)), taskId: task.id, source: 'agent-runtime-mcp task' });
    });
    settle(state, now, str(g.status));
    if (isoTime(g.created_at)) state.goal.created_at = isoTime(g.created_at) as string;
    plan.goals.push({ kind: 'goal', seedId: goalId, state });
  }

  for (const p of rows.pipelines) {
    const relay = planRelay(p, rows, now, plan.notes);
    if (relay) plan.relays.push({ seedId: String(p.pipeline_id), state: relay });
  }
  for (const b of rows.breakers) {
    const breaker = planBreaker(b, rows.failures, now, plan.notes);
    if (breaker) plan.breakers.push({ seedId: String(b.agent_id), state: breaker });
  }
  return plan;
}

const PipelineIdSchema = GoalIdSchema;

function planRelay(p: Row, rows: AgentRuntimeMcpRows, now: number, notes: string[]): RelayState | undefined {
  const id = String(p.pipeline_id);
  if (!PipelineIdSchema.safeParse(id).success) {
    notes.push(`Pipeline ${id} was skipped: its id is not a valid pipeline id (letters, digits, . _ -).`);
    return undefined;
  }
  const agents = json<Array<{ agent_type?: string; quality_threshold?: number }>>(p.agents_json, []);
  if (agents.length === 0) {
    notes.push(`Pipeline ${id} was skipped: it has no agents.`);
    return undefined;
  }
  const thresholds: Record<string, number> = {};
  agents.forEach((a, i) => {
    if (typeof a.quality_threshold === 'number') thresholds[String(i)] = a.quality_threshold;
  });
  const state = newRelayState(
    {
      pipelineId: id,
      name: str(p.name) ?? id,
      goal: str(p.goal) ?? str(p.name) ?? id,
      description: str(p.description) ?? undefined,
      agentTypes: agents.map((a, i) => (str(a.agent_type) ?? `agent_${i + 1}`).slice(0, 64)),
      tokenBudget: Math.max(1, num(p.total_token_budget, 100_000)),
      qualityThresholds: thresholds,
    },
    now,
  );
  const results = rows.results.filter((r) => String(r.pipeline_id) === id);
  const batons = rows.batons.filter((b) => String(b.pipeline_id) === id);
  const at = new Date(now).toISOString();
  const current = Math.min(Math.max(0, num(p.current_step)), state.steps.length);
  state.steps.forEach((step, i) => {
    const passed = results.filter((r) => num(r.step_index) === i && r.status === 'passed').pop();
    const retries = Math.max(
      0,
      ...batons
        .filter((b) => num(b.sequence_position) === i + 1)
        .map((b) => num(json<Row>(b.baton_json, {}).retry_count)),
    );
    step.retries = Math.min(retries, state.max_retries);
    step.tokens_used = results.filter((r) => num(r.step_index) === i).reduce((n, r) => n + num(r.tokens_used), 0);
    step.gate_failures = results
      .filter((r) => num(r.step_index) === i && r.status === 'failed')
      .map((r) => ({ quality_score: num(r.quality_score), l_score: num(r.l_score), at: isoTime(r.created_at) ?? at }));
    if (i < current || (p.status === 'completed' && passed)) {
      step.status = 'passed';
      step.quality_score = passed ? num(passed.quality_score) : null;
      step.l_score = passed ? num(passed.l_score) : null;
      step.output_entity_id = passed ? idText(passed.output_entity_id) : null;
      step.started_at = step.started_at ?? at;
      step.completed_at = isoTime(passed?.created_at) ?? at;
    } else if (i === current) {
      step.status = 'active';
      step.started_at = at;
    } else {
      step.status = 'pending';
      step.started_at = null;
    }
  });
  state.tokens_used = num(p.tokens_used);
  state.created_at = isoTime(p.created_at) ?? state.created_at;
  const seedStatus = str(p.status) ?? 'pending';
  if (seedStatus === 'completed' || current >= state.steps.length) {
    state.status = 'completed';
    state.current = state.steps.length - 1;
    state.completed_at = isoTime(p.completed_at) ?? at;
  } else {
    state.current = current;
    const step = state.steps[current];
    if (seedStatus === 'failed' && step) {
      // The seed marks a failed gate as a failed pipeline; here it waits for retry_relay_step while retries remain.
      step.status = 'failed_gate';
      if (step.retries >= state.max_retries) {
        state.status = 'failed';
        state.failure_reason = `step ${current} (${step.agent_type}) failed its gate before the import`;
        state.completed_at = at;
      } else state.status = 'awaiting_retry';
    }
  }
  return state;
}

function planBreaker(b: Row, failures: Row[], now: number, notes: string[]): BreakerState | undefined {
  const agentId = str(b.agent_id);
  if (!agentId) return undefined;
  const seedConfig = json<Record<string, unknown>>(b.config, {});
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_CONFIG)) if (key in seedConfig) config[key] = seedConfig[key];
  let state: BreakerState;
  try {
    state = newBreakerState(agentId, now, config);
  } catch {
    notes.push(`The breaker of ${agentId} was skipped: its configuration or agent id is not valid here.`);
    return undefined;
  }
  const name = (str(b.state) ?? 'closed').toUpperCase();
  state.state = (BREAKER_STATES as readonly string[]).includes(name) ? (name as BreakerState['state']) : 'CLOSED';
  state.total_failures = num(b.total_failures);
  state.total_successes = num(b.total_successes);
  const windowStart = now - state.config.window_seconds * 1000;
  state.failures = failures
    .filter((f) => f.agent_id === agentId)
    .map((f) => ({
      at: isoTime(f.timestamp) ?? new Date(now).toISOString(),
      type: str(f.failure_type) ?? 'exception',
      message: str(f.error_message) ?? '',
    }))
    .filter((f) => Date.parse(f.at) > windowStart)
    .slice(-1000);
  if (state.state === 'OPEN') {
    // The cooldown keeps its end: the durable timer fires when the seed's cooldown_until would have.
    const until = isoTime(b.cooldown_until);
    const end = until ? Date.parse(until) : now + state.config.cooldown_seconds * 1000;
    state.opened_at = new Date(end - state.config.cooldown_seconds * 1000).toISOString();
  }
  return state;
}

// ------------------------------------------------------------------------------------------------------- hq

export interface HqRows {
  projects: Row[];
  steps: Row[];
  dependencies: Row[];
}

export function planHq(rows: HqRows, now: number): ImportPlan {
  const plan: ImportPlan = { system: 'hq', goals: [], relays: [], breakers: [], aliases: [], notes: [] };
  const stepById = new Map(rows.steps.map((s) => [num(s.id), s]));
  for (const p of [...rows.projects].sort((a, b) => num(a.id) - num(b.id))) {
    const name = String(p.name);
    if (!GoalIdSchema.safeParse(name).success) {
      plan.notes.push(
        `Project "${name}" was skipped: a project name here is letters, digits, . _ - (it is the project's id).`,
      );
      continue;
    }
    const steps = rows.steps
      .filter((s) => num(s.project_id) === num(p.id))
      .sort((a, b) => num(a.step_num) - num(b.step_num));
    if (steps.length === 0) {
      plan.notes.push(`Project "${name}" was skipped: it has no steps.`);
      continue;
    }
    const dependsOn = (s: Row): number[] =>
      rows.dependencies
        .filter((d) => num(d.step_id) === num(s.id))
        .map((d) => stepById.get(num(d.depends_on_step_id)))
        .filter((d): d is Row => d !== undefined && num(d.project_id) === num(p.id))
        .map((d) => num(d.step_num));
    const state = newGoalState(
      {
        id: name,
        name,
        description: `Project ${name} from ${str(p.base_commit) ?? 'an unknown commit'}`,
        metadata: { kind: 'project', base_commit: str(p.base_commit), imported_from: importKey('hq', 'project', name) },
        leaseSeconds: HQ_LEASE_SECONDS,
        priority: clampPriority(p.priority ?? 0),
      },
      now,
    );
    let specs: TaskSpec[];
    try {
      specs = stepsToPlan(
        steps.map((s) => ({
          step_num: num(s.step_num),
          branch: str(s.branch) ?? `step${num(s.step_num)}`,
          scope: str(s.scope) ?? 'default',
          depends_on: dependsOn(s),
        })),
      );
    } catch (err) {
      plan.notes.push(`Project "${name}" was skipped: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    addTasks(state, specs, now, 'agent-runtime import');
    steps.forEach((s, i) => {
      const task = state.tasks[i] as Task;
      task.metadata = {
        ...task.metadata,
        worktree: str(s.worktree),
        commit_hash: str(s.last_commit),
        files_modified: json<string[]>(s.files_modified, []),
        notes: str(s.notes),
        seed_id: num(s.id),
      };
      overlay(
        state,
        task,
        {
          status: str(s.status) ?? 'not_started',
          agentId: str(s.agent_id),
          result: str(s.notes),
          error: str(s.notes),
          started: isoTime(s.started_at),
          claimed: isoTime(s.claimed_at),
          completed: isoTime(s.completed_at),
        },
        now,
        HQ_LEASE_SECONDS,
      );
      plan.aliases.push({ alias: String(num(s.id)), taskId: task.id, source: 'hq step' });
    });
    settle(state, now, str(p.status));
    if (isoTime(p.created_at)) state.goal.created_at = isoTime(p.created_at) as string;
    plan.goals.push({ kind: 'project', seedId: name, state });
  }
  return plan;
}

export const SeedSystemSchema = z.enum(['agent-runtime-mcp', 'hq']);
