/**
 * Circuit breakers by intent. A breaker's workflow is started on first use (update-with-start); reads of an agent
 * that never had one answer a fresh CLOSED breaker without starting anything.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import {
  asGate,
  checkAdmit,
  gateOf,
  newBreakerState,
  statusOf,
  type BreakerConfig,
  type BreakerGate,
  type BreakerState,
  type BreakerStatus,
  type FailureInput,
} from '../domain/breaker';
import {
  admitUpdate,
  BREAKER_GATE_MEMO,
  breakerStateQuery,
  breakerWorkflowId,
  configureUpdate,
  recordFailureUpdate,
  recordSuccessUpdate,
  resetUpdate,
  tripUpdate,
  type BreakerWorkflowInput,
} from '../workflows/messages';
import type { circuitBreakerWorkflow } from '../workflows/circuit-breaker';
import { breakerSearchAttributes } from '../workflows/search-attributes';
import { log } from '../logger';
import { AppError } from './errors';

import type { GoalsClient, WorkflowTarget } from './goals';
import { mergeTouched, RECENT_CHANGE_MS, recentlyTouched } from './recent';

/** How long a breaker read may take before a claim goes ahead without it. */
const READ_DEADLINE_MS = 3_000;
/**
 * How long a breaker read on the claim and baton path is reused. This process's own breaker changes drop it at
 * once; a change made by another process is seen within this time.
 */
export const BREAKER_CACHE_MS = 1_000;
const CACHE_MAX = 10_000;

/** Whether a breaker, as read, lets its agent take work: there is none, or it is CLOSED. */
const letsWork = (s: BreakerGate | undefined): boolean => !s || s.state === 'CLOSED';

interface Cached {
  at: number;
  value: Promise<BreakerGate | undefined>;
  /** Once the read has answered: whether the breaker, as read, lets the agent take work (absent or CLOSED). */
  admits?: boolean;
}
/** One cache per goals client, shared by every breakers client made from it (MCP tools, relay, breaker tools). */
const caches = new WeakMap<GoalsClient, Map<string, Cached>>();
const recents = new WeakMap<GoalsClient, ReturnType<typeof recentlyTouched>>();

/**
 * What a breaker workflow starts with besides its state: the search attributes and summary it is found by, and the
 * memo a claim reads (so a breaker reads right before its first workflow task, and with no worker at all).
 */
export function breakerStartOptions(state: BreakerState) {
  return {
    typedSearchAttributes: breakerSearchAttributes(state.agent_id, state.state),
    staticSummary: `Circuit breaker: ${state.agent_id}`,
    memo: { [BREAKER_GATE_MEMO]: gateOf(state) },
  };
}

export function createBreakersClient(goals: GoalsClient) {
  const entity = (agentId: string) => `The circuit breaker of ${agentId}`;
  const target = (agentId: string): WorkflowTarget => ({
    workflowId: breakerWorkflowId(agentId),
    otherQueueHint: `Or terminate it (\`temporal workflow terminate -w ${breakerWorkflowId(agentId)}\`): a breaker whose workflow has closed counts as none, and the next change starts it afresh on this server's queue.`,
  });
  let cache = caches.get(goals);
  if (!cache) caches.set(goals, (cache = new Map<string, Cached>()));
  const cached = cache;
  // Breakers this process changed a moment ago, which Visibility may not list yet (shared like the cache).
  let recent = recents.get(goals);
  if (!recent) recents.set(goals, (recent = recentlyTouched(RECENT_CHANGE_MS)));
  const touched = recent;

  async function change<A>(agentId: string, def: UpdateDefinition<BreakerStatus, [A]>, arg: A, requestId?: string) {
    cached.delete(agentId);
    touched.touch(agentId);
    return goals.withClient(
      async (client) => {
        const fresh = newBreakerState(agentId, Date.now());
        const start = new WithStartWorkflowOperation<typeof circuitBreakerWorkflow>('circuitBreakerWorkflow', {
          workflowId: breakerWorkflowId(agentId),
          taskQueue: goals.taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ state: fresh } satisfies BreakerWorkflowInput],
          ...breakerStartOptions(fresh),
        });
        try {
          return await client.workflow.executeUpdateWithStart(def, {
            args: [arg],
            updateId: requestId ?? randomUUID(),
            startWorkflowOperation: start,
          });
        } finally {
          cached.delete(agentId);
        }
      },
      entity(agentId),
      target(agentId),
    );
  }

  /**
   * `then` on the agent's breaker workflow within READ_DEADLINE_MS, with what Temporal describes of it; undefined when
   * the agent has none: it never had one, or its workflow was closed (terminated from the Web UI or the CLI), in which
   * case the next change starts a fresh CLOSED breaker.
   */
  async function readRunning<T>(
    agentId: string,
    then: (handle: WorkflowHandle, described: WorkflowExecutionDescription) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await goals.withClient(
        (client) =>
          client.connection.withDeadline(Date.now() + READ_DEADLINE_MS, async () => {
            const handle = client.workflow.getHandle(breakerWorkflowId(agentId));
            const described = await handle.describe();
            return described.status.name === 'RUNNING' ? then(handle, described) : undefined;
          }),
        entity(agentId),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** The breaker's full state, or undefined when the agent has none (see readRunning). */
  const state = (agentId: string): Promise<BreakerState | undefined> =>
    readRunning(agentId, (handle) => handle.query(breakerStateQuery));

  /**
   * What a claim needs of the breaker, or undefined when the agent has none. Read from the workflow's memo, which the
   * server answers alone: no worker is asked, so a breaker whose worker is down or gone (bound to a task queue nobody
   * polls any more) still reads as it is. A run started before the memo existed is asked by Query. Lenient: a breaker
   * that cannot answer in time counts as absent, so it never stalls claims or batons.
   */
  const gate = (agentId: string): Promise<BreakerGate | undefined> =>
    readRunning(
      agentId,
      async (handle, described) =>
        asGate(described.memo?.[BREAKER_GATE_MEMO]) ?? gateOf(await handle.query(breakerStateQuery)),
    ).catch((err: unknown) => {
      log.warn(`the circuit breaker of ${agentId} did not answer; treating it as closed`, {
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    });

  /** gate(agentId) reused for BREAKER_CACHE_MS, concurrent reads sharing one. */
  function recentState(agentId: string): Promise<BreakerGate | undefined> {
    const now = Date.now();
    const hit = cached.get(agentId);
    if (hit && now - hit.at < BREAKER_CACHE_MS) return hit.value;
    const value = gate(agentId);
    const entry: Cached = { at: now, value };
    void value.then((s) => (entry.admits = letsWork(s)));
    cached.set(agentId, entry);
    if (cached.size > CACHE_MAX) cached.delete(cached.keys().next().value as string);
    return value;
  }

  const api = {
    async status(agentId: string): Promise<BreakerStatus> {
      const now = Date.now();
      return statusOf((await state(agentId)) ?? newBreakerState(agentId, now), now);
    },
    recordFailure: (agentId: string, input: FailureInput, requestId?: string) =>
      change(agentId, recordFailureUpdate, input, requestId),
    recordSuccess: (agentId: string, requestId?: string) => change(agentId, recordSuccessUpdate, {}, requestId),
    trip: (agentId: string, reason?: string, requestId?: string) => change(agentId, tripUpdate, { reason }, requestId),
    reset: (agentId: string, requestId?: string) => change(agentId, resetUpdate, {}, requestId),
    configure: (agentId: string, patch: Partial<BreakerConfig>, requestId?: string) =>
      change(agentId, configureUpdate, patch, requestId),

    /**
     * Starts reading the agent's breaker now, without waiting: a call that will need it (a completion that records a
     * success on the side) sends the read beside its own Update, and finds it answered instead of waiting for it after.
     */
    readAhead(agentId: string): void {
      void recentState(agentId);
    },

    /** Records a success only on an agent that has a breaker (so healthy agents cost nothing). */
    async recordSuccessIfTracked(agentId: string, requestId?: string): Promise<void> {
      const s = await recentState(agentId);
      if (s && s.state !== 'CLOSED') await api.recordSuccess(agentId, requestId);
    },

    /**
     * For a claim that can be undone, the breaker read that goes out beside it instead of before it: resolves true
     * when the agent may take work (its breaker absent or CLOSED, read within BREAKER_CACHE_MS), false when the claim
     * must be undone and admit() asked first. Undefined when the agent's last read did not let it work, or this
     * process has no answered read of it (never read, or changed here since): then admit() goes first, as before.
     */
    admitsBeside(agentId: string): Promise<boolean> | undefined {
      if (cached.get(agentId)?.admits !== true) return undefined;
      return recentState(agentId).then(letsWork);
    },

    /** Throws BREAKER_OPEN when the agent may not take work now; in HALF_OPEN uses one probe. */
    async admit(agentId: string): Promise<void> {
      const s = await recentState(agentId);
      if (!s || s.state === 'CLOSED') return;
      if (s.state === 'OPEN') checkAdmit(s, Date.now()); // throws unless the cooldown has just ended
      cached.delete(agentId); // a probe changes the breaker
      await goals.withClient(
        (client) =>
          client.workflow
            .getHandle(breakerWorkflowId(agentId))
            .executeUpdate(admitUpdate, { args: [{}], updateId: randomUUID() }),
        entity(agentId),
        target(agentId),
      );
    },

    /**
     * A failure or success recorded on the side of another call (a failed task, a failed gate, a completion): it waits
     * at most READ_DEADLINE_MS, so a breaker that no worker serves never stalls the call it rides on; the Update
     * still applies (once, by its id) when a worker picks it up. With the request_id of the call it rides on (and a
     * suffix), a retry of that call records nothing twice.
     */
    async recordOnTheSide(agentId: string, outcome: FailureInput | 'success', requestId?: string): Promise<void> {
      const change = (
        outcome === 'success'
          ? api.recordSuccessIfTracked(agentId, requestId)
          : api.recordFailure(agentId, outcome, requestId)
      ).then(
        () => undefined,
        () => undefined,
      );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log.warn(
            `the circuit breaker of ${agentId} did not answer in time; the change applies when a worker serves it`,
          );
          resolve();
        }, READ_DEADLINE_MS);
      });
      await Promise.race([change, late]);
      clearTimeout(timer);
    },

    /** The fallback agent for work of this agent (type) while its breaker is OPEN, else null. */
    async fallbackFor(agentId: string): Promise<string | null> {
      const s = await recentState(agentId);
      return s && s.state === 'OPEN' ? s.config.fallback_agent : null;
    },

    async list(): Promise<{
      total: number;
      open: BreakerStatus[];
      half_open: BreakerStatus[];
      closed: BreakerStatus[];
    }> {
      const found = (await goals.listIndexed(`ArEntity = 'breaker' AND ExecutionStatus = 'Running'`, 1000)).map(
        (g) => ({ id: g.id.replace(/^breaker-/, '') }),
      );
      const all = await goals.mapLimited(mergeTouched(found, touched.ids()), 16, (b) =>
        api.status(b.id).catch(() => undefined),
      );
      const live = all.filter((s): s is BreakerStatus => s !== undefined);
      return {
        total: live.length,
        open: live.filter((s) => s.state === 'OPEN'),
        half_open: live.filter((s) => s.state === 'HALF_OPEN'),
        closed: live.filter((s) => s.state === 'CLOSED'),
      };
    },
  };
  return api;
}

export type BreakersClient = ReturnType<typeof createBreakersClient>;
