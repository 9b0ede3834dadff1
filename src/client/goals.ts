/**
 * The goals API by intent: the only code that talks to goal workflows. MCP tools, the CLI, tests and the benchmark
 * all go through it. Every state change is an Update with one update id for all its retries (the caller's
 * request_id where given), so a retry after a timeout or reconnect never applies twice.
 */
import { randomUUID, createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { DomainError, fail, isErrorCode } from '../domain/errors';
import { callerKey, refuseReusedKey } from '../domain/request-ids';
import { mergeTouched, RECENT_CHANGE_MS, RECENT_LIVE_MAX, recentlyTouched } from './recent';
import {
  addTasks,
  goalIdOfTask,
  goalIndex,
  goalMemoLive,
  goalMemoStatic,
  newGoalState,
  summarizeGoal,
  summaryFromMemo,
  type GoalState,
} from '../domain/goal';
import {
  GoalIdSchema,
  LIMITS,
  TaskIdSchema,
  type ClaimResult,
  type DecomposeStrategy,
  type GoalStatus,
  type GoalSummary,
  type GoalView,
  type HeartbeatResult,
  type Task,
  type TaskSpec,
  type TaskStatus,
} from '../domain/schemas';
import { templateTasks } from '../domain/templates';
import {
  applyBatchUpdate,
  assignTaskUpdate,
  BATCHABLE_UPDATES,
  type BatchOpResult,
  cancelTaskUpdate,
  claimTaskUpdate,
  completeTaskUpdate,
  createTasksUpdate,
  failTaskUpdate,
  getGoalQuery,
  getTaskQuery,
  getTasksQuery,
  recoverTaskUpdate,
  setPriorityUpdate,
  goalWorkflowId,
  heartbeatUpdate,
  listTasksQuery,
  releaseTaskUpdate,
  retryTaskUpdate,
  startTaskUpdate,
  waitForTaskUpdate,
  cancelWaitSignal,
  type GoalWorkflowInput,
} from '../workflows/messages';
import type { goalWorkflow } from '../workflows/goal';
import {
  AR_ENTITY,
  AR_NAME,
  AR_PROGRESS,
  AR_READY_COUNT,
  AR_STATUS,
  AR_PRIORITY,
  AR_TOP_PRIORITY,
  goalSearchAttributes,
} from '../workflows/search-attributes';
import { createCoalescer } from './coalescer';
import { sharedRead } from './shared-read';
import { callContext } from './call-context';
import { createPrefetch, type Reservation } from './prefetch';
import { bounded, createLiveness } from './liveness';
import { AppError, UNAVAILABLE_HINT, isResourceExhausted, toAppError } from './errors';

export interface ClientDeps {
  /** Resolves to a connected client; rejects while Temporal is unreachable. */
  client: () => Promise<Client>;
  taskQueue: string;
  /** For error messages. */
  address: string;
  /** Pickup lease of claims without a lease (see DEFAULT_PICKUP_SECONDS); default AGENT_RUNTIME_PICKUP_SECONDS. */
  pickupSeconds?: number;
  /** How long a prefetched claim waits for its agent (see prefetch.ts; 0 = off); default AGENT_RUNTIME_PREFETCH_MS. */
  prefetchMs?: number;
  /** A waiting claim without a goal looks again after `first` ms, then twice as long each time up to `max`. */
  crossGoalPollMs?: { first: number; max: number };
}

/** How often a waiting claim without a goal looks for goals with ready work changed by other processes. */
export const CROSS_GOAL_POLL_MS = { first: 100, max: 1_000 };
/** How long one Visibility list of goals with ready work serves this process's other cross-goal claims. */
const READY_LIST_FRESH_MS = 100;

/**
 * The pickup lease claims carry when AGENT_RUNTIME_PICKUP_SECONDS is unset: 5 minutes. Sent with every claim (so the
 * workflow needs no configuration and claims without the field — older clients, recorded histories — keep
 * DEFAULT_PICKUP_SECONDS, off).
 */
export const PICKUP_SECONDS_DEFAULT = 300;

/** AGENT_RUNTIME_PICKUP_SECONDS: a whole number of seconds (default 300); 0 = a claim without a lease is held until done. */
export function pickupSecondsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.AGENT_RUNTIME_PICKUP_SECONDS?.trim();
  if (!raw) return PICKUP_SECONDS_DEFAULT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > LIMITS.leaseSecondsMax) {
    throw new Error(
      `AGENT_RUNTIME_PICKUP_SECONDS must be a whole number of seconds from 0 to ${LIMITS.leaseSecondsMax}; got "${raw}".`,
    );
  }
  return n;
}

/**
 * Calls waiting on one goal that send a second batch while one is in flight (see coalescer.ts). Measured on one goal
 * (docs/BENCHMARKS.md, "Fifteenth step"): 8 gained the most at 16 agents and about as much as 12 at 32; 4 a little less.
 */
export const SECOND_BATCH_AT = 8;

/** How long a claim prefetched at a completion waits for its agent when AGENT_RUNTIME_PREFETCH_MS is unset. */
export const PREFETCH_MS_DEFAULT = 1000;

/** AGENT_RUNTIME_PREFETCH_MS: whole milliseconds from 0 (off) to 60000; default 1000. */
export function prefetchMsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.AGENT_RUNTIME_PREFETCH_MS?.trim();
  if (!raw) return PREFETCH_MS_DEFAULT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 60_000) {
    throw new Error(
      `AGENT_RUNTIME_PREFETCH_MS must be a whole number of milliseconds from 0 (off) to 60000; got "${raw}".`,
    );
  }
  return n;
}

export interface CreateGoalInput {
  name: string;
  description?: string;
  metadata?: Record<string, unknown>;
  leaseSeconds?: number;
  maxAttempts?: number;
  priority?: number;
  goalId?: string;
  requestId?: string;
  /** Tasks the goal starts with, in the same atomic step as its creation. */
  tasks?: TaskSpec[];
  source?: string;
}

export interface ClaimRequest {
  agentId: string;
  goalId?: string;
  scope?: string;
  tags?: string[];
  leaseSeconds?: number;
  waitSeconds?: number;
  requestId?: string;
  /** Aborted when the caller goes away: a wait then ends without claiming (see cancelWaitSignal). */
  signal?: AbortSignal;
}

const CALLER_GONE = 'The caller stopped waiting.';

export type ClaimOutcome =
  | (ClaimResult & { claimed: true; goal_id: string; reason: null })
  | { claimed: false; task: null; lease_token: null; lease_expires_at: null; goal_id: string | null; reason: string };

export const SETTABLE_STATUSES = ['in_progress', 'completed', 'failed', 'cancelled', 'pending', 'ready'] as const;
export type SettableStatus = (typeof SETTABLE_STATUSES)[number];

export interface StatusChange {
  taskId: string;
  status: SettableStatus;
  /** Undefined for a caller with no identity at all: the change is made for the task's current holder. */
  agentId?: string;
  result?: string;
  error?: string;
  leaseToken?: number;
  requestId?: string;
  /** Tokens in use and the caller is no operator: cancelling another agent's held task is refused (FORBIDDEN). */
  holderOnly?: boolean;
}

/** A goal as Visibility indexes it (eventually consistent), for cross-goal reads. */
export interface IndexedGoal {
  id: string;
  name: string;
  status: string;
  readyCount: number;
  topReadyPriority: number;
  priority: number;
  progress: number;
  startTime: number;
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A readable, URL-safe goal id: the name's slug plus a short suffix (a hash of request_id when given). */
export function makeGoalId(name: string, requestId?: string): string {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32)
      .replace(/-+$/, '') || 'goal';
  const suffix = requestId
    ? createHash('sha256').update(callerKey(requestId)).digest('hex').slice(0, 8)
    : randomUUID().replace(/-/g, '').slice(0, 8);
  return `${slug}-${suffix}`;
}

/** What a goal workflow starts with besides its state: the search attributes and summary it is found by. */
export function goalStartOptions(state: GoalState) {
  return {
    typedSearchAttributes: goalSearchAttributes(state.goal.name, goalIndex(state)),
    memo: { goal: goalMemoStatic(state), live: goalMemoLive(state) },
    staticSummary: `${state.goal.metadata.kind === 'project' ? 'Project' : 'Goal'}: ${state.goal.name}`.slice(0, 400),
    staticDetails: state.goal.description ? state.goal.description.slice(0, 2000) : undefined,
  };
}

/** How long a goal this process created or changed is tried by cross-goal claims and read live by listGoals. */
const RECENT_GOAL_MS = RECENT_CHANGE_MS;

/** The workflow a call made through withClient waits on (see BoundedOptions in liveness.ts). */
export interface WorkflowTarget {
  workflowId: string;
  otherQueueHint?: string;
}

/** List cursors are opaque to callers: where the next page starts (a goal and an offset in it). */
function encodeCursor(at: { g: string; o: number }): string {
  return Buffer.from(JSON.stringify(at)).toString('base64url');
}
function decodeCursor(cursor: string | undefined): { g?: string; o: number } {
  if (cursor === undefined) return { o: 0 };
  try {
    const at = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { g?: unknown; o?: unknown };
    if (typeof at.g === 'string' && typeof at.o === 'number' && Number.isInteger(at.o) && at.o >= 0) {
      return { g: at.g, o: at.o };
    }
  } catch {
    // reported below
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    'This cursor is not one a list returned; call without cursor for the first page.',
  );
}

export function createGoalsClient(deps: ClientDeps) {
  const pickupSeconds = deps.pickupSeconds ?? pickupSecondsFrom(process.env);
  /** Releases of prefetched claims on their way to Temporal (see drain()). */
  const releasing = new Set<Promise<unknown>>();
  /** Claim outcomes answered from a reservation (see wasReserved). */
  const answeredByReservation = new WeakSet<ClaimOutcome>();
  /** Told of each reservation sent back (see onReservationReturned). */
  const returnedListeners: Array<(r: Reservation) => void> = [];
  /** Sends a reservation nobody took back to the queue, without counting an attempt. */
  const release = (r: Reservation): void => {
    const { agentId, goalId, claim } = r;
    const task = claim.task as Task;
    for (const listener of returnedListeners) listener(r);
    const sent = update(goalId, releaseTaskUpdate, {
      taskId: task.id,
      agentId,
      leaseToken: claim.lease_token ?? undefined,
      reservation: true,
    }).catch(() => undefined); // taken back already (its lease ran out, the task was cancelled): nothing to undo
    releasing.add(sent);
    void sent.finally(() => releasing.delete(sent));
  };
  const holdMs = deps.prefetchMs ?? prefetchMsFrom(process.env);
  const prefetch = createPrefetch({ holdMs, release });
  /** Whether Temporal and a worker are there, checked when a call waits long (see liveness.ts). */
  const liveness = createLiveness({ client: deps.client, taskQueue: deps.taskQueue, address: deps.address });
  /** Cancellations of waits on their way to Temporal: a closing server lets them arrive (see drain()). */
  const cancelling = new Set<Promise<unknown>>();
  let draining = false;
  /** Work a call left going after it answered (see background()): a closing server lets it finish (see drain()). */
  const afterAnswers = new Map<Promise<unknown>, (() => void) | undefined>();
  // Visibility lags a moment behind a new goal; the agent that just planned it should still be able to claim from it.
  const recentGoals = recentlyTouched(RECENT_GOAL_MS);
  /** Cross-goal waits of this process between two looks: woken the moment this process may have readied a task. */
  const crossGoalSleepers = new Set<() => void>();
  const touchRecent = (goalId: string): void => {
    recentGoals.touch(goalId);
    for (const wake of [...crossGoalSleepers]) wake();
  };
  const crossGoalPollMs = deps.crossGoalPollMs ?? CROSS_GOAL_POLL_MS;
  /** Goals with ready work, from Visibility: one list shared by every cross-goal claim of this process at a time. */
  const readyGoals = sharedRead(
    () =>
      listIndexed(
        `ExecutionStatus = 'Running' AND ${AR_ENTITY.name} = 'goal' AND ${AR_STATUS.name} = 'active' AND ${AR_READY_COUNT.name} > 0`,
        200,
      ),
    READY_LIST_FRESH_MS,
  );
  /** Goals this process started or sent a change to a moment ago: listGoals reads them live. */
  const changedGoals = recentlyTouched(RECENT_CHANGE_MS);
  /** Goals this process started a moment ago: lists of running goals include them before Visibility does. */
  const startedGoals = recentlyTouched(RECENT_CHANGE_MS);
  // Goals where this process saw each agent take a task a moment ago: Visibility lists a new holder only at the goal's
  // next refresh (up to 2 s; see indexChangeIsUrgent), and an agent-wide heartbeat must reach the goal anyway.
  const recentHolds = new Map<string, Map<string, number>>();
  const noteHold = (goalId: string, claim: { task?: Task | null } | null | undefined): void => {
    const agentId = claim?.task?.agent_id;
    if (!agentId) return;
    const now = Date.now();
    const goalsOf = recentHolds.get(agentId) ?? new Map<string, number>();
    recentHolds.delete(agentId); // re-inserted last: the map forgets the longest idle agent first
    recentHolds.set(agentId, goalsOf.set(goalId, now));
    for (const [id, at] of goalsOf) if (now - at > RECENT_GOAL_MS) goalsOf.delete(id);
    if (recentHolds.size > 10_000) recentHolds.delete(recentHolds.keys().next().value as string);
  };
  // call() takes a goal id, or (through withClient) a description such as "Pipeline p-1".
  const errorContext = (goalId?: string) => ({
    entity: goalId === undefined ? undefined : goalId.includes(' ') ? goalId : `Goal ${goalId}`,
    address: deps.address,
  });

  /**
   * `fn` with a client, bounded (liveness.ts). `target` names the workflow it waits on when `goalId` is a description
   * (withClient); a bare goal id names its own.
   */
  async function call<T>(
    goalId: string | undefined,
    fn: (client: Client) => Promise<T>,
    target?: WorkflowTarget,
  ): Promise<T> {
    let client: Client;
    try {
      client = await deps.client();
    } catch (err) {
      // No client means no connection to Temporal, whatever words the failure came in (they vary under load).
      const e = toAppError(err, errorContext(goalId));
      throw e.code === 'INTERNAL'
        ? new AppError(
            'TEMPORAL_UNAVAILABLE',
            `No Temporal server answers at ${deps.address ?? 'the configured address'} (${e.message}). ${UNAVAILABLE_HINT}`,
          )
        : e;
    }
    try {
      // When the call is answered with TEMPORAL_UNAVAILABLE or NO_WORKER, what it still waits for is abandoned.
      const abandon = new AbortController();
      return await bounded(
        client.withAbortSignal(abandon.signal, () => fn(client)),
        liveness,
        {
          entity: errorContext(goalId).entity,
          address: deps.address,
          taskQueue: deps.taskQueue,
          workflowId: target?.workflowId ?? (goalId && !goalId.includes(' ') ? goalWorkflowId(goalId) : undefined),
          otherQueueHint: target?.otherQueueHint,
          onGiveUp: () => abandon.abort(),
        },
      );
    } catch (err) {
      throw toAppError(err, errorContext(goalId));
    }
  }

  /**
   * Long-polls of this process waiting in a goal, by their update id. A change's answer carries the claims it handed
   * to waiting agents (`handed`, see the goal workflow's riders): a wait found here is answered from it at once,
   * before its own Update's answer arrives (the claim is as durable: both were written in one workflow task).
   */
  const handoffs = new Map<string, (claim: ClaimResult) => void>();
  /** Answers this process's waits from what a change handed them, and takes `handed` out of the change's answer. */
  function deliverHanded<R>(result: R): R {
    const strip = (value: unknown): unknown => {
      if (typeof value !== 'object' || value === null || !('handed' in value)) return value;
      const { handed, ...rest } = value as { handed?: Array<{ id: string; claim: ClaimResult }> };
      for (const h of handed ?? []) handoffs.get(h.id)?.(h.claim);
      return rest;
    };
    if (!Array.isArray(result)) return strip(result) as R;
    // A batch: each call's outcome.
    return result.map((o: { ok?: boolean; value?: unknown }) => (o?.ok ? { ...o, value: strip(o.value) } : o)) as R;
  }

  /** Runs an Update, retrying (same update id) while the workflow has too many updates in flight. */
  async function executeUpdate<R, A>(
    client: Client,
    goalId: string,
    def: UpdateDefinition<R, [A]>,
    arg: A,
    updateId: string,
  ) {
    const handle = client.workflow.getHandle(goalWorkflowId(goalId));
    for (let attempt = 0; ; attempt++) {
      try {
        return deliverHanded(await handle.executeUpdate(def, { args: [arg], updateId }));
      } catch (err) {
        if (isResourceExhausted(err) && attempt < 40) {
          await sleep(Math.min(500, 10 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
          continue;
        }
        throw err;
      }
    }
  }

  /** One call's outcome in a batch: its value, or its own error as an AppError. */
  const outcomeOf = (r: BatchOpResult): unknown =>
    r.ok ? r.value : new AppError(isErrorCode(r.code) ? r.code : 'INTERNAL', r.message, r.details);

  interface Op {
    def: UpdateDefinition<unknown, [unknown]>;
    input: unknown;
    id: string;
  }
  // Concurrent hot-path calls on one goal travel together as one applyBatch Update (see coalescer.ts); on a goal busy
  // enough that 8 calls wait behind the batch in flight, a second one leaves and is applied right after it.
  const coalescer = createCoalescer<Op, unknown>({
    maxBatch: LIMITS.opsPerBatch,
    secondAt: SECOND_BATCH_AT,
    one: (goalId, op) => call(goalId, (client) => executeUpdate(client, goalId, op.def, op.input, op.id)),
    many: (goalId, ops) =>
      call(goalId, async (client) => {
        const arg = { ops: ops.map((o) => ({ id: o.id, update: o.def.name, input: o.input })) };
        try {
          const results = await executeUpdate(client, goalId, applyBatchUpdate, arg, randomUUID());
          return results.map(outcomeOf);
        } catch (err) {
          // Every call refused: the validator said why for each, and nothing reached history.
          if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
            const refused = (err.cause.details?.[0] as { results?: BatchOpResult[] } | undefined)?.results;
            if (err.cause.type === 'BATCH_REFUSED' && refused?.length === ops.length) return refused.map(outcomeOf);
          }
          throw err;
        }
      }),
  });

  /** Runs an Update with one update id for all its retries; hot-path Updates are coalesced per goal. */
  async function update<R, A>(goalId: string, def: UpdateDefinition<R, [A]>, arg: A, requestId?: string): Promise<R> {
    const updateId = requestId ?? randomUUID();
    changedGoals.touch(goalId);
    const sent = BATCHABLE_UPDATES.includes(def.name)
      ? (coalescer.submit(goalId, { def: def, input: arg, id: updateId }) as Promise<R>)
      : call(goalId, (client) => executeUpdate(client, goalId, def, arg, updateId));
    if (def.name !== claimTaskUpdate.name && def.name !== startTaskUpdate.name) return sent;
    return sent.then((r) => {
      noteHold(goalId, r as ClaimResult);
      return r;
    });
  }

  async function query<R, A extends unknown[]>(goalId: string, def: QueryDefinition<R, A>, ...args: A): Promise<R> {
    return call(goalId, (client) => client.workflow.getHandle(goalWorkflowId(goalId)).query(def, ...args));
  }

  function checkGoalId(goalId: string): string {
    const parsed = GoalIdSchema.safeParse(goalId);
    if (!parsed.success)
      fail('INVALID_ARGUMENT', `"${goalId}" is not a goal id: ${parsed.error.issues[0]?.message ?? ''}.`);
    return goalId;
  }

  function goalOfTask(taskId: string): string {
    const parsed = TaskIdSchema.safeParse(taskId);
    const goalId = parsed.success ? goalIdOfTask(taskId) : undefined;
    if (!goalId)
      fail('INVALID_ARGUMENT', `"${taskId}" is not a task id; task ids look like "<goal_id>/<n>", e.g. "auth-k3f9/2".`);
    return goalId;
  }

  /** Goals of this deployment (its task queue) matching a Visibility query. */
  async function listIndexed(query: string, limit = 1000): Promise<IndexedGoal[]> {
    const scoped = `(${query}) AND TaskQueue = ${quote(deps.taskQueue)}`;
    return call(undefined, async (client) => {
      const out: IndexedGoal[] = [];
      for await (const info of client.workflow.list({ query: scoped, pageSize: Math.min(limit, 1000) })) {
        out.push(indexed(info));
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  /** Running goals, the oldest first; those this process started a moment ago and Visibility does not list yet last. */
  async function runningGoalIds(limit = 200): Promise<string[]> {
    const listed = (await listIndexed(`${AR_ENTITY.name} = 'goal' AND ExecutionStatus = 'Running'`, limit))
      .sort((a, b) => a.startTime - b.startTime)
      .map((g) => g.id);
    const known = new Set(listed);
    return [
      ...listed,
      ...startedGoals
        .ids()
        .slice(-RECENT_LIVE_MAX)
        .filter((id) => !known.has(id)),
    ];
  }

  function indexed(info: WorkflowExecutionInfo): IndexedGoal {
    const sa = info.typedSearchAttributes;
    return {
      id: info.workflowId.replace(/^goal-/, ''),
      name: sa.get(AR_NAME) ?? '',
      status: sa.get(AR_STATUS) ?? 'active',
      readyCount: sa.get(AR_READY_COUNT) ?? 0,
      topReadyPriority: sa.get(AR_TOP_PRIORITY) ?? -1,
      priority: sa.get(AR_PRIORITY) ?? 0,
      progress: sa.get(AR_PROGRESS) ?? 0,
      startTime: info.startTime.getTime(),
    };
  }

  async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out = new Array<R>(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
          const i = next++;
          out[i] = await fn(items[i] as T);
        }
      }),
    );
    return out;
  }

  const api = {
    async createGoal(input: CreateGoalInput): Promise<GoalSummary> {
      const goalId = checkGoalId(input.goalId ?? makeGoalId(input.name, input.requestId));
      const state: GoalState = newGoalState(
        {
          id: goalId,
          name: input.name,
          description: input.description,
          metadata: input.requestId ? { ...input.metadata, created_by_request: input.requestId } : input.metadata,
          leaseSeconds: input.leaseSeconds,
          maxAttempts: input.maxAttempts,
          priority: input.priority,
        },
        Date.now(),
      );
      if (input.tasks && input.tasks.length > 0)
        addTasks(state, input.tasks, Date.now(), input.source ?? 'create_goal');
      const index = goalIndex(state);
      return call(goalId, async (client) => {
        try {
          await client.workflow.start<typeof goalWorkflow>('goalWorkflow', {
            workflowId: goalWorkflowId(goalId),
            taskQueue: deps.taskQueue,
            args: [{ state } satisfies GoalWorkflowInput],
            ...goalStartOptions(state),
          });
          changedGoals.touch(goalId);
          startedGoals.touch(goalId);
          if (index.readyCount > 0) touchRecent(goalId);
          return summarizeGoal(state);
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            // The same request_id retried: answer with the goal it created.
            if (input.requestId !== undefined) {
              const existing = (await api.getGoal(goalId)).goal;
              const first = existing.metadata.created_by_request;
              if (first === input.requestId) return existing;
              if (typeof first === 'string' && callerKey(first) === callerKey(input.requestId)) {
                refuseReusedKey(input.requestId);
              }
            }
            throw new AppError(
              'CONFLICT',
              `Goal ${goalId} already exists. Pick another goal id, or use it with get_goal.`,
            );
          }
          throw err;
        }
      });
    },

    async getGoal(goalId: string): Promise<GoalView> {
      return query(checkGoalId(goalId), getGoalQuery);
    },

    async getTask(taskId: string): Promise<Task> {
      const goalId = goalOfTask(taskId);
      const task = await query(goalId, getTaskQuery, { taskId });
      if (!task)
        throw new AppError(
          'NOT_FOUND',
          `Task ${taskId} does not exist in goal ${goalId}. Call list_tasks to see its tasks.`,
        );
      return task;
    },

    async createTasks(goalId: string, tasks: TaskSpec[], requestId?: string, source?: string): Promise<Task[]> {
      const created = await update(checkGoalId(goalId), createTasksUpdate, { tasks, source }, requestId);
      touchRecent(goalId);
      return created.tasks ?? query(goalId, getTasksQuery, { taskIds: created.ids });
    },

    /** Forces a held task back to the queue; `acting` names the caller (logged) and, with tokens, limits it to the holder. */
    async recoverTask(
      taskId: string,
      reason?: string,
      requestId?: string,
      acting: { by?: string; holderOnly?: boolean } = {},
    ): Promise<Task> {
      return update(goalOfTask(taskId), recoverTaskUpdate, { taskId, reason, ...acting }, requestId);
    },

    /** Claims one given ready task for an agent (a task pushed to it, say). */
    async claimTask(taskId: string, agentId: string, leaseSeconds?: number, requestId?: string): Promise<ClaimResult> {
      return update(goalOfTask(taskId), claimTaskUpdate, { agentId, taskId, leaseSeconds, pickupSeconds }, requestId);
    },

    /** Pushes a task to one agent in its goal (null: to anyone again). */
    async assignTask(taskId: string, agentId: string | null, requestId?: string, ifAssignedTo?: string): Promise<Task> {
      return update(goalOfTask(taskId), assignTaskUpdate, { taskId, agentId, ifAssignedTo }, requestId);
    },

    async setGoalPriority(goalId: string, priority: number, requestId?: string) {
      return update(checkGoalId(goalId), setPriorityUpdate, { priority }, requestId);
    },

    async decomposeGoal(
      goalId: string,
      strategy: DecomposeStrategy,
      plan: TaskSpec[] | undefined,
      requestId?: string,
    ): Promise<Task[]> {
      checkGoalId(goalId);
      let tasks = plan;
      if (!tasks || tasks.length === 0) {
        const { goal } = await api.getGoal(goalId);
        tasks = templateTasks(strategy, goal.name, goal.description);
      }
      return api.createTasks(goalId, tasks, requestId, `decompose_goal (${plan?.length ? 'plan' : strategy})`);
    },

    /** Claims one ready task atomically: from one goal, or from the best goal that has work; waits if asked. */
    async claimNextTask(req: ClaimRequest): Promise<ClaimOutcome> {
      const deadline = Date.now() + (req.waitSeconds ?? 0) * 1000;
      const updateId = req.requestId ?? randomUUID();
      const input = {
        agentId: req.agentId,
        scope: req.scope,
        tags: req.tags,
        leaseSeconds: req.leaseSeconds,
        pickupSeconds,
      };
      // A claim its agent's last completion already made (prefetch.ts) answers at once.
      // (Not to a caller already gone: the reservation goes back instead.)
      const filter =
        req.goalId !== undefined && req.requestId === undefined && !req.signal?.aborted
          ? { goalId: req.goalId, scope: req.scope, tags: req.tags, leaseSeconds: req.leaseSeconds }
          : undefined;
      const reservation = prefetch.take(req.agentId, filter);
      // Said to the daemon's local socket, which may hand the agent's next claim to its front (call-context.ts).
      const context = callContext.getStore();
      if (context && filter) context.loopClaim = true;
      if (reservation) {
        if (context) context.delivered = reservation;
        const ahead: ClaimOutcome = { ...reservation.claim, claimed: true, goal_id: reservation.goalId, reason: null };
        answeredByReservation.add(ahead);
        return ahead;
      }
      if (context?.reservationOnly) {
        const reason = 'No claim was made ahead of this call.';
        return { claimed: false, task: null, lease_token: null, lease_expires_at: null, goal_id: null, reason };
      }
      let pause = crossGoalPollMs.first;
      const stop = req.signal;
      for (;;) {
        let reason: string;
        let goalId: string | null = null;
        if (stop?.aborted) {
          return {
            claimed: false,
            task: null,
            lease_token: null,
            lease_expires_at: null,
            goal_id: null,
            reason: CALLER_GONE,
          };
        }
        if (req.goalId !== undefined) {
          goalId = checkGoalId(req.goalId);
          try {
            const r = await update(goalId, claimTaskUpdate, input, updateId);
            if (r.task) return { ...r, claimed: true, goal_id: goalId, reason: null };
            // The id answered an earlier wait of this call that found nothing (the server keeps outcomes per run).
            return {
              claimed: false,
              task: null,
              lease_token: null,
              lease_expires_at: null,
              goal_id: goalId,
              reason: 'No task became ready in time.',
            };
          } catch (err) {
            if (!(err instanceof AppError) || err.code !== 'NO_WORK') throw err;
            reason = err.message;
          }
          // Nothing ready: wait inside the goal workflow, which hands this agent the next task in the same workflow
          // task that readies it (no polling; the refused claim above wrote nothing, so its id is free to reuse).
          const left = deadline - Date.now();
          if (left > 0) {
            const waitingOn = goalId;
            const cancel = (): void => {
              const sent = call(waitingOn, (client) =>
                client.workflow.getHandle(goalWorkflowId(waitingOn)).signal(cancelWaitSignal, { updateId }),
              ).catch(() => undefined);
              cancelling.add(sent);
              void sent.finally(() => cancelling.delete(sent));
            };
            stop?.addEventListener('abort', cancel, { once: true });
            const asked = call(goalId, (client) =>
              executeUpdate(
                client,
                goalId as string,
                waitForTaskUpdate,
                { ...input, waitMs: Math.ceil(left) },
                updateId,
              ),
            );
            // Handed a task by a change this process sent: answered from that change's answer (the wait's own answer,
            // the same claim, is then not needed).
            const handed = new Promise<ClaimResult>((resolve) => handoffs.set(updateId, resolve));
            asked.catch(() => undefined);
            const waited: ClaimResult & { reason?: string } = await Promise.race([asked, handed]).finally(() => {
              handoffs.delete(updateId);
              stop?.removeEventListener('abort', cancel);
            });
            if (waited.task) {
              noteHold(goalId, waited);
              return { ...waited, claimed: true, goal_id: goalId, reason: null };
            }
            reason = waited.reason ?? reason;
            if (stop?.aborted) {
              return { claimed: false, task: null, lease_token: null, lease_expires_at: null, goal_id: goalId, reason };
            }
            // Back early: the run continued as new (or the goal was cancelled); ask the new run. Else the wait is over.
            if (deadline - Date.now() > 50) continue;
            return { claimed: false, task: null, lease_token: null, lease_expires_at: null, goal_id: goalId, reason };
          }
        } else {
          const candidates = [...(await readyGoals())];
          // Highest goal priority, then highest ready task priority, then the oldest goal; the claim itself is decided inside each goal.
          candidates.sort(
            (a, b) => b.priority - a.priority || b.topReadyPriority - a.topReadyPriority || a.startTime - b.startTime,
          );
          // Goals this process filled a moment ago that Visibility does not list yet come after the indexed ones.
          const listed = new Set(candidates.map((c) => c.id));
          for (const [id, at] of recentGoals.entries()) {
            if (!listed.has(id)) {
              candidates.push({
                id,
                name: '',
                status: 'active',
                readyCount: 1,
                topReadyPriority: -1,
                priority: 0,
                progress: 0,
                startTime: at,
              });
            }
          }
          reason =
            candidates.length === 0
              ? 'No goal has a ready task right now.'
              : `None of the ${candidates.length} goal(s) with ready tasks had one matching this claim.`;
          for (const goal of candidates) {
            try {
              const r = await update(goal.id, claimTaskUpdate, input, updateId);
              return { ...r, claimed: true, goal_id: goal.id, reason: null };
            } catch (err) {
              if (
                err instanceof AppError &&
                (err.code === 'NO_WORK' || err.code === 'NOT_FOUND' || err.code === 'GOAL_CLOSED')
              )
                continue;
              throw err;
            }
          }
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          return { claimed: false, task: null, lease_token: null, lease_expires_at: null, goal_id: goalId, reason };
        }
        // Until the next look: a change this process sends that may ready a task (a new task, a completion, a
        // release) wakes the wait at once; changes made elsewhere are seen at the next look, each farther apart.
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            crossGoalSleepers.delete(wake);
            stop?.removeEventListener('abort', wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(pause, left));
          crossGoalSleepers.add(wake);
          stop?.addEventListener('abort', wake, { once: true });
        });
        pause = Math.min(crossGoalPollMs.max, pause * 2);
      }
    },

    async setTaskStatus(change: StatusChange & { metadata?: Record<string, unknown> }): Promise<Task> {
      const goalId = goalOfTask(change.taskId);
      // A completion or a release may ready tasks: this process's next claim without a goal should see them.
      if (change.status !== 'in_progress') touchRecent(goalId);
      const holder = {
        taskId: change.taskId,
        agentId: change.agentId,
        leaseToken: change.leaseToken,
        metadata: change.metadata,
      };
      switch (change.status) {
        case 'in_progress':
          return (await update(goalId, startTaskUpdate, holder, change.requestId)).task as Task;
        case 'completed': {
          const agentId = change.agentId;
          const ask = agentId === undefined ? undefined : prefetch.ask(agentId, goalId);
          const reserveNext = ask && { ...ask, pickupSeconds };
          const { reserved, ...task } = await update(
            goalId,
            completeTaskUpdate,
            { ...holder, result: change.result, reserveNext },
            change.requestId,
          );
          if (agentId !== undefined && prefetch.completed(agentId, goalId, reserved)) {
            const context = callContext.getStore();
            if (context) context.reserved = true;
          }
          noteHold(goalId, reserved);
          return task;
        }
        case 'failed':
          return update(goalId, failTaskUpdate, { ...holder, error: change.error ?? change.result }, change.requestId);
        case 'cancelled':
          return update(
            goalId,
            cancelTaskUpdate,
            {
              taskId: change.taskId,
              reason: change.error ?? change.result,
              by: change.agentId,
              holderOnly: change.holderOnly,
            },
            change.requestId,
          );
        case 'pending':
        case 'ready': {
          // Back to the queue: a failed or cancelled task is retried, a held one is released by its holder.
          const task = await api.getTask(change.taskId);
          if (task.status === 'failed' || task.status === 'cancelled') {
            return update(goalId, retryTaskUpdate, { taskId: change.taskId }, change.requestId);
          }
          return update(goalId, releaseTaskUpdate, holder, change.requestId);
        }
      }
    },

    async retryTask(taskId: string, requestId?: string, force = false): Promise<Task> {
      return update(goalOfTask(taskId), retryTaskUpdate, { taskId, force }, requestId);
    },

    /** Extends the agent's leases: on one task, or on every task it holds in any goal. */
    /** Without an agent id (a caller with no identity) the heartbeat is for the task's current holder. */
    async heartbeat(agentId: string | undefined, taskId?: string, requestId?: string): Promise<HeartbeatResult> {
      if (taskId !== undefined) return update(goalOfTask(taskId), heartbeatUpdate, { agentId, taskId }, requestId);
      if (agentId === undefined) fail('INVALID_ARGUMENT', 'A heartbeat names the task, the agent, or both.');
      const listed = await listIndexed(
        `ExecutionStatus = 'Running' AND ${AR_ENTITY.name} = 'goal' AND ArAgents = ${quote(agentId)}`,
        200,
      );
      const now = Date.now();
      const recent = [...(recentHolds.get(agentId) ?? [])].filter(([, at]) => now - at <= RECENT_GOAL_MS);
      const goalIds = [...new Set([...listed.map((g) => g.id), ...recent.map(([id]) => id)])];
      const results = await mapLimited(goalIds, 8, (id) =>
        update(id, heartbeatUpdate, { agentId }, requestId).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return { agent_id: agentId, tasks: [] };
          throw err;
        }),
      );
      return { agent_id: agentId, tasks: results.flatMap((r) => r.tasks) };
    },

    /**
     * Goal rows from Visibility in one call (their memos: see goalMemoStatic), newest first; a goal started before
     * memos, or one this process changed a moment ago, is asked itself. Changes made through other processes may take
     * up to two seconds to show.
     */
    async listGoals(status?: GoalStatus, limit = 50): Promise<GoalSummary[]> {
      const filter = status ? ` AND ${AR_STATUS.name} = ${quote(status)}` : '';
      const query = `(${AR_ENTITY.name} = 'goal'${filter}) AND TaskQueue = ${quote(deps.taskQueue)}`;
      const rows = await call(undefined, async (client) => {
        const out: Array<{ id: string; row?: GoalSummary }> = [];
        for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
          out.push({ id: info.workflowId.replace(/^goal-/, ''), row: summaryFromMemo(info.memo) });
          if (out.length >= limit) break;
        }
        return out;
      });
      // Goals this process changed a moment ago are read live (Visibility may not show the change yet).
      const candidates = mergeTouched(rows, changedGoals.ids());
      const live = await mapLimited(candidates, 16, async (r) => {
        if (r.row) return r.row;
        try {
          return (await api.getGoal(r.id)).goal;
        } catch {
          return undefined;
        }
      });
      return live
        .filter((g): g is GoalSummary => g !== undefined && (status === undefined || g.status === status))
        .slice(0, limit);
    },

    /**
     * One page of tasks (of a goal, or of every running goal in the order they started) and the cursor of the next
     * page, or null when this is the last.
     */
    async listTasksPage(
      goalId: string | undefined,
      status: TaskStatus | undefined,
      limit: number,
      cursor?: string,
    ): Promise<{ tasks: Task[]; nextCursor: string | null }> {
      const at = decodeCursor(cursor);
      const ids = goalId !== undefined ? [checkGoalId(goalId)] : await runningGoalIds();
      const start = at.g === undefined ? 0 : Math.max(0, ids.indexOf(at.g));
      const out: Array<{ task: Task; goal: string; offset: number }> = [];
      for (let n = start; n < ids.length && out.length <= limit; n++) {
        const id = ids[n] as string;
        const offset = n === start ? at.o : 0;
        try {
          const page = await query(id, listTasksQuery, { status, limit: limit + 1 - out.length, offset });
          page.forEach((task, k) => out.push({ task, goal: id, offset: offset + k }));
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== 'NOT_FOUND' || goalId !== undefined) throw err;
        }
      }
      const next = out[limit];
      return {
        tasks: out.slice(0, limit).map((x) => x.task),
        nextCursor: next ? encodeCursor({ g: next.goal, o: next.offset }) : null,
      };
    },

    async listTasks(goalId: string | undefined, status: TaskStatus | undefined, limit = 50): Promise<Task[]> {
      if (goalId !== undefined) return query(checkGoalId(goalId), listTasksQuery, { status, limit });
      const out: Task[] = [];
      for (const id of await runningGoalIds()) {
        if (out.length >= limit) break;
        try {
          out.push(...(await query(id, listTasksQuery, { status, limit: limit - out.length })));
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
        }
      }
      return out;
    },

    listIndexed,
    runningGoalIds,
    taskQueue: deps.taskQueue,
    queryGoal: query,
    /** Runs fn with the connected client, mapping errors to AppError. */
    withClient: <T>(fn: (client: Client) => Promise<T>, entity?: string, target?: WorkflowTarget) =>
      call(entity, fn, target),
    /** Temporal's and the workers' state, answered within about a second (for /healthz). */
    async health(): Promise<{ temporal: boolean; workers: number | undefined }> {
      const temporal = await liveness.temporal();
      return { temporal, workers: temporal ? await liveness.workers() : undefined };
    },
    /** How long a prefetched claim waits for its agent (0: prefetch is off). */
    prefetchHoldMs: holdMs,
    /**
     * Sends back a reservation a call delivered (callContext) but its agent never took: the agent is not looping fast
     * (it called something else, or not within the hold), so its next completion reserves nothing.
     */
    returnReservation(r: Reservation): void {
      prefetch.forgetLoop(r.agentId);
      release(r);
    },
    /**
     * Sends back a claim its agent never saw — made beside a breaker read that then kept the agent from work
     * (breakers.admitsBeside): the task is ready again, no attempt counted. Resolves once the goal has it back, or
     * it was no longer the agent's (its lease ran out, the task was cancelled).
     */
    async undoClaim(agentId: string, outcome: ClaimOutcome): Promise<void> {
      if (!outcome.claimed) return;
      prefetch.forgetLoop(agentId);
      const context = callContext.getStore();
      if (context && context.delivered?.claim.task?.id === outcome.task?.id) context.delivered = undefined;
      await update(outcome.goal_id, releaseTaskUpdate, {
        taskId: (outcome.task as Task).id,
        agentId,
        leaseToken: outcome.lease_token ?? undefined,
        reservation: true,
        undone: 'breaker',
      }).catch(() => undefined);
    },
    /** The claim made for this agent ahead of its next call (by its last completion), while it waits. */
    reservedFor(agentId: string): Reservation | undefined {
      return prefetch.heldFor(agentId);
    },
    /** Whether claimNextTask answered this outcome from a reservation (made by the agent's last completion). */
    wasReserved(outcome: ClaimOutcome): boolean {
      return answeredByReservation.has(outcome);
    },
    /** Calls `listener` with each reservation sent back to the queue (its agent never took it). */
    onReservationReturned(listener: (r: Reservation) => void): void {
      returnedListeners.push(listener);
    },
    /**
     * Keeps `work` a call started and did not wait for (an offer of queued work, a note to an agent) until it settles:
     * drain() waits for it, and calls `abort` if it has not settled by then.
     */
    background(work: Promise<unknown>, abort?: () => void): void {
      const kept = work.catch(() => undefined);
      afterAnswers.set(kept, abort);
      void kept.finally(() => afterAnswers.delete(kept));
    },
    /** True once drain() was called: the process is stopping, and work left after answers may be cut off. */
    draining: (): boolean => draining,
    /**
     * Waits (at most `ms`) for cancellations of long-polls, releases of reservations and work left after answers
     * still on their way, before the connection closes; work left after answers that is still going is then aborted.
     */
    async drain(ms = 2000): Promise<void> {
      draining = true;
      prefetch.releaseAll();
      const sent = [...cancelling, ...releasing, ...afterAnswers.keys()];
      if (sent.length > 0) await Promise.race([Promise.allSettled(sent), sleep(ms)]);
      for (const abort of afterAnswers.values()) abort?.();
    },
    /** Claims one given ready task for an agent with its own lease (0 = none) and starts it. */
    async claimAndStart(taskId: string, agentId: string, leaseSeconds: number, requestId?: string): Promise<Task> {
      const goalId = goalOfTask(taskId);
      await update(goalId, claimTaskUpdate, { agentId, taskId, leaseSeconds }, requestId && `${requestId}:claim`);
      return (await update(goalId, startTaskUpdate, { taskId, agentId }, requestId && `${requestId}:start`))
        .task as Task;
    },
    goalOfTask,
    checkGoalId,
    mapLimited,
  };
  return api;
}

export type GoalsClient = ReturnType<typeof createGoalsClient>;

export { DomainError };
