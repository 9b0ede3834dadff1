/**
 * Queries to one workflow leave this process one at a time. While a workflow task is running (or waiting for a
 * worker), the server keeps the queries that arrive for the next task, but only one per workflow by default
 * (`history.maxBufferedQueryCount`), and refuses the others with RESOURCE_EXHAUSTED ("consistent query buffer is
 * full"). Many agents reading one busy goal at once — every idle agent of a codebase looking for queued work, say —
 * met that refusal; the SDK's retries of it back off from a second up to five, and under steady load ran out.
 *
 * A query waiting here for its turn is shared by identical queries that come meanwhile (same workflow, query and
 * arguments): they are answered by one call that is sent after all of them were asked, so each still reads every
 * change it made before asking. One already sent is never shared, for the same reason. A shared query is sent with
 * the first asker's deadline and abort signal (the runtime's are the same for every caller of one query: a read's
 * deadline, or the verdict that Temporal or its worker is gone). Queries to different workflows do not wait for each
 * other.
 *
 * A query refused because the workflow's last task failed (run past its timeout on an overloaded worker) is sent again
 * for up to TASK_RECOVERY_MS: the server runs that task again, and the workflow answers once it has.
 *
 * A query whose asker gave up while it waited for its turn (its abort signal, given with `askedUntil`) is not sent:
 * the SDK cancels a call when its signal fires, not one started after it fired, and such a call stayed open until its
 * deadline — holding the connection of a process that was stopping.
 */
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowClientInterceptor, WorkflowQueryInput } from '@temporalio/client';
import { isWorkflowTaskFailed } from './errors';

/** How long a query refused for a failed workflow task is retried: past the 10 s workflow task timeout and a retry. */
export const TASK_RECOVERY_MS = 15_000;

/** `send`, again while it is refused because the workflow's last task failed, for up to `withinMs`. */
export async function untilTaskRecovers<T>(send: () => Promise<T>, withinMs = TASK_RECOVERY_MS): Promise<T> {
  const started = Date.now();
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await send();
    } catch (err) {
      if (!isWorkflowTaskFailed(err) || Date.now() - started + delay > withinMs) throw err;
      await sleep(delay);
    }
  }
}

/** The abort signal of the caller whose queries are asked in `fn` (see askedUntil). */
const askerSignal = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn`, whose queries are not sent once `signal` has fired (pass the same signal to the SDK's withAbortSignal). */
export function askedUntil<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return askerSignal.run(signal, fn);
}

function givenUp(): Error {
  const err = new Error('The query was not sent: its caller stopped waiting before its turn came.');
  err.name = 'AbortError';
  return err;
}

interface Waiting {
  key: string | undefined;
  /** Sends the query in the context of the call that asked it (its deadline, its abort signal). */
  send: () => Promise<unknown>;
  done: Promise<unknown>;
  settle: { resolve: (value: unknown) => void; reject: (err: unknown) => void };
}

interface Lane {
  busy: boolean;
  waiting: Waiting[];
}

/** What makes two queries the same: the run, the query, its arguments and its reject condition. */
function keyOf(input: WorkflowQueryInput): string | undefined {
  try {
    return JSON.stringify([
      input.workflowExecution.runId ?? null,
      input.queryType,
      input.args,
      input.queryRejectCondition ?? null,
    ]);
  } catch {
    return undefined; // arguments JSON cannot say (none of the runtime's): never shared
  }
}

export function queryGateInterceptor(): WorkflowClientInterceptor {
  const lanes = new Map<string, Lane>();

  const pump = (workflowId: string, lane: Lane): void => {
    if (lane.busy) return;
    const turn = lane.waiting.shift();
    if (!turn) {
      lanes.delete(workflowId);
      return;
    }
    lane.busy = true;
    // An async wrapper, so that a send that throws instead of rejecting fails its query, not the gate.
    (async () => turn.send())()
      .then(turn.settle.resolve, turn.settle.reject)
      .finally(() => {
        lane.busy = false;
        pump(workflowId, lane);
      });
  };

  return {
    query(input, next) {
      const workflowId = input.workflowExecution.workflowId;
      let lane = lanes.get(workflowId);
      if (!lane) {
        lane = { busy: false, waiting: [] };
        lanes.set(workflowId, lane);
      }
      const key = keyOf(input);
      const same = key === undefined ? undefined : lane.waiting.find((w) => w.key === key);
      if (same) return same.done;
      let settle!: Waiting['settle'];
      const done = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
      const send = AsyncResource.bind(() =>
        askerSignal.getStore()?.aborted ? Promise.reject(givenUp()) : untilTaskRecovers(() => next(input)),
      );
      lane.waiting.push({ key, send, done, settle });
      pump(workflowId, lane);
      return done;
    },
  };
}
