/**
 * goalWorkflow: one per goal (`goal-<goalId>`), holding the goal, its tasks, their dependency DAG, claims with
 * leases, results and an event log. Every change is an Update whose validator rejects bad calls before anything
 * reaches history; reads are Queries. Lease expiry is a durable timer in the main loop.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  currentUpdateInfo,
  isCancellation,
  sleep,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch, initPatches, startedHolding, startedWithBaseline } from './patches';
import { continueAsNewSuggested, initContinueAsNew, noteRecordedWork } from './continue-as-new';
import * as goals from '../domain/goal';
import { renderProjectDetails } from '../domain/projects';
import {
  AssignInputSchema,
  ClaimInputSchema,
  CompleteInputSchema,
  CreateTasksInputSchema,
  FailInputSchema,
  HeartbeatInputSchema,
  HolderInputSchema,
  ListTasksInputSchema,
  ReleaseInputSchema,
  SetPriorityInputSchema,
  TaskRefInputSchema,
} from '../domain/schemas';
import { WaitClaimInputSchema, type ClaimInput, type ClaimResult, type Task } from '../domain/schemas';
import { EventsQuerySchema, TaskIdQuerySchema, TaskIdsQuerySchema } from '../domain/schemas';
import { DomainError } from '../domain/errors';
import { growthOf } from '../domain/state-size';
import { parseOrFail } from '../domain/validate';
import { recall, stateBudget, toFailure, unlessCancelled, updateRegistrar, validatedQuery } from './entity';
import {
  applyBatchUpdate,
  assignTaskUpdate,
  BATCHABLE_UPDATES,
  cancelTaskUpdate,
  claimTaskUpdate,
  completeTaskUpdate,
  createTasksUpdate,
  failTaskUpdate,
  getEventsQuery,
  getGoalQuery,
  getTaskQuery,
  getTasksQuery,
  recoverTaskUpdate,
  setPriorityUpdate,
  heartbeatUpdate,
  listTasksQuery,
  releaseTaskUpdate,
  retryTaskUpdate,
  startTaskUpdate,
  waitForTaskUpdate,
  cancelWaitSignal,
  type GoalWorkflowInput,
} from './messages';
import { goalSearchAttributes } from './search-attributes';

type Remembered = { $task: string } | { $claim: string; lease_token: number | null; lease_expires_at: string | null };

/** How stale counts and progress in Visibility may be while a goal is busy (see publish()). */
const INDEX_REFRESH_MS = 2_000;

const isTask = (v: unknown): v is Task => typeof v === 'object' && v !== null && 'goal_id' in v && 'status' in v;

/**
 * What is kept of an applied update's result for idempotent retries: task results by reference (rehydrated from the
 * current state), so 256 remembered results stay small inside the continue-as-new input.
 */
/** Created tasks returned in the createTasks answer itself, up to this many (more: the caller reads them). */
const CREATED_INLINE_MAX = 16;

function compact(result: unknown): unknown {
  // A repeated createTasks (same request id) answers with the ids alone: the caller reads the tasks as they are now.
  if (typeof result === 'object' && result !== null && 'ids' in result && 'tasks' in result) {
    const { tasks: _tasks, ...rest } = result as { tasks: unknown };
    return rest;
  }
  if (isTask(result)) {
    // A completion that reserved the completer's next task keeps that claim too (see completeTask below).
    const reserved = (result as { reserved?: unknown }).reserved;
    return reserved === undefined
      ? ({ $task: result.id } satisfies Remembered)
      : { $task: result.id, reserved: compact(reserved) };
  }
  if (typeof result === 'object' && result !== null && 'lease_token' in result && 'task' in result) {
    const claim = result as { task: Task | null; lease_token: number | null; lease_expires_at: string | null };
    if (claim.task)
      return { $claim: claim.task.id, lease_token: claim.lease_token, lease_expires_at: claim.lease_expires_at };
  }
  return result;
}

function rehydrate(state: goals.GoalState, kept: unknown): unknown {
  if (typeof kept !== 'object' || kept === null) return kept;
  if ('$task' in kept) {
    const task = goals.findTask(state, (kept as { $task: string }).$task) ?? null;
    if (!('reserved' in kept) || !task) return task;
    return { ...task, reserved: rehydrate(state, (kept as { reserved: unknown }).reserved) };
  }
  if ('$claim' in kept) {
    const k = kept as { $claim: string; lease_token: number | null; lease_expires_at: string | null };
    return {
      task: goals.findTask(state, k.$claim) ?? null,
      lease_token: k.lease_token,
      lease_expires_at: k.lease_expires_at,
    };
  }
  return kept;
}

export async function goalWorkflow(input: GoalWorkflowInput): Promise<void> {
  initPatches();
  initContinueAsNew();
  const state = input.state;
  const applied = new Map<string, unknown>(input.applied ?? []);
  // Set by a handler when the loop must re-arm its lease timer (a lease now ends sooner than the armed one).
  let rearm = false;
  let armedFor: number | undefined;
  let lastIndex = '';
  let lastLive = '';
  // Search attributes and current details are published once per workflow task, after every Update it carries, and
  // counts that no cross-goal read decides with are refreshed at most every INDEX_REFRESH_MS (see
  // indexChangeIsUrgent). Runs started before this change keep publishing at once after every Update.
  const publishPerActivation = hasPatch('publish-once-per-activation');
  const listMemo = hasPatch('goal-list-memo');
  const holdersUrgent = !hasPatch('holders-wait-for-refresh');
  // Long-polls share deadline timers instead of each arming and cancelling its own (see watchWaits).
  const sharedWaitTimers = hasPatch('shared-wait-timers');
  let dirty = false;
  let published: goals.GoalIndex | undefined;
  let publishedAt = 0;
  let refreshArmed = false;
  // A run that starts with the patch baseline was started holding the search attributes and list row it would write
  // now (goalStartOptions; a continue-as-new keeps the last run's): its first publish writes only what differs.
  const atStart = goals.goalIndex(state);
  if (startedHolding(goalSearchAttributes(state.goal.name, atStart))) {
    lastIndex = JSON.stringify(atStart);
    published = atStart;
    publishedAt = Date.now();
  }
  // The list row as compared between writes: its time of change aside.
  const liveKeyOf = (live: Record<string, unknown>): string => {
    const { updated_at: _at, ...rest } = live;
    return JSON.stringify(rest);
  };
  if (startedWithBaseline()) {
    const live = liveKeyOf(goals.goalMemoLive(state));
    if (liveKeyOf((workflowInfo().memo?.live ?? {}) as Record<string, unknown>) === live) lastLive = live;
  }

  const publish = (): void => {
    const idx = goals.goalIndex(state);
    const key = JSON.stringify(idx);
    // Runs started before list rows came from memos replay without them (a patch: see README, "Changing workflow code").
    let liveKey = lastLive;
    if (listMemo) liveKey = liveKeyOf(goals.goalMemoLive(state));
    if (key !== lastIndex || liveKey !== lastLive) {
      const now = Date.now();
      const due =
        !publishPerActivation ||
        published === undefined ||
        goals.indexChangeIsUrgent(published, idx, holdersUrgent) ||
        now - publishedAt >= INDEX_REFRESH_MS;
      if (due) {
        // Only what changed is written: each upsert is a history event.
        if (key !== lastIndex) {
          upsertSearchAttributes(goalSearchAttributes(state.goal.name, idx));
        }
        // The list row (list_goals, list_projects) comes from the memo: one Visibility call for any number of goals.
        if (liveKey !== lastLive) upsertMemo({ live: goals.goalMemoLive(state) });
        lastIndex = key;
        lastLive = liveKey;
        published = idx;
        publishedAt = now;
      } else if (!refreshArmed) {
        refreshArmed = true;
        void sleep(Math.max(1, publishedAt + INDEX_REFRESH_MS - now), {
          summary: `refresh the search attributes of goal ${state.goal.id}`,
        })
          .then(() => {
            refreshArmed = false;
            dirty = true;
          })
          .catch(unlessCancelled);
      }
    }
    setCurrentDetails(
      state.goal.metadata.kind === 'project' ? renderProjectDetails(state) : goals.renderGoalDetails(state),
    );
  };

  // Agents long-polling this goal (waitForTask), oldest first. Not workflow state: a continue-as-new sends them back
  // to their client, which calls again on the new run.
  const waiters: Array<{
    id?: string;
    input: ClaimInput;
    result?: ClaimResult;
    cancelled?: boolean;
    deadline: number;
    expired?: boolean;
  }> = [];
  /**
   * When the armed wait timers fire. A wait served early leaves its timer armed instead of cancelling it (a cancel is
   * a command and a history event in the very workflow task that hands the task over), and a new wait arms none while
   * a timer fires at or before its deadline: firing, a timer ends the waits that are due and arms one for the next.
   */
  const waitTimers = new Set<number>();
  const watchWaits = (deadline: number): void => {
    for (const at of waitTimers) if (at <= deadline) return;
    waitTimers.add(deadline);
    void sleep(Math.max(1, deadline - Date.now()), { summary: `long-poll deadlines in goal ${state.goal.id}` })
      .then(() => {
        waitTimers.delete(deadline);
        const now = Date.now();
        let next: number | undefined;
        for (const w of waiters) {
          if (w.result || w.cancelled || w.expired) continue;
          if (w.deadline <= now) w.expired = true;
          else next = Math.min(next ?? w.deadline, w.deadline);
        }
        if (next !== undefined) watchWaits(next);
      })
      .catch(unlessCancelled);
  };
  /** Waits cancelled before their Update arrived (a Signal can overtake it): they end as soon as they start. */
  const cancelledWaits: string[] = [];
  /**
   * Claims handed to waiting agents by the change being applied. They also ride on that change's answer (`handed`):
   * a client waiting in the same process answers its agent from there, without waiting for the wait's own answer.
   */
  let handedNow: Array<{ id: string; claim: ClaimResult }> = [];
  /** Hands ready tasks to waiting agents, in the same workflow task as the change that made them ready. */
  const serveWaiters = (now: number): void => {
    for (const w of waiters) {
      if (w.result || w.cancelled) continue;
      const task = goals.pickNextTask(state, w.input);
      if (!task) continue;
      w.result = goals.claimTask(state, { ...w.input, taskId: task.id }, now);
      if (w.id !== undefined) handedNow.push({ id: w.id, claim: w.result });
    }
  };

  const afterChange = (): void => {
    if (waiters.length > 0) serveWaiters(Date.now());
    const earliest = goals.earliestLeaseExpiry(state);
    if (earliest !== undefined && (armedFor === undefined || earliest < armedFor)) rearm = true;
    if (publishPerActivation) dirty = true;
    else publish();
  };

  // Changes that store text are weighed first: the state must always fit in the input of its next run.
  const budget = stateBudget(
    state,
    applied,
    (holds, ceiling) =>
      `Goal ${state.goal.id} holds ${holds} of tasks, results and events, and this change could take it past ${ceiling}, the most a goal carries from one run to the next. Shorten the text (keep large output in a file and pass its path), or put further tasks in a new goal.`,
  );
  const update = updateRegistrar({
    budget,
    applied,
    afterChange,
    compact,
    rehydrate: (kept) => rehydrate(state, kept),
    riders: () => {
      const handed = goals.ridingClaims(handedNow);
      handedNow = [];
      return handed.length > 0 ? { handed } : undefined;
    },
  });

  update(
    createTasksUpdate,
    CreateTasksInputSchema,
    'createTasks input',
    (i) => goals.checkAddTasks(state, i.tasks),
    (i, now) => {
      const tasks = goals.addTasks(state, i.tasks, now, i.source ?? 'create_task');
      const ids = tasks.map((t) => t.id);
      return tasks.length <= CREATED_INLINE_MAX
        ? { goal_id: state.goal.id, ids, tasks }
        : { goal_id: state.goal.id, ids };
    },
    (i) => growthOf(i, i.tasks.length),
  );
  update(
    claimTaskUpdate,
    ClaimInputSchema,
    'claimTask input',
    (i) => goals.checkClaim(state, i),
    (i, now) => goals.claimTask(state, i, now),
  );
  update(
    startTaskUpdate,
    HolderInputSchema,
    'startTask input',
    (i) => goals.checkStart(state, i),
    (i, now) => goals.startTask(state, i, now),
  );
  update(
    heartbeatUpdate,
    HeartbeatInputSchema,
    'heartbeat input',
    (i) => goals.checkHeartbeat(state, i),
    (i, now) => goals.heartbeat(state, i, now),
  );
  update(
    completeTaskUpdate,
    CompleteInputSchema,
    'completeTask input',
    (i) => goals.checkHolder(state, i, 'completed'),
    (i, now) => {
      const task = goals.completeTask(state, i, now);
      if (!i.reserveNext || i.agentId === undefined) return task;
      // A prefetch: agents already waiting on this goal come first (the handoff), then the completer's next task.
      if (waiters.length > 0) serveWaiters(now);
      const claim = { ...i.reserveNext, agentId: i.agentId };
      const next = goals.pickNextTask(state, claim);
      return { ...task, reserved: next ? goals.claimTask(state, { ...claim, taskId: next.id }, now) : null };
    },
    (i) => growthOf(i),
  );
  update(
    failTaskUpdate,
    FailInputSchema,
    'failTask input',
    (i) => goals.checkHolder(state, i, 'failed'),
    (i, now) => goals.failTask(state, i, now),
    (i) => growthOf(i),
  );
  update(
    releaseTaskUpdate,
    ReleaseInputSchema,
    'releaseTask input',
    (i) => goals.checkRelease(state, i),
    (i, now) => goals.releaseTask(state, i, now),
  );
  update(
    retryTaskUpdate,
    TaskRefInputSchema,
    'retryTask input',
    (i) => goals.checkRetry(state, i.taskId, i.force),
    (i, now) => goals.retryTask(state, i.taskId, now, i.force),
  );
  update(
    cancelTaskUpdate,
    TaskRefInputSchema,
    'cancelTask input',
    (i) => goals.checkCancel(state, i.taskId, i),
    (i, now) => goals.cancelTask(state, i.taskId, i.reason, now, i),
    (i) => growthOf(i),
  );

  update(
    recoverTaskUpdate,
    TaskRefInputSchema,
    'recoverTask input',
    (i) => goals.checkRecover(state, i.taskId, i),
    (i, now) => goals.recoverTask(state, i.taskId, i.reason, now, i),
    (i) => growthOf(i),
  );
  update(
    assignTaskUpdate,
    AssignInputSchema,
    'assignTask input',
    (i) => goals.checkAssign(state, i.taskId, i.ifAssignedTo),
    (i, now) => goals.assignTask(state, i.taskId, i.agentId, now, i.ifAssignedTo),
  );
  update(
    setPriorityUpdate,
    SetPriorityInputSchema,
    'setPriority input',
    () => undefined,
    (i, now) => goals.setPriority(state, i.priority, now),
  );

  update.batch(applyBatchUpdate, BATCHABLE_UPDATES);

  // An Update that waits (not a Signal): the agent needs the task it is handed. Its claim is applied either at once or
  // by serveWaiters inside the change that readied the task, so the handoff costs no extra round trip.
  setHandler(
    waitForTaskUpdate,
    async (raw) => {
      noteRecordedWork();
      const id = currentUpdateInfo()?.id;
      const earlier = recall(applied, id);
      if (earlier) return rehydrate(state, earlier.result) as ClaimResult;
      const { waitMs, ...claim } = parseOrFail(WaitClaimInputSchema, raw, 'waitForTask input');
      let result: ClaimResult | undefined;
      const ready = goals.pickNextTask(state, claim);
      if (ready) {
        result = goals.claimTask(state, { ...claim, taskId: ready.id }, Date.now());
        afterChange();
      } else {
        const waiter: (typeof waiters)[number] = {
          id,
          input: claim,
          cancelled: id !== undefined && cancelledWaits.includes(id),
          deadline: Date.now() + waitMs,
        };
        waiters.push(waiter);
        const ends = (): boolean =>
          waiter.result !== undefined ||
          waiter.cancelled === true ||
          continueAsNewSuggested() ||
          state.goal.status === 'cancelled';
        try {
          if (sharedWaitTimers) {
            watchWaits(waiter.deadline);
            await condition(() => ends() || waiter.expired === true);
          } else {
            await condition(ends, waitMs, { summary: `get_next_task long-poll by ${claim.agentId}` });
          }
        } catch (err) {
          if (!isCancellation(err)) throw err;
          // The workflow was asked to cancel (see the main loop): the wait ends with nothing claimed.
          throw toFailure(
            new DomainError('GOAL_CLOSED', `Goal ${state.goal.id} was cancelled; it has no work to claim.`),
          );
        } finally {
          waiters.splice(waiters.indexOf(waiter), 1);
        }
        result = waiter.result;
        if (!result && waiter.cancelled) {
          return { task: null, lease_token: null, lease_expires_at: null, reason: 'The caller stopped waiting.' };
        }
      }
      if (!result)
        return { task: null, lease_token: null, lease_expires_at: null, reason: goals.noWorkReason(state, claim) };
      if (id !== undefined) update.remember(id, compact(result));
      return result;
    },
    {
      validator: (raw) => {
        if (recall(applied, currentUpdateInfo()?.id)) return; // a retry: answered with the first result
        parseOrFail(WaitClaimInputSchema, raw, 'waitForTask input');
        if (state.goal.status === 'cancelled') {
          throw toFailure(
            new DomainError('GOAL_CLOSED', `Goal ${state.goal.id} is cancelled; it has no work to claim.`),
          );
        }
      },
    },
  );

  setHandler(cancelWaitSignal, (raw) => {
    noteRecordedWork();
    const updateId = (raw as { updateId?: unknown } | undefined)?.updateId;
    if (typeof updateId !== 'string') return;
    const waiter = waiters.find((w) => w.id === updateId && w.result === undefined);
    if (waiter) waiter.cancelled = true;
    else {
      cancelledWaits.push(updateId);
      if (cancelledWaits.length > 64) cancelledWaits.shift();
    }
  });

  validatedQuery(getTasksQuery, TaskIdsQuerySchema, 'getTasks input', ({ taskIds }) =>
    taskIds.map((id) => goals.findTask(state, id)).filter((t): t is NonNullable<typeof t> => t !== undefined),
  );
  setHandler(getGoalQuery, () => ({ goal: goals.summarizeGoal(state), tasks: state.tasks }));
  validatedQuery(
    getTaskQuery,
    TaskIdQuerySchema,
    'getTask input',
    ({ taskId }) => goals.findTask(state, taskId) ?? null,
  );
  setHandler(listTasksQuery, (q) => {
    const i = parseOrFail(ListTasksInputSchema, q ?? {}, 'listTasks input');
    return goals.listTasks(state, i.status, i.limit ?? 50, i.offset ?? 0);
  });
  validatedQuery(getEventsQuery, EventsQuerySchema, 'getEvents input', (q) => state.events.slice(-(q.limit ?? 100)));

  publish();
  if (publishPerActivation) {
    void (async () => {
      for (;;) {
        await condition(() => dirty);
        dirty = false;
        publish();
      }
    })().catch(unlessCancelled);
  }

  // Main loop: sleep until a lease is due, a handler asks to re-arm, or Temporal suggests continue-as-new.
  for (;;) {
    rearm = false;
    armedFor = goals.earliestLeaseExpiry(state);
    const wakeUp = (): boolean => rearm || continueAsNewSuggested();
    try {
      if (armedFor === undefined) await condition(wakeUp);
      else {
        const held = state.tasks.find(
          (t) => t.lease_expires_at !== null && Date.parse(t.lease_expires_at) === armedFor && t.agent_id !== null,
        );
        await condition(wakeUp, Math.max(1, armedFor - Date.now()), {
          summary: held ? `lease of ${held.id} for ${held.agent_id}` : `lease expiry in goal ${state.goal.id}`,
        });
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      // Asked to cancel (the Web UI's "Request Cancellation", `temporal workflow cancel`): the goal is closed, its
      // row says so, its long-polls end with nothing claimed, and the run ends as cancelled.
      goals.cancelGoal(state, Date.now(), 'its workflow was cancelled');
      publish();
      await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
      throw err;
    }
    noteRecordedWork(); // a handler re-armed the loop, or the lease timer fired

    // A durable timer, not a read-time check: expired leases go back to ready even if nobody calls anything.
    if (goals.expireLeases(state, Date.now()).length > 0) afterChange();

    if (continueAsNewSuggested()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof goalWorkflow>({ state, applied: [...applied.entries()] });
    }
  }
}
