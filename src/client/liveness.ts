/**
 * Bounded answers under faults. A call on a workflow waits for Temporal and for a worker; when either is missing, the
 * SDK would wait (or retry) for tens of seconds. `bounded()` lets a call run as long as it needs while both are there,
 * and answers quickly when they are not: TEMPORAL_UNAVAILABLE when Temporal does not answer a health check (within
 * about 3 s of the call), NO_WORKER when Temporal is up but no worker polls the task queue (within about 5 s). A change
 * whose outcome is unknown says so: retrying it with the same request_id applies it at most once.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AppError, UNAVAILABLE_HINT } from './errors';

/** When a call still has no answer after this long, it checks on Temporal and the workers (then every CHECK_EVERY). */
export const FIRST_CHECK_MS = 1_500;
const CHECK_EVERY_MS = 3_000;
/** A health check of Temporal that takes longer than this counts as "down". */
const HEALTH_DEADLINE_MS = 1_000;
/** A worker long-polls a task queue for up to a minute at a time; one not seen for longer than this is gone. */
const POLLER_STALE_MS = 75_000;
const CACHE_MS = 1_000;

export interface Liveness {
  /** Whether Temporal answers a health check within a second (cached for a second). */
  temporal(): Promise<boolean>;
  /** Workers seen polling the workflow task queue lately (cached for a second); undefined when unknown. */
  workers(): Promise<number | undefined>;
}

export interface LivenessDeps {
  client: () => Promise<Client>;
  namespace: string;
  taskQueue: string;
}

function cached<T>(fn: () => Promise<T>): () => Promise<T> {
  let at = 0;
  let value: Promise<T> | undefined;
  return () => {
    if (!value || Date.now() - at > CACHE_MS) {
      at = Date.now();
      value = fn();
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
  const temporalUp = cached(() =>
    withTimeout(
      deps.client().then(async (c) => {
        await c.connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () => c.workflowService.getSystemInfo({}));
        return true;
      }),
      HEALTH_DEADLINE_MS + 100,
      false,
    ),
  );
  const workers = cached(() =>
    withTimeout(
      deps.client().then(async (c) => {
        const r = await c.connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () =>
          c.workflowService.describeTaskQueue({
            namespace: deps.namespace,
            taskQueue: { name: deps.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
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
  );
  return { temporal: temporalUp, workers };
}

export interface BoundedOptions {
  /** The call changes something: when it cannot be answered, its outcome is unknown. */
  write: boolean;
  /** For the message: "Goal g-1", "Pipeline p". */
  entity?: string;
  address?: string;
  taskQueue: string;
}

function unknownOutcome(write: boolean): string {
  return write
    ? ' Whether this change was applied is unknown: call again with the same request_id, which applies it at most once.'
    : '';
}

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
      (e: unknown) => finish(() => reject(e)),
    );
    const check = async (): Promise<void> => {
      if (settled) return;
      if (!(await liveness.temporal())) {
        return finish(() =>
          reject(
            new AppError(
              'TEMPORAL_UNAVAILABLE',
              `No Temporal server answers at ${options.address ?? 'the configured address'}${options.entity ? ` (calling ${options.entity})` : ''}. ${UNAVAILABLE_HINT}${unknownOutcome(options.write)}`,
            ),
          ),
        );
      }
      if ((await liveness.workers()) === 0) {
        return finish(() =>
          reject(
            new AppError(
              'NO_WORKER',
              `Temporal is up, but no agent-runtime worker polls task queue "${options.taskQueue}", so nothing can answer${options.entity ? ` for ${options.entity}` : ''}. Start one: \`agent-runtime worker\` (or \`agent-runtime up\`, which runs one).${unknownOutcome(options.write)}`,
            ),
          ),
        );
      }
      if (!settled) {
        timer = setTimeout(() => void check(), CHECK_EVERY_MS);
        timer.unref?.();
      }
    };
    timer = setTimeout(() => void check(), FIRST_CHECK_MS);
    timer.unref?.();
  });
}
