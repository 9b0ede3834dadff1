/**
 * The worker: all workflows and activities of the project on task queue `agent-runtime`. Wiring only.
 * Run as `node dist/worker.js` (or inside `agent-runtime up`); any number of workers may run on any machines.
 */
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type RuntimeConfig } from './config';
import { connectionOptions, LazyClient } from './client/connection';
import { createGoalsClient } from './client/goals';
import { UNAVAILABLE_HINT } from './client/errors';
import { log } from './logger';
import { MEMO_WARN_BYTES, PAYLOAD_WARN_BYTES } from './domain/state-size';

export interface WorkerHandle {
  worker: Worker;
  connection: NativeConnection;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The workflow bundler's options for the workflows at `workflowsPath`: the module of schemas shared by every workflow
 * instance on a thread is preloaded (docs/DECISIONS.md, "Schemas built once per workflow thread").
 */
export function workflowBundlerOptions(workflowsPath: string): NonNullable<WorkerOptions['bundlerOptions']> {
  return { preloadModules: [path.join(path.dirname(workflowsPath), '..', 'domain', 'shared')] };
}

export function workflowSource(): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'bundlerOptions'> {
  const bundle = process.env.AGENT_RUNTIME_WORKFLOW_BUNDLE;
  if (bundle) return { workflowBundle: { codePath: bundle } };
  const workflowsPath = require.resolve('./workflows');
  return { workflowsPath, bundlerOptions: workflowBundlerOptions(workflowsPath) };
}

/** How long a workflow task waits for this worker's sticky queue before it goes to the shared task queue. */
export const STICKY_SCHEDULE_TO_START = '1s';

export async function startWorker(config: RuntimeConfig, extra: Partial<WorkerOptions> = {}): Promise<WorkerHandle> {
  const { address, tls } = connectionOptions(config);
  const connection = await NativeConnection.connect({
    address,
    tls,
    apiKey: config.apiKey,
    // Warn only near the server's limits, not on every continue-as-new of a large goal (domain/state-size.ts).
    payloadLimits: { payloadsWarnSize: PAYLOAD_WARN_BYTES, memoWarnSize: MEMO_WARN_BYTES },
  }).catch((err: unknown) => {
    // The SDK core's own words ("tonic::transport::Error(Transport, ConnectError(…))") say nothing to do.
    const text = err instanceof Error ? err.message : String(err);
    if (/ConnectError|connection refused|dns error|timed out/i.test(text)) {
      throw new Error(`No Temporal server answers at ${address}. ${UNAVAILABLE_HINT}`, { cause: err });
    }
    throw err;
  });
  // A worker on a namespace that does not exist would poll (and log) forever: say so and stop instead.
  try {
    await connection.workflowService.describeNamespace({ namespace: config.namespace });
  } catch (err) {
    await connection.close().catch(() => undefined);
    const text = err instanceof Error ? err.message : String(err);
    if (/not.?found/i.test(text)) {
      throw new Error(
        `Namespace "${config.namespace}" does not exist on ${address}: create it (temporal operator namespace create --namespace ${config.namespace}) or set TEMPORAL_NAMESPACE.`,
      );
    }
    throw err;
  }
  // Activities reach other workflows through the project's client.
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: createActivities({ goals }),
    // A workflow task waits this long on this worker's own (sticky) queue before any worker may take it from the
    // shared one: after a worker is killed, its goals' next calls are served by another worker in about 1.3 s
    // instead of the SDK default's 10 s (docs/DECISIONS.md, "Failover between workers").
    stickyQueueScheduleToStartTimeout: STICKY_SCHEDULE_TO_START,
    ...workflowSource(),
    ...extra,
  });
  const done = worker.run().finally(async () => {
    await lazy.close();
    await connection.close().catch(() => undefined);
  });
  return {
    worker,
    connection,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * The signals that stop a process of ours cleanly: Ctrl-C, a supervisor's stop, and the terminal it ran in closing
 * (SIGHUP, whose default would end it at once, leaving a dev server, a daemon file and claims in flight behind).
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs a worker until SIGTERM/SIGINT/SIGHUP: it drains and stops (exit 0); one that does not stop within 15 s is ended (exit 1),
 * so a supervisor never waits on it. A fatal error rejects (the caller exits non-zero).
 */
export async function runUntilSignal(handle: WorkerHandle): Promise<void> {
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info(`${signal}: stopping the worker…`);
    const force = setTimeout(() => {
      log.error('the worker did not stop within 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    void handle.shutdown().then(() => process.exit(0));
  };
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  await handle.done;
}

if (require.main === module) {
  const config = loadConfig();
  // The SDK's own logging (the workflow bundle's build, state changes) follows AGENT_RUNTIME_LOG_LEVEL too.
  const level = (process.env.AGENT_RUNTIME_LOG_LEVEL ?? 'info').toUpperCase();
  if (level === 'WARN' || level === 'ERROR') {
    Runtime.install({ logger: new DefaultLogger(level, (entry) => log.warn(entry.message, entry.meta)) });
  }
  startWorker(config)
    .then((handle) => {
      log.info(`worker polling task queue ${config.taskQueue} on ${config.temporalAddress} (${config.namespace})`);
      return runUntilSignal(handle);
    })
    .catch((err: unknown) => {
      log.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
