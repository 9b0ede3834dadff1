/**
 * What the benchmark and the soak script run on: Temporal at TEMPORAL_ADDRESS or an in-memory dev server with a
 * worker in this process on a private task queue — or, for `npm run bench -- --postgres`, `agent-runtime up
 * --postgres` in a throw-away home with its worker processes on that queue — and the project's client.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { LazyClient } from '../client/connection';
import { createGoalsClient, type GoalsClient } from '../client/goals';
import { isPortOpen, startDevServer, type DevServer } from '../dev-server';
import { startWorker } from '../worker';
import { TEMPORAL_SERVER_VERSION } from '../postgres-stack';

export interface BenchEnvironment {
  address: string;
  embedded: boolean;
  /** `dev` (the CLI's dev server, or whatever TEMPORAL_ADDRESS names) or `postgres` (up --postgres). */
  engine: 'dev' | 'postgres';
  /** How the workers run, for the report: "1 in-process", "2 processes". */
  workers: string;
  /** One line for the report's header. */
  label: string;
  namespace: string;
  taskQueue: string;
  client: Client;
  goals: GoalsClient;
  close(): Promise<void>;
}

function clientsFor(address: string, taskQueue: string, namespace?: string) {
  const env = { ...process.env, TEMPORAL_ADDRESS: address, ...(namespace ? { TEMPORAL_NAMESPACE: namespace } : {}) };
  const config = { ...loadConfig(env), taskQueue };
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue, address });
  return { config, lazy, goals };
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
  const { config, lazy, goals } = clientsFor(address, taskQueue);
  const worker = await startWorker(config);
  return {
    address,
    embedded: server !== undefined,
    engine: 'dev',
    workers: '1 in-process',
    label: server ? 'embedded dev server, 1 worker in-process' : 'external server, 1 worker in-process',
    namespace: config.namespace,
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

/**
 * `agent-runtime up --postgres --workers N` in a throw-away home (its own PostgreSQL cluster, the Temporal server,
 * N worker processes on a private task queue), ports from AGENT_RUNTIME_BENCH_PG_PORT on (else the first free block
 * from 7833, in steps of 100). The first
 * run on a machine builds the server binaries with Go (minutes); stopped and removed by close().
 */
export async function startPostgresBenchEnvironment(
  prefix: string,
  say: (m: string) => void,
  workers: number,
): Promise<BenchEnvironment> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-bench-pg-'));
  fs.chmodSync(home, 0o755); // the postgres user reaches its data directory inside
  const port = process.env.AGENT_RUNTIME_BENCH_PG_PORT
    ? Number(process.env.AGENT_RUNTIME_BENCH_PG_PORT)
    : await freeBlock(7833);
  const taskQueue = `${prefix}-${randomUUID().slice(0, 8)}`;
  const logFile = path.join(home, 'up.log');
  const out = fs.openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AGENT_RUNTIME_HOME: home,
    AGENT_RUNTIME_TEMPORAL_PORT: String(port),
    PORT: String(port + 20),
    TEMPORAL_UI_PORT: String(port + 21),
    AGENT_RUNTIME_PG_PORT: String(port + 22),
    AGENT_RUNTIME_DAEMON: 'off',
    AGENT_RUNTIME_TASK_QUEUE: taskQueue,
  };
  delete env.TEMPORAL_ADDRESS;
  // The stack's own namespace, whatever this process was pointed at (a test run's namespace on another server).
  const namespace = 'default';
  env.TEMPORAL_NAMESPACE = namespace;
  const cli = path.join(__dirname, '..', 'cli.js');
  say(`starting up --postgres --workers ${workers} in ${home} (Temporal on 127.0.0.1:${port}; log ${logFile})…`);
  const up = spawn(process.execPath, [cli, 'up', '--postgres', '--workers', String(workers)], {
    env,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => up.once('exit', () => resolve()));
  // The bench stopped by a signal sent to it alone (a timeout of whatever runs it) takes the stack down with it;
  // Ctrl-C in a terminal reaches `up` itself too.
  const onSignal = (signal: NodeJS.Signals): void => {
    say(`${signal}: stopping up --postgres…`);
    void stop()
      .then(() => fs.rmSync(home, { recursive: true, force: true }))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const stop = async () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (up.exitCode === null && up.signalCode === null) {
      up.kill('SIGINT');
      await exited;
    }
  };
  try {
    const started = Date.now();
    let told = started;
    for (;;) {
      const text = fs.readFileSync(logFile, 'utf8');
      if (text.includes('agent-runtime is up')) break;
      if (up.exitCode !== null || up.signalCode !== null) {
        throw new Error(`up --postgres exited before it was up:\n${text.trim().split('\n').slice(-10).join('\n')}`);
      }
      if (Date.now() - started > 15 * 60_000) throw new Error(`up --postgres was not up after 15 minutes (${logFile})`);
      if (Date.now() - told > 30_000) {
        told = Date.now();
        say(`  still starting: ${text.trim().split('\n').pop() ?? ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const address = `127.0.0.1:${port}`;
  const { lazy, goals } = clientsFor(address, taskQueue, namespace);
  return {
    address,
    embedded: false,
    engine: 'postgres',
    workers: `${workers} processes`,
    namespace,
    label: `up --postgres: Temporal ${TEMPORAL_SERVER_VERSION} on PostgreSQL, ${workers} worker processes`,
    taskQueue,
    client: await lazy.get(),
    goals,
    async close() {
      await lazy.close();
      await stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The ports `up --postgres` on base port `p` listens on (see postgres-stack.ts and the env above). */
function stackPorts(p: number): number[] {
  const membership = 20_000 + (p % 10_000);
  return [
    p,
    p + 1,
    p + 2,
    p + 6,
    p + 10,
    p + 20,
    p + 21,
    p + 22,
    membership,
    membership + 1,
    membership + 2,
    membership + 6,
  ];
}

async function freeBlock(from: number): Promise<number> {
  for (let base = from; base < from + 5_000; base += 100) {
    const taken = await Promise.all(stackPorts(base).map((p) => isPortOpen('127.0.0.1', p)));
    if (!taken.some(Boolean)) return base;
  }
  throw new Error(`no free block of ports from ${from} on; set AGENT_RUNTIME_BENCH_PG_PORT`);
}
