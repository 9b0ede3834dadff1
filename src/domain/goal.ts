/**
 * The task state machine of one goal, as plain functions over plain JSON data (DESIGN §3).
 *
 *   pending (dependencies open) → ready → claimed → in_progress → completed | failed | cancelled
 *   claimed / in_progress → ready      on release or lease expiry (attempts + 1)
 *   failed / cancelled → ready         on retry, while attempts < max_attempts
 *   pending → blocked                  while a dependency is failed or cancelled; back on its retry
 *
 * Functions mutate the state they are given and throw DomainError for refusals; `check*` variants only validate
 * so that workflow update validators can reject bad calls before anything is written to history.
 * Time is always passed in (`now`, epoch ms): the workflow supplies its deterministic clock.
 */
import { DomainError, fail } from './errors';
import { escapeCell, forPanel, utcShort } from './text';
import type {
  ClaimInput,
  ClaimResult,
  CompleteInput,
  FailInput,
  Goal,
  GoalEvent,
  GoalStatus,
  GoalSummary,
  HeartbeatInput,
  HeartbeatResult,
  HolderInput,
  ReleaseInput,
  Task,
  TaskCounts,
  TaskSpec,
  TaskStatus,
} from './schemas';
import { ANONYMOUS_AGENT, GoalSummarySchema, LIMITS } from './schemas';

export const DEFAULT_PRIORITY = 5;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_EVENTS = 500;

export interface GoalState {
  goal: Goal;
  /** Task n lives at index n - 1; ids are `<goal_id>/<n>`. */
  tasks: Task[];
  /** The most recent events, oldest first, at most MAX_EVENTS. */
  events: GoalEvent[];
  eventSeq: number;
  /** Grows on every claim; a claim's lease_token is the epoch at that moment. */
  leaseEpoch: number;
}

export interface NewGoalInput {
  id: string;
  name: string;
  description?: string;
  metadata?: Record<string, unknown>;
  leaseSeconds?: number;
  maxAttempts?: number;
  priority?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function newGoalState(input: NewGoalInput, now: number): GoalState {
  const at = iso(now);
  const state: GoalState = {
    goal: {
      id: input.id,
      name: input.name,
      description: input.description ?? '',
      status: 'active',
      metadata: input.metadata ?? {},
      lease_seconds: input.leaseSeconds ?? 0,
      max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      priority: input.priority ?? DEFAULT_PRIORITY,
      created_at: at,
      updated_at: at,
    },
    tasks: [],
    events: [],
    eventSeq: 0,
    leaseEpoch: 0,
  };
  logEvent(state, now, 'goal_created', null, null, input.name);
  return state;
}

// ---------------------------------------------------------------------------------------------- lookups

export function taskNumber(goalId: string, taskId: string): number | undefined {
  const slash = taskId.lastIndexOf('/');
  if (slash < 0 || taskId.slice(0, slash) !== goalId) return undefined;
  const n = Number(taskId.slice(slash + 1));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function findTask(state: GoalState, taskId: string): Task | undefined {
  const n = taskNumber(state.goal.id, taskId);
  return n === undefined ? undefined : state.tasks[n - 1];
}

export function getTask(state: GoalState, taskId: string): Task {
  return (
    findTask(state, taskId) ??
    fail('NOT_FOUND', `Task ${taskId} does not exist in goal ${state.goal.id}. Call list_tasks to see its tasks.`)
  );
}

export function goalIdOfTask(taskId: string): string | undefined {
  const slash = taskId.lastIndexOf('/');
  return slash > 0 ? taskId.slice(0, slash) : undefined;
}

// ---------------------------------------------------------------------------------------------- events

export function logEvent(
  state: GoalState,
  now: number,
  type: string,
  taskId: string | null,
  agentId: string | null,
  detail: string | null = null,
): void {
  state.eventSeq += 1;
  state.events.push({ seq: state.eventSeq, at: iso(now), type, task_id: taskId, agent_id: agentId, detail });
  if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
}

// ---------------------------------------------------------------------------------------------- creating tasks

/** Resolves a plan's dependencies to task ids, or throws; changes nothing. */
export function checkAddTasks(state: GoalState, specs: TaskSpec[]): string[][] {
  if (state.goal.status === 'cancelled') {
    fail('GOAL_CLOSED', `Goal ${state.goal.id} is cancelled; create a new goal for new work.`);
  }
  if (state.tasks.length + specs.length > LIMITS.tasksPerGoal) {
    fail(
      'INVALID_ARGUMENT',
      `A goal holds at most ${LIMITS.tasksPerGoal} tasks; goal ${state.goal.id} has ${state.tasks.length}. Split the work into another goal.`,
    );
  }
  const firstN = state.tasks.length + 1;
  const ids = specs.map((_, i) => `${state.goal.id}/${firstN + i}`);
  const resolved = specs.map((spec, i) =>
    (spec.dependencies ?? []).map((dep) => {
      if (typeof dep === 'number') {
        if (dep >= specs.length) {
          fail(
            'INVALID_ARGUMENT',
            `Task ${i} ("${spec.title}") depends on plan index ${dep}, but the plan has ${specs.length} tasks (indexes 0-${specs.length - 1}).`,
          );
        }
        if (dep === i) fail('DEPENDENCY_CYCLE', `Task ${i} ("${spec.title}") cannot depend on itself.`);
        return ids[dep] as string;
      }
      if (!findTask(state, dep)) {
        fail(
          'NOT_FOUND',
          `Task ${i} ("${spec.title}") depends on ${dep}, which is not a task of goal ${state.goal.id}. Dependencies must be tasks of the same goal.`,
        );
      }
      return dep;
    }),
  );
  // Existing tasks never depend on new ones, so a cycle can only run through the new batch.
  const cycle = findCycle(ids, resolved);
  if (cycle) {
    fail('DEPENDENCY_CYCLE', `These dependencies form a cycle: ${cycle.join(' → ')}. Remove one of them.`, {
      cycle,
    });
  }
  return resolved.map((deps) => [...new Set(deps)]);
}

/** Returns one cycle among `ids` (as a closed path) or undefined. Edges point from a task to its dependencies. */
export function findCycle(ids: string[], deps: string[][]): string[] | undefined {
  const index = new Map(ids.map((id, i) => [id, i]));
  const colour = new Array<number>(ids.length).fill(0); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const visit = (i: number): string[] | undefined => {
    colour[i] = 1;
    stack.push(i);
    for (const dep of deps[i] ?? []) {
      const j = index.get(dep);
      if (j === undefined) continue;
      if (colour[j] === 1) {
        const from = stack.indexOf(j);
        return [...stack.slice(from), j].map((k) => ids[k] as string);
      }
      if (colour[j] === 0) {
        const found = visit(j);
        if (found) return found;
      }
    }
    stack.pop();
    colour[i] = 2;
    return undefined;
  };
  for (let i = 0; i < ids.length; i++) {
    if (colour[i] === 0) {
      const found = visit(i);
      if (found) return found;
    }
  }
  return undefined;
}

export function addTasks(state: GoalState, specs: TaskSpec[], now: number, source = 'create_task'): Task[] {
  const deps = checkAddTasks(state, specs);
  const at = iso(now);
  const created = specs.map((spec, i): Task => {
    const n = state.tasks.length + 1;
    const task: Task = {
      id: `${state.goal.id}/${n}`,
      goal_id: state.goal.id,
      title: spec.title,
      description: spec.description ?? '',
      priority: spec.priority ?? DEFAULT_PRIORITY,
      status: 'pending',
      dependencies: deps[i] ?? [],
      blocked_by: [],
      scope: spec.scope ?? null,
      tags: spec.tags ?? [],
      files: spec.files ?? [],
      agent_id: null,
      lease_token: null,
      lease_expires_at: null,
      claimed_at: null,
      started_at: null,
      last_heartbeat: null,
      completed_at: null,
      attempts: 0,
      max_attempts: spec.max_attempts ?? state.goal.max_attempts,
      result: null,
      error: null,
      created_at: at,
      updated_at: at,
      metadata: spec.metadata ?? {},
    };
    state.tasks.push(task);
    return task;
  });
  refreshWaitingTasks(state, now);
  logEvent(state, now, 'tasks_created', null, null, `${created.length} task(s) via ${source}`);
  touchGoal(state, now);
  return created;
}

// ---------------------------------------------------------------------------------------------- readiness

/**
 * Recomputes pending / ready / blocked for every task that is waiting on others. A task is blocked while any
 * dependency is failed or cancelled (or itself blocked), with `blocked_by` naming the root causes.
 */
export function refreshWaitingTasks(state: GoalState, now: number): void {
  const memo = new Map<string, string[]>(); // task id → root failed/cancelled tasks it waits on
  const roots = (task: Task): string[] => {
    const known = memo.get(task.id);
    if (known) return known;
    memo.set(task.id, []); // cycles are refused on creation; this only guards against bad data
    let result: string[];
    if (task.status === 'failed' || task.status === 'cancelled') result = [task.id];
    else if (task.status === 'pending' || task.status === 'blocked') {
      const found = new Set<string>();
      for (const depId of task.dependencies) {
        const dep = findTask(state, depId);
        if (dep) for (const r of roots(dep)) found.add(r);
      }
      result = [...found];
    } else result = [];
    memo.set(task.id, result);
    return result;
  };
  for (const task of state.tasks) {
    if (task.status !== 'pending' && task.status !== 'blocked' && task.status !== 'ready') continue;
    // A ready task with no dependencies stays ready: nothing to recompute (most tasks of a flat plan).
    if (task.status === 'ready' && task.dependencies.length === 0) continue;
    const blockers = roots({ ...task, status: task.status === 'ready' ? 'pending' : task.status });
    let next: TaskStatus;
    if (blockers.length > 0) next = 'blocked';
    else {
      const open = task.dependencies.some((id) => {
        const dep = findTask(state, id);
        return dep !== undefined && dep.status !== 'completed';
      });
      next = open ? 'pending' : 'ready';
    }
    if (next !== task.status || (next === 'blocked' && blockers.join() !== task.blocked_by.join())) {
      const was = task.status;
      task.status = next;
      task.blocked_by = next === 'blocked' ? blockers : [];
      task.updated_at = iso(now);
      if (was !== next) {
        logEvent(state, now, next === 'blocked' ? 'task_blocked' : `task_${next}`, task.id, null, `was ${was}`);
      }
    }
  }
}

/**
 * Closes the goal for good (its workflow was asked to cancel): nothing more is created or claimed in it; its tasks stay
 * as they were, the record of what was in flight.
 */
export function cancelGoal(state: GoalState, now: number, reason: string): void {
  if (state.goal.status === 'cancelled') return;
  state.goal.status = 'cancelled';
  state.goal.updated_at = iso(now);
  logEvent(state, now, 'goal_cancelled', null, null, reason);
}

function touchGoal(state: GoalState, now: number): void {
  state.goal.updated_at = iso(now);
  if (state.goal.status === 'cancelled') return;
  const done = state.tasks.length > 0 && state.tasks.every((t) => t.status === 'completed' || t.status === 'cancelled');
  const next: GoalStatus = done ? 'completed' : 'active';
  if (next !== state.goal.status) {
    state.goal.status = next;
    logEvent(state, now, `goal_${next === 'completed' ? 'completed' : 'reopened'}`, null, null);
  }
}

// ---------------------------------------------------------------------------------------------- claiming

/** Whether an agent offering `tags` as its capabilities may take the task: every tag the task asks for. */
export function matchesClaim(task: Task, filter: { scope?: string; tags?: string[] }): boolean {
  if (filter.scope !== undefined) {
    const s = task.scope;
    if (
      s === null ||
      (s !== filter.scope && !s.startsWith(filter.scope.endsWith('/') ? filter.scope : `${filter.scope}/`))
    )
      return false;
  }
  if (filter.tags !== undefined && task.tags.length > 0) {
    const offered = new Set(filter.tags);
    if (!task.tags.every((t) => offered.has(t))) return false;
  }
  return true;
}

/** The agent a task was pushed to (an assignment), or null. Only that agent may claim an assigned task. */
export function assigneeOf(task: Task): string | null {
  const a = task.metadata.assigned_to;
  return typeof a === 'string' ? a : null;
}

/**
 * The next task an agent would get: a task pushed to it first, then the highest priority, then the oldest. Tasks
 * pushed to other agents are not offered.
 */
export function pickNextTask(
  state: GoalState,
  filter: { scope?: string; tags?: string[]; agentId?: string },
): Task | undefined {
  let best: Task | undefined;
  let bestMine = false;
  for (const task of state.tasks) {
    if (task.status !== 'ready' || !matchesClaim(task, filter)) continue;
    const assignee = assigneeOf(task);
    if (assignee !== null && assignee !== filter.agentId) continue;
    const mine = assignee !== null;
    if (!best || (mine && !bestMine) || (mine === bestMine && task.priority > best.priority)) {
      best = task;
      bestMine = mine;
    }
  }
  return best;
}

export function checkClaim(state: GoalState, input: ClaimInput): Task {
  if (state.goal.status === 'cancelled')
    fail('GOAL_CLOSED', `Goal ${state.goal.id} is cancelled; it has no work to claim.`);
  if (input.taskId !== undefined) {
    const task = getTask(state, input.taskId);
    if (task.status !== 'ready') {
      fail('CONFLICT', `Task ${task.id} is ${task.status}, not ready, so it cannot be claimed${holderNote(task)}.`);
    }
    const assignee = assigneeOf(task);
    if (assignee !== null && assignee !== input.agentId) {
      fail('CONFLICT', `Task ${task.id} was pushed to ${assignee}; only that agent may claim it.`);
    }
    return task;
  }
  return pickNextTask(state, input) ?? fail('NO_WORK', noWorkReason(state, input), { goal_id: state.goal.id });
}

export function noWorkReason(state: GoalState, filter: { scope?: string; tags?: string[] }): string {
  const c = countTasks(state.tasks);
  if (c.total === 0) return `Goal ${state.goal.id} has no tasks yet; add some with create_task or decompose_goal.`;
  if (c.ready > 0) {
    const asked = [filter.scope ? `scope "${filter.scope}"` : '', filter.tags ? `tags [${filter.tags.join(', ')}]` : '']
      .filter(Boolean)
      .join(' and ');
    return `Goal ${state.goal.id} has ${c.ready} ready task(s), but none matches ${asked || 'this claim'}.`;
  }
  const parts = [
    c.pending > 0 ? `${c.pending} waiting on dependencies` : '',
    c.claimed + c.in_progress > 0 ? `${c.claimed + c.in_progress} held by other agents` : '',
    c.blocked > 0 ? `${c.blocked} blocked by failed tasks` : '',
    c.failed > 0 ? `${c.failed} failed` : '',
  ].filter(Boolean);
  if (parts.length === 0) return `Goal ${state.goal.id} is ${state.goal.status}: every task is done.`;
  return `No task of goal ${state.goal.id} is ready: ${parts.join(', ')}.`;
}

/**
 * How long a claim made without a lease lasts until its holder follows it up (starts, heartbeats, completes…): a
 * claim whose answer never reached its agent (a call timed out on the client, a long-poll whose caller went away)
 * goes back to the queue instead of being held forever. After the first follow-up the goal's own policy applies.
 * This is what a claim without the field gets (0, off: claims recorded before the pickup lease); the client sends
 * AGENT_RUNTIME_PICKUP_SECONDS (default 300, PICKUP_SECONDS_DEFAULT in client/goals.ts) with every claim.
 */
export const DEFAULT_PICKUP_SECONDS = 0;

export function claimTask(state: GoalState, input: ClaimInput, now: number): ClaimResult {
  const task = checkClaim(state, input);
  const leaseSeconds = input.leaseSeconds ?? state.goal.lease_seconds;
  const pickupSeconds = leaseSeconds > 0 ? 0 : (input.pickupSeconds ?? DEFAULT_PICKUP_SECONDS);
  state.leaseEpoch += 1;
  task.status = 'claimed';
  task.agent_id = input.agentId;
  task.lease_token = state.leaseEpoch;
  task.lease_expires_at =
    leaseSeconds > 0 ? iso(now + leaseSeconds * 1000) : pickupSeconds > 0 ? iso(now + pickupSeconds * 1000) : null;
  task.metadata = { ...task.metadata, lease_seconds: leaseSeconds };
  task.claimed_at = iso(now);
  task.last_heartbeat = iso(now);
  task.started_at = null;
  task.updated_at = iso(now);
  logEvent(state, now, 'task_claimed', task.id, input.agentId, `lease_token ${task.lease_token}`);
  touchGoal(state, now);
  return { task, lease_token: task.lease_token, lease_expires_at: task.lease_expires_at };
}

// ---------------------------------------------------------------------------------------------- holder actions

function holderNote(task: Task): string {
  return task.agent_id ? ` (held by ${task.agent_id})` : '';
}

/** Fencing: only the current holder, with the current token if it gives one, may act on a claimed task. */
export function checkHolder(state: GoalState, input: HolderInput, action: string): Task {
  const task = getTask(state, input.taskId);
  const held = task.status === 'claimed' || task.status === 'in_progress';
  if (!held) {
    if (task.status === 'ready' && task.attempts > 0) {
      fail(
        'LEASE_LOST',
        `You no longer hold task ${task.id}: its lease expired or it was released, and it is back in the queue. Call get_next_task to claim work again.`,
      );
    }
    fail(
      'CONFLICT',
      `Task ${task.id} is ${task.status}; only a claimed or in-progress task can be ${action}. ${task.status === 'ready' ? 'Claim it first with get_next_task.' : ''}`.trim(),
    );
  }
  // A caller with no identity at all acts for the current holder; an identified one must be the holder.
  if (input.agentId !== undefined && task.agent_id !== input.agentId) {
    fail(
      'LEASE_LOST',
      `Task ${task.id} is held by ${task.agent_id ?? 'nobody'}, not by ${input.agentId}: your lease was lost or never held. Call get_next_task to claim other work.`,
    );
  }
  if (input.leaseToken !== undefined && input.leaseToken !== task.lease_token) {
    fail(
      'LEASE_LOST',
      `Lease token ${input.leaseToken} for task ${task.id} is stale (current ${task.lease_token}): the task was reclaimed since. Call get_next_task to claim work again.`,
    );
  }
  return task;
}

/**
 * Any action of the holder on its task extends its lease by the lease length it claimed with; without a lease, the
 * first one ends the pickup lease (the claim then lasts until it is completed, failed or released).
 */
function extendLease(task: Task, now: number): void {
  task.last_heartbeat = iso(now);
  task.updated_at = iso(now);
  const seconds = Number(task.metadata.lease_seconds ?? 0);
  if (task.lease_expires_at !== null) task.lease_expires_at = seconds > 0 ? iso(now + seconds * 1000) : null;
}

/**
 * Moves a task to in_progress. A ready task is claimed on the spot (the seed's flow sets in_progress directly);
 * a task already in progress by the same holder is left as it is, so retries are harmless.
 */
export function checkStart(state: GoalState, input: HolderInput): Task {
  const task = getTask(state, input.taskId);
  if (task.status === 'ready' && task.attempts === 0) return task;
  return checkHolder(state, input, 'started');
}

/** The agent an owner action is done for: the caller, or (for a caller without identity) the current holder. */
function actor(task: Task, input: { agentId?: string }): string | null {
  return input.agentId ?? task.agent_id;
}

export function startTask(state: GoalState, input: HolderInput, now: number): ClaimResult {
  let task = checkStart(state, input);
  if (task.status === 'ready') {
    task = claimTask(state, { agentId: input.agentId ?? ANONYMOUS_AGENT, taskId: task.id }, now).task as Task;
  }
  mergeMetadata(task, input.metadata);
  if (task.status !== 'in_progress') {
    task.status = 'in_progress';
    task.started_at = iso(now);
    logEvent(state, now, 'task_started', task.id, actor(task, input));
  }
  extendLease(task, now);
  touchGoal(state, now);
  return { task, lease_token: task.lease_token, lease_expires_at: task.lease_expires_at };
}

export function checkHeartbeat(state: GoalState, input: HeartbeatInput): Task[] {
  if (input.taskId !== undefined)
    return [checkHolder(state, { taskId: input.taskId, agentId: input.agentId }, 'heartbeated')];
  if (input.agentId === undefined) fail('INVALID_ARGUMENT', 'A heartbeat names the task, the agent, or both.');
  return state.tasks.filter(
    (t) => (t.status === 'claimed' || t.status === 'in_progress') && t.agent_id === input.agentId,
  );
}

export function heartbeat(state: GoalState, input: HeartbeatInput, now: number): HeartbeatResult {
  const tasks = checkHeartbeat(state, input);
  for (const task of tasks) extendLease(task, now);
  return {
    agent_id: input.agentId ?? tasks[0]?.agent_id ?? ANONYMOUS_AGENT,
    tasks: tasks.map((t) => ({ id: t.id, status: t.status, lease_expires_at: t.lease_expires_at })),
  };
}

function mergeMetadata(task: Task, patch: Record<string, unknown> | undefined): void {
  if (patch && Object.keys(patch).length > 0) task.metadata = { ...task.metadata, ...patch };
}

function clearLease(task: Task): void {
  task.agent_id = null;
  task.lease_token = null;
  task.lease_expires_at = null;
}

export function completeTask(state: GoalState, input: CompleteInput, now: number): Task {
  const task = checkHolder(state, input, 'completed');
  mergeMetadata(task, input.metadata);
  task.status = 'completed';
  task.result = input.result ?? null;
  task.completed_at = iso(now);
  task.updated_at = iso(now);
  task.lease_expires_at = null;
  logEvent(state, now, 'task_completed', task.id, actor(task, input));
  refreshWaitingTasks(state, now);
  touchGoal(state, now);
  return task;
}

export function failTask(state: GoalState, input: FailInput, now: number): Task {
  const task = checkHolder(state, input, 'failed');
  mergeMetadata(task, input.metadata);
  task.status = 'failed';
  task.error = input.error ?? 'failed without a message';
  task.attempts += 1;
  task.updated_at = iso(now);
  task.lease_expires_at = null;
  logEvent(state, now, 'task_failed', task.id, actor(task, input), task.error);
  refreshWaitingTasks(state, now);
  touchGoal(state, now);
  return task;
}

export function checkRelease(state: GoalState, input: ReleaseInput): Task {
  const task = checkHolder(state, input, 'released');
  if (input.reservation && task.status !== 'claimed') {
    fail('CONFLICT', `Task ${task.id} is ${task.status}: its holder picked it up, so it is no unused reservation.`);
  }
  return task;
}

export function releaseTask(state: GoalState, input: ReleaseInput, now: number): Task {
  const task = checkRelease(state, input);
  const unused = input.reservation === true; // a prefetched claim: its agent never had it, so no attempt is counted
  backToQueue(
    state,
    task,
    now,
    'task_released',
    actor(task, input),
    !unused
      ? undefined
      : input.undone === 'breaker'
        ? 'a claim undone: the agent’s circuit breaker was not closed'
        : 'a prefetched claim not picked up',
    !unused,
  );
  return task;
}

function backToQueue(
  state: GoalState,
  task: Task,
  now: number,
  event: string,
  agentId: string | null,
  reason?: string,
  countAttempt = true,
): void {
  const holder = task.agent_id;
  clearLease(task);
  task.status = 'ready';
  if (countAttempt) task.attempts += 1;
  task.started_at = null;
  task.updated_at = iso(now);
  const detail = [holder ? `was held by ${holder}` : '', reason ?? ''].filter(Boolean).join('; ');
  logEvent(state, now, event, task.id, agentId ?? holder, detail || null);
  touchGoal(state, now);
}

export const MAX_ARCHIVED_FAILURES = 20;

export function checkRetry(state: GoalState, taskId: string, force = false): Task {
  const task = getTask(state, taskId);
  if (task.status !== 'failed' && task.status !== 'cancelled') {
    fail('CONFLICT', `Task ${task.id} is ${task.status}; only a failed or cancelled task can be retried.`);
  }
  if (state.goal.status === 'cancelled') fail('GOAL_CLOSED', `Goal ${state.goal.id} is cancelled.`);
  if (task.status === 'failed' && !force && task.attempts >= task.max_attempts) {
    fail(
      'RETRY_EXHAUSTED',
      `Task ${task.id} has failed ${task.attempts} time(s), its limit of ${task.max_attempts} attempts; create a new task if the work should still be done.`,
    );
  }
  return task;
}

/** Failed or cancelled → back to pending/ready; the failure is archived in metadata.failures. */
export function retryTask(state: GoalState, taskId: string, now: number, force = false): Task {
  const task = checkRetry(state, taskId, force);
  if (task.status === 'failed') {
    const previous = Array.isArray(task.metadata.failures) ? (task.metadata.failures as unknown[]) : [];
    const archived = { error: task.error, failed_at: task.updated_at, attempt: task.attempts };
    task.metadata = { ...task.metadata, failures: [...previous, archived].slice(-MAX_ARCHIVED_FAILURES) };
  }
  clearLease(task);
  task.status = 'pending';
  task.error = null;
  task.updated_at = iso(now);
  logEvent(state, now, 'task_retried', task.id, null, `attempt ${task.attempts + 1} of ${task.max_attempts}`);
  refreshWaitingTasks(state, now);
  touchGoal(state, now);
  return task;
}

/** An operator forces a held task back to the queue (hq's recover_step), whoever holds it. */
export function checkRecover(state: GoalState, taskId: string, acting: ActingOn = {}): Task {
  const task = getTask(state, taskId);
  if (task.status !== 'claimed' && task.status !== 'in_progress') {
    fail('CONFLICT', `Task ${task.id} is ${task.status}; only a claimed or in-progress task can be recovered.`);
  }
  checkNotOthers(task, acting, 'recover');
  return task;
}

export function recoverTask(
  state: GoalState,
  taskId: string,
  reason: string | undefined,
  now: number,
  acting: ActingOn = {},
): Task {
  const task = checkRecover(state, taskId, acting);
  backToQueue(state, task, now, 'task_recovered', null, byWhom(task, acting, reason));
  return task;
}

/** A push: the task is meant for one agent (or, with null, for anyone again). Only a task not yet taken. */
export function checkAssign(state: GoalState, taskId: string, ifAssignedTo?: string): Task {
  const task = getTask(state, taskId);
  if (ifAssignedTo !== undefined && assigneeOf(task) !== ifAssignedTo) {
    fail('CONFLICT', `Task ${task.id} is no longer assigned to ${ifAssignedTo}.`);
  }
  if (task.status !== 'ready' && task.status !== 'pending' && task.status !== 'blocked') {
    fail('CONFLICT', `Task ${task.id} is ${task.status}; only a task not taken yet can be assigned.`);
  }
  return task;
}

export function assignTask(
  state: GoalState,
  taskId: string,
  agentId: string | null,
  now: number,
  ifAssignedTo?: string,
): Task {
  const task = checkAssign(state, taskId, ifAssignedTo);
  task.metadata = { ...task.metadata, assigned_to: agentId };
  task.updated_at = iso(now);
  logEvent(state, now, agentId ? 'task_assigned' : 'task_unassigned', task.id, agentId);
  return task;
}

export function setPriority(state: GoalState, priority: number, now: number): Goal {
  state.goal.priority = priority;
  logEvent(state, now, 'goal_priority_set', null, null, String(priority));
  touchGoal(state, now);
  return state.goal;
}

/** Who acts on a task another agent may hold: the caller (for the log), and whether only a holder may (tokens). */
export interface ActingOn {
  by?: string;
  holderOnly?: boolean;
}

/** With tokens, a task held by another agent is that agent's (or an operator's) to cancel or recover. */
function checkNotOthers(task: Task, acting: ActingOn, action: string): void {
  const held = task.status === 'claimed' || task.status === 'in_progress';
  if (acting.holderOnly && held && task.agent_id !== acting.by) {
    fail(
      'FORBIDDEN',
      `Task ${task.id} is held by ${task.agent_id ?? 'another agent'}; only its holder or an operator may ${action} it.`,
    );
  }
}

/** The event detail of an action on a task, naming who did it when that is not the holder. */
function byWhom(task: Task, acting: ActingOn, reason: string | undefined): string | undefined {
  const by = acting.by !== undefined && acting.by !== task.agent_id ? `by ${acting.by}` : '';
  return [by, reason ?? ''].filter(Boolean).join(': ') || undefined;
}

export function checkCancel(state: GoalState, taskId: string, acting: ActingOn = {}): Task {
  const task = getTask(state, taskId);
  if (task.status === 'completed' || task.status === 'cancelled') {
    fail('CONFLICT', `Task ${task.id} is already ${task.status}.`);
  }
  checkNotOthers(task, acting, 'cancel');
  return task;
}

export function cancelTask(
  state: GoalState,
  taskId: string,
  reason: string | undefined,
  now: number,
  acting: ActingOn = {},
): Task {
  const task = checkCancel(state, taskId, acting);
  const detail = byWhom(task, acting, reason);
  const holder = task.agent_id;
  clearLease(task);
  task.status = 'cancelled';
  task.error = reason ?? null;
  task.updated_at = iso(now);
  logEvent(state, now, 'task_cancelled', task.id, acting.by ?? holder, detail ?? null);
  refreshWaitingTasks(state, now);
  touchGoal(state, now);
  return task;
}

// ---------------------------------------------------------------------------------------------- leases

/** Earliest lease expiry among held tasks, epoch ms, or undefined if nothing is leased. */
export function earliestLeaseExpiry(state: GoalState): number | undefined {
  let earliest: number | undefined;
  for (const task of state.tasks) {
    if ((task.status === 'claimed' || task.status === 'in_progress') && task.lease_expires_at !== null) {
      const at = Date.parse(task.lease_expires_at);
      if (earliest === undefined || at < earliest) earliest = at;
    }
  }
  return earliest;
}

/** Puts every task whose lease has run out back to ready. Returns the ids it released. */
export function expireLeases(state: GoalState, now: number): string[] {
  const expired: string[] = [];
  for (const task of state.tasks) {
    if (
      (task.status === 'claimed' || task.status === 'in_progress') &&
      task.lease_expires_at !== null &&
      Date.parse(task.lease_expires_at) <= now
    ) {
      expired.push(task.id);
      const pickup = Number(task.metadata.lease_seconds ?? 0) === 0;
      backToQueue(
        state,
        task,
        now,
        'lease_expired',
        null,
        pickup ? 'the claim was never followed up (no start, heartbeat or update) within its pickup lease' : undefined,
      );
    }
  }
  return expired;
}

// ---------------------------------------------------------------------------------------------- views

export function countTasks(tasks: readonly Task[]): TaskCounts {
  const counts: TaskCounts = {
    total: tasks.length,
    pending: 0,
    ready: 0,
    claimed: 0,
    in_progress: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    blocked: 0,
  };
  for (const t of tasks) counts[t.status] += 1;
  return counts;
}

export function summarizeGoal(state: GoalState): GoalSummary {
  const task_counts = countTasks(state.tasks);
  const progress = task_counts.total === 0 ? 0 : task_counts.completed / task_counts.total;
  return { ...state.goal, task_counts, progress: Math.round(progress * 1000) / 1000 };
}

/**
 * What a list row shows of a goal without asking its workflow (Visibility memo). `goal` is written once at start (the
 * first 2,000 characters of the description; metadata up to 4 KB of JSON, else `{ "truncated": true }`); `live` is
 * upserted with the search attributes (at most every 2 s, or at once for an urgent change).
 */
export const MEMO_DESCRIPTION_CHARS = 2_000;
const MEMO_METADATA_BYTES = 4_096;

export function goalMemoStatic(state: GoalState): Record<string, unknown> {
  const g = state.goal;
  // Too big for a row: keep what rows are filtered by (kind, hq's base_commit).
  const { kind, base_commit } = g.metadata;
  const metadata =
    JSON.stringify(g.metadata).length <= MEMO_METADATA_BYTES
      ? g.metadata
      : {
          truncated: true,
          ...(typeof kind === 'string' ? { kind } : {}),
          ...(typeof base_commit === 'string' ? { base_commit } : {}),
        };
  return {
    id: g.id,
    name: g.name,
    description: g.description.slice(0, MEMO_DESCRIPTION_CHARS),
    metadata,
    lease_seconds: g.lease_seconds,
    max_attempts: g.max_attempts,
    created_at: g.created_at,
  };
}

export function goalMemoLive(state: GoalState): Record<string, unknown> {
  const { task_counts, progress } = summarizeGoal(state);
  const g = state.goal;
  return { status: g.status, priority: g.priority, updated_at: g.updated_at, task_counts, progress };
}

/** A goal's list row from its memo; undefined when the memo lacks a part (a goal started before memos). */
export function summaryFromMemo(memo: Record<string, unknown> | undefined): GoalSummary | undefined {
  const parsed = GoalSummarySchema.safeParse({
    ...(memo?.goal ?? {}),
    ...(memo?.live ?? {}),
  });
  return parsed.success && memo?.goal && memo.live ? parsed.data : undefined;
}

export function listTasks(state: GoalState, status: TaskStatus | undefined, limit: number, offset = 0): Task[] {
  const out: Task[] = [];
  let skipped = 0;
  for (const t of state.tasks) {
    if (status !== undefined && t.status !== status) continue;
    if (skipped++ < offset) continue;
    out.push(t);
    if (out.length >= limit) break;
  }
  return out;
}

export interface GoalIndex {
  status: GoalStatus;
  readyCount: number;
  topReadyPriority: number;
  taskCount: number;
  priority: number;
  agents: string[];
  readyScopes: string[];
  progress: number;
}

/**
 * Whether a change of the indexed values must reach Visibility at once, because claims across goals decide with it:
 * the status, whether any task is ready, the priorities, the ready scopes. Counts, progress and the holders alone may
 * wait for the next periodic refresh (each upsert is a history event and a Visibility write): the holders are read by
 * an agent-wide heartbeat (which also asks the goals this process saw the agent claim in) and by the release of an
 * agent gone offline (minutes later).
 */
export function indexChangeIsUrgent(before: GoalIndex, after: GoalIndex, holdersUrgent = false): boolean {
  return (
    before.status !== after.status ||
    before.readyCount > 0 !== after.readyCount > 0 ||
    before.topReadyPriority !== after.topReadyPriority ||
    before.priority !== after.priority ||
    before.readyScopes.join('\n') !== after.readyScopes.join('\n') ||
    // Runs started before the holders waited for the refresh keep publishing a new holder at once (replay).
    (holdersUrgent && after.agents.some((a) => !before.agents.includes(a)))
  );
}

/** What Visibility indexes for cross-goal reads and people's filters in the Web UI. */
export function goalIndex(state: GoalState): GoalIndex {
  const counts = countTasks(state.tasks);
  let top = -1;
  const scopes = new Set<string>();
  const agents = new Set<string>();
  for (const t of state.tasks) {
    if (t.status === 'ready') {
      top = Math.max(top, t.priority);
      if (t.scope !== null) scopes.add(t.scope);
    }
    if (t.agent_id !== null && (t.status === 'claimed' || t.status === 'in_progress')) agents.add(t.agent_id);
  }
  return {
    status: state.goal.status,
    readyCount: counts.ready,
    topReadyPriority: top,
    taskCount: counts.total,
    priority: state.goal.priority,
    agents: [...agents].sort().slice(0, 50),
    readyScopes: [...scopes].sort().slice(0, 50),
    progress: counts.total === 0 ? 0 : counts.completed / counts.total,
  };
}

const STATUS_ICON: Record<TaskStatus, string> = {
  pending: '⏳',
  ready: '🟢',
  claimed: '🔒',
  in_progress: '🔨',
  completed: '✅',
  failed: '❌',
  cancelled: '🚫',
  blocked: '⛔',
};

/** The short markdown view shown as the workflow's current details in the Web UI. */
/**
 * The goal's current details in the Web UI: counts, then a table of open tasks with what a person watching needs (who
 * holds each and until when, what blocks it, its error, attempts left). Ends with a blank line: the UI's panel clips
 * the last line otherwise. Times are absolute (UTC), so they stay true after the details were written.
 */
export function renderGoalDetails(state: GoalState, maxRows = 25, now = Date.now()): string {
  const s = summarizeGoal(state);
  const c = s.task_counts;
  const lines = [
    `### Goal: ${escapeCell(s.name)}`,
    `**${s.status}** · ${c.completed}/${c.total} completed (${Math.round(s.progress * 100)}%) · ready ${c.ready} · claimed ${c.claimed} · in progress ${c.in_progress} · waiting ${c.pending} · blocked ${c.blocked} · failed ${c.failed} · cancelled ${c.cancelled}`,
    '',
  ];
  if (state.tasks.length > 0) {
    lines.push(
      '| task | status | owner | lease ends (UTC) | tries left | waits on | error | prio | title |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const active = state.tasks.filter((t) => t.status !== 'completed' && t.status !== 'cancelled');
    const shown = (active.length > 0 ? active : state.tasks).slice(0, maxRows);
    for (const t of shown) {
      const left = Math.max(0, t.max_attempts - t.attempts);
      // A waiting task names the dependencies it waits on; a blocked one the failed or cancelled ones.
      const waitsOn =
        t.status === 'pending'
          ? t.dependencies.filter((d) => findTask(state, d)?.status !== 'completed')
          : t.blocked_by;
      lines.push(
        `| ${t.id} | ${STATUS_ICON[t.status]} ${t.status} | ${t.agent_id ?? ''} | ${utcShort(t.lease_expires_at, now)} | ${left} | ${waitsOn.join(', ')} | ${escapeCell((t.error ?? '').slice(0, 80))} | ${t.priority} | ${escapeCell(t.title.slice(0, 60))} |`,
      );
    }
    const hidden = (active.length > 0 ? active.length : state.tasks.length) - shown.length;
    if (hidden > 0) lines.push('', `…and ${hidden} more open task(s).`);
  }
  return forPanel(lines);
}

export { DomainError };

/**
 * Claims that ride on a change's answer: the first few, within a size budget, so that a change serving hundreds of
 * waiting agents (or tasks with large descriptions) keeps its answer small; the others are answered by their own wait.
 */
export const RIDERS_MAX = 16;
export const RIDERS_MAX_CHARS = 64 * 1024;
export function ridingClaims<T>(handed: readonly T[]): T[] {
  const out: T[] = [];
  let size = 0;
  for (const h of handed.slice(0, RIDERS_MAX)) {
    size += JSON.stringify(h).length;
    if (size > RIDERS_MAX_CHARS) break;
    out.push(h);
  }
  return out;
}
