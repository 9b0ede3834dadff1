/**
 * Bounded answers under faults. A call on a workflow waits for Temporal and for a worker; when either is missing, the
 * SDK would wait (or retry) for tens of seconds. `bounded()` lets a call run as long as it needs while both are there,
 * and answers quickly when they are not: TEMPORAL_UNAVAILABLE when Temporal does not answer a health check (within
 * about 3 s of the call), NO_WORKER when Temporal is up but no worker polls the task queue (within about 5 s) — the
 * queue the call's workflow runs on, which is another one for a workflow started before AGENT_RUNTIME_TASK_QUEUE
 * changed. A change whose outcome is unknown says so: retrying it with the same request_id applies it at most once.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AppError, UNAVAILABLE_HINT } from './errors';
import { isPortOpen } from '../ports';

/** When a call still has no answer after this long, it checks on Temporal and the workers (then every CHECK_EVERY). */
export const FIRST_CHECK_MS = 1_000;
const CHECK_EVERY_MS = 3_000;
/** A health check of Temporal that takes longer than this counts as "down". */
const HEALTH_DEADLINE_MS = 1_000;
/** How late a deadline may fire before the verdict is put down to this process being busy. */
const LATE_MS = 400;
/** A worker long-polls a task queue for up to a minute at a time; one not seen for longer than this is gone. */
const POLLER_STALE_MS = 75_000;
const CACHE_MS = 1_000;
/** After a "down" verdict, new calls check at once for this long: one tool call may make several calls. */
const DOWN_RECENT_MS = 2_500;
/** "No worker" is asked again sooner than the rest: a worker that starts should be found at once. */
const NO_WORKER_CACHE_MS = 200;
/** How long the task queue a workflow runs on is remembered (it does not change within a run). */
const QUEUE_CACHE_MS = 60_000;
const QUEUES_MAX = 10_000;
/**
 * A server whose port accepts connections but whose health check goes unanswered is busy, not gone (a burst of
 * calls on a 2-core machine): calls keep waiting for it this long before they answer TEMPORAL_UNAVAILABLE.
 */
export const BUSY_LIMIT_MS = 15_000;

export interface Liveness {
  /** Temporal was found down a moment ago: a new call checks at once instead of after a second. */
  recentlyDown(): boolean;
  /** Whether Temporal answers a health check within a second (cached for a second). */
  temporal(): Promise<boolean>;
  /** Workers seen polling the workflow task queue lately (cached for a second); undefined when unknown. */
  workers(): Promise<number | undefined>;
  /** The same for another task queue. */
  workersOn(taskQueue: string): Promise<number | undefined>;
  /**
   * The task queue a workflow runs on (a run keeps the queue it started on), cached for a minute; undefined when it
   * cannot be told (no such workflow, or no answer within a second).
   */
  taskQueueOf(workflowId: string): Promise<string | undefined>;
}

export interface LivenessDeps {
  client: () => Promise<Client>;
  taskQueue: string;
  /** host:port of Temporal: a health check that goes unanswered probes whether the port still accepts connections. */
  address?: string;
  /** How long a busy server counts as up (BUSY_LIMIT_MS). */
  busyLimitMs?: number;
}

/** Whether host:port accepts a TCP connection (within half a second). */
export function accepts(address: string): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(address.slice(at + 1));
  if (at < 0 || !Number.isInteger(port)) return Promise.resolve(false);
  return isPortOpen(host, port);
}

/** `fn`'s answer, kept `ttl` ms from when it came (`badTtl` for a bad one); one question in flight at a time. */
function cached<T>(fn: () => Promise<T>, bad: (v: T) => boolean, onBad: () => void, badTtl: number): () => Promise<T> {
  let until = 0;
  let value: Promise<T> | undefined;
  return () => {
    if (!value || Date.now() > until) {
      until = Number.POSITIVE_INFINITY; // in flight
      value = fn().then((v) => {
        const isBad = bad(v);
        if (isBad) onBad();
        until = Date.now() + (isBad ? badTtl : CACHE_MS);
        return v;
      });
    }
    return value;
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms);
    t.unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(fallback);
      },
    );
  });
}

export function createLiveness(deps: LivenessDeps): Liveness {
  let downAt = 0;
  /** Since when the health check has gone unanswered while the port accepts connections (undefined: it answers). */
  let busySince: number | undefined;
  const markDown = (): void => {
    downAt = Date.now();
  };
  const temporalUp = cached(
    () =>
      new Promise<boolean>((resolve) => {
        const started = Date.now();
        // No answer within the deadline means "down" — unless the verdict itself came late: then this process was
        // busy (a blocked event loop), which says nothing about Temporal, so it counts as "up"; or unless the server
        // still accepts connections: then it is busy, and counts as "up" for BUSY_LIMIT_MS.
        const verdict = async (): Promise<boolean> => {
          if (Date.now() - started > HEALTH_DEADLINE_MS + LATE_MS) return true;
          if (!deps.address || !(await accepts(deps.address))) return false;
          busySince ??= started;
          return Date.now() - busySince < (deps.busyLimitMs ?? BUSY_LIMIT_MS);
        };
        // The check is abandoned at the verdict (its retries would outlive it, and the connection).
        const abandon = new AbortController();
        const timer = setTimeout(() => {
          abandon.abort();
          void verdict().then(resolve);
        }, HEALTH_DEADLINE_MS);
        timer.unref?.();
        deps
          .client()
          .then((c) => c.withAbortSignal(abandon.signal, () => c.workflowService.getSystemInfo({})))
          .then(
            () => {
              clearTimeout(timer);
              busySince = undefined;
              resolve(true);
            },
            () => {
              clearTimeout(timer);
              void verdict().then(resolve);
            },
          );
      }),
    (up) => !up,
    markDown,
    CACHE_MS,
  );
  const pollersOf = (taskQueue: string) =>
    cached(
      () =>
        withTimeout(
          deps.client().then(async (c) => {
            const r = await c.connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () =>
              c.workflowService.describeTaskQueue({
                namespace: c.options.namespace,
                taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
                taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
              }),
            );
            const now = Date.now();
            return (r.pollers ?? []).filter((p) => {
              const seconds = Number(p.lastAccessTime?.seconds ?? 0);
              return seconds === 0 || now - seconds * 1000 < POLLER_STALE_MS;
            }).length;
          }),
          HEALTH_DEADLINE_MS + 100,
          undefined as number | undefined,
        ),
      (n) => n === 0,
      () => undefined, // a worker may be starting: calls still give it a second before asking
      NO_WORKER_CACHE_MS,
    );
  const workers = pollersOf(deps.taskQueue);
  const otherQueues = new Map<string, () => Promise<number | undefined>>();
  const workersOn = (taskQueue: string): Promise<number | undefined> => {
    if (taskQueue === deps.taskQueue) return workers();
    let ask = otherQueues.get(taskQueue);
    if (!ask) {
      if (otherQueues.size >= QUEUES_MAX) otherQueues.delete(otherQueues.keys().next().value as string);
      otherQueues.set(taskQueue, (ask = pollersOf(taskQueue)));
    }
    return ask();
  };
  const queues = new Map<string, { at: number; value: Promise<string | undefined> }>();
  const taskQueueOf = (workflowId: string): Promise<string | undefined> => {
    const hit = queues.get(workflowId);
    if (hit && Date.now() - hit.at < QUEUE_CACHE_MS) return hit.value;
    const value = withTimeout(
      deps.client().then((c) =>
        c.connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, async () => {
          const d = await c.workflow.getHandle(workflowId).describe();
          return d.taskQueue;
        }),
      ),
      HEALTH_DEADLINE_MS + 100,
      undefined as string | undefined,
    );
    const entry = { at: Date.now(), value };
    queues.delete(workflowId);
    if (queues.size >= QUEUES_MAX) queues.delete(queues.keys().next().value as string);
    queues.set(workflowId, entry);
    // Only an answer is kept: a workflow not there yet, or a server that did not answer, is asked again next time.
    void value.then((q) => q === undefined && queues.get(workflowId) === entry && queues.delete(workflowId));
    return value;
  };
  return {
    temporal: temporalUp,
    workers,
    workersOn,
    taskQueueOf,
    recentlyDown: () => Date.now() - downAt < DOWN_RECENT_MS,
  };
}

export interface BoundedOptions {
  /** For the message: "Goal g-1", "Pipeline p". */
  entity?: string;
  address?: string;
  taskQueue: string;
  /**
   * The workflow the call waits on, when it is one: if it runs on another task queue than `taskQueue` (started before
   * AGENT_RUNTIME_TASK_QUEUE changed, or by another deployment) and no worker polls that queue, the call says so.
   */
  workflowId?: string;
  /** What else to do about such a workflow, in a sentence (a breaker can be terminated and start afresh). */
  otherQueueHint?: string;
  /** Called when the call is answered with an error instead: stop what it still waits for. */
  onGiveUp?: () => void;
}

const UNKNOWN_OUTCOME =
  ' If this call changes something, whether it was applied is unknown: call again with the same request_id, which applies it at most once.';

/** `op`, unless Temporal or every worker is missing while it waits: then an error saying which, and what to do. */
export function bounded<T>(op: Promise<T>, liveness: Liveness, options: BoundedOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    op.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e instanceof Error ? e : new Error(String(e)))),
    );
    const giveUp = (err: AppError): void =>
      finish(() => {
        options.onGiveUp?.();
        reject(err);
      });
    const check = async (): Promise<void> => {
      if (settled) return;
      if (!(await liveness.temporal())) {
        return giveUp(
          new AppError(
            'TEMPORAL_UNAVAILABLE',
            `No Temporal server answers at ${options.address ?? 'the configured address'}${options.entity ? ` (calling ${options.entity})` : ''}. ${UNAVAILABLE_HINT}${UNKNOWN_OUTCOME}`,
          ),
        );
      }
      // The queue whose workers can answer: the workflow's own, which is this server's unless it started elsewhere.
      const queue = (options.workflowId && (await liveness.taskQueueOf(options.workflowId))) || options.taskQueue;
      if ((await liveness.workersOn(queue)) === 0) {
        return giveUp(
          new AppError(
            'NO_WORKER',
            queue === options.taskQueue
              ? `Temporal is up, but no agent-runtime worker polls task queue "${options.taskQueue}", so nothing can answer${options.entity ? ` for ${options.entity}` : ''}. Start one: \`agent-runtime worker\` (or \`agent-runtime up\`, which runs one).${UNKNOWN_OUTCOME}`
              : `${options.entity ?? `Workflow ${options.workflowId}`} runs on task queue "${queue}", which no worker polls; this server's workers poll "${options.taskQueue}", and a workflow stays on the task queue it started on. Start a worker on it: \`AGENT_RUNTIME_TASK_QUEUE=${queue} agent-runtime worker\`.${options.otherQueueHint ? ` ${options.otherQueueHint}` : ''}${UNKNOWN_OUTCOME}`,
          ),
        );
      }
      if (!settled) {
        timer = setTimeout(() => void check(), CHECK_EVERY_MS);
        timer.unref?.();
      }
    };
    timer = setTimeout(() => void check(), liveness.recentlyDown() ? 0 : FIRST_CHECK_MS);
    timer.unref?.();
  });
}
