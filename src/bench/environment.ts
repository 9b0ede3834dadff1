/**
 * What the benchmark and the soak script both run on: Temporal at TEMPORAL_ADDRESS or an in-memory dev server,
 * a worker on a private task queue, and the project's client.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { LazyClient } from '../client/connection';
import { createGoalsClient, type GoalsClient } from '../client/goals';
import { startDevServer, type DevServer } from '../dev-server';
import { startWorker } from '../worker';

export interface BenchEnvironment {
  address: string;
  embedded: boolean;
  taskQueue: string;
  client: Client;
  goals: GoalsClient;
  close(): Promise<void>;
}

export async function startBenchEnvironment(prefix: string, say: (m: string) => void): Promise<BenchEnvironment> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  let server: DevServer | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    say('starting an in-memory Temporal dev server…');
    server = await startDevServer({});
    address = server.address;
  }
  const taskQueue = `${prefix}-${randomUUID().slice(0, 8)}`;
  const config = { ...loadConfig({ ...process.env, TEMPORAL_ADDRESS: address }), taskQueue };
  const worker = await startWorker(config);
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue, address });
  return {
    address,
    embedded: server !== undefined,
    taskQueue,
    client: await lazy.get(),
    goals,
    async close() {
      await worker.shutdown();
      await lazy.close();
      await server?.stop();
    },
  };
}
