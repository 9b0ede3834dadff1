/**
 * The worker: all workflows and activities of the project on task queue `agent-runtime`. Wiring only.
 * Run as `node dist/worker.js` (or inside `agent-runtime up`); any number of workers may run on any machines.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type RuntimeConfig } from './config';
import { connectionOptions, LazyClient } from './client/connection';
import { createGoalsClient } from './client/goals';
import { log } from './logger';

export interface WorkerHandle {
  worker: Worker;
  connection: NativeConnection;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export function workflowSource(): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> {
  const bundle = process.env.AGENT_RUNTIME_WORKFLOW_BUNDLE;
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('./workflows') };
}

export async function startWorker(config: RuntimeConfig, extra: Partial<WorkerOptions> = {}): Promise<WorkerHandle> {
  const { address, tls } = connectionOptions(config);
  const connection = await NativeConnection.connect({ address, tls, apiKey: config.apiKey });
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

if (require.main === module) {
  const config = loadConfig();
  startWorker(config)
    .then((handle) => {
      log.info(`worker polling task queue ${config.taskQueue} on ${config.temporalAddress} (${config.namespace})`);
      return handle.done;
    })
    .catch((err: unknown) => {
      log.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
