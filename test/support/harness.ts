/** Shared test wiring: a real worker on a private task queue, the project's client, and a real MCP Client. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, type RuntimeConfig } from '../../src/config';
import { ensureNamespace } from '../../src/client/admin';
import { LazyClient } from '../../src/client/connection';
import { createGoalsClient, type GoalsClient } from '../../src/client/goals';
import { createServer } from '../../src/mcp/server';
import { startWorker, type WorkerHandle } from '../../src/worker';

export const ROOT = path.resolve(__dirname, '..', '..');

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process by another test file
  }
}

export function uid(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testConfig(taskQueue: string, extra: NodeJS.ProcessEnv = {}): RuntimeConfig {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (global setup).');
  const namespace = process.env.TEST_TEMPORAL_NAMESPACE;
  return {
    ...loadConfig({ TEMPORAL_ADDRESS: address, ...(namespace ? { TEMPORAL_NAMESPACE: namespace } : {}), ...extra }),
    taskQueue,
  };
}

export interface Harness {
  config: RuntimeConfig;
  goals: GoalsClient;
  lazy: LazyClient;
  worker?: WorkerHandle;
  mcp(agentId?: string, toolsets?: string[]): Promise<McpClient>;
  close(): Promise<void>;
}

/** A goals client on the harness's connection whose Temporal client runs `interceptor` on every workflow call. */
export async function watchedGoals(h: Harness, interceptor: WorkflowClientInterceptor): Promise<GoalsClient> {
  const base = await h.lazy.get();
  const client = new Client({
    connection: base.connection,
    namespace: h.config.namespace,
    interceptors: { workflow: [interceptor] },
  });
  return createGoalsClient({
    client: () => Promise.resolve(client),
    taskQueue: h.config.taskQueue,
    address: h.config.temporalAddress,
  });
}

/**
 * A namespace of the test file's own, with the project's search attributes. For files that use the seeds' fixed
 * identities (agent types such as `synthesizer`, whose breaker is the workflow `breaker-synthesizer`): in the run's
 * shared namespace, a breaker another file started is bound to that file's task queue, and once its worker is gone
 * every change to it waits for a worker that never comes (and keeps a call open past the file's end).
 */
export async function privateNamespace(): Promise<string> {
  const namespace = uid('ns');
  const connection = await Connection.connect({ address: testConfig('none').temporalAddress });
  try {
    await ensureNamespace(new Client({ connection, namespace }), namespace, { retentionDays: 1 });
  } finally {
    await connection.close();
  }
  return namespace;
}

/**
 * A private task queue with an in-process worker (unless `worker: false`), a goals client and MCP clients; with
 * `namespace`, in that namespace instead of the run's.
 */
export async function startHarness(opts: { worker?: boolean; namespace?: string } = {}): Promise<Harness> {
  const taskQueue = uid('q');
  const config = testConfig(taskQueue, opts.namespace ? { TEMPORAL_NAMESPACE: opts.namespace } : {});
  let worker: WorkerHandle | undefined;
  if (opts.worker !== false) {
    quietRuntime();
    worker = await startWorker(config);
  }
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({ client: () => lazy.get(), taskQueue, address: config.temporalAddress });
  const clients: McpClient[] = [];
  return {
    config,
    goals,
    lazy,
    worker,
    async mcp(agentId, toolsets = ['all']) {
      const server = createServer({ goals, toolsets, context: { agentId } });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new McpClient({ name: 'test', version: '1.0.0' });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await goals.drain(500); // as a server closing does: work left after answers settles, or is aborted
      await worker?.shutdown();
      await lazy.close();
    },
  };
}

export interface ToolOutcome<T = Record<string, unknown>> {
  isError: boolean;
  data: T;
  error?: { code: string; message: string; details?: unknown };
}

/** Calls a tool and returns its structuredContent, or the parsed error of an isError result. */
export async function call<T = Record<string, any>>(
  client: McpClient,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolOutcome<T>> {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) {
    const text = (r.content as Array<{ type: string; text: string }>)[0]?.text ?? '{}';
    const parsed = JSON.parse(text) as { error: ToolOutcome['error'] };
    return { isError: true, data: {} as T, error: parsed.error };
  }
  return { isError: false, data: r.structuredContent as T };
}

/** Like call(), but fails the test with the tool's error when it returns isError. */
export async function ok<T = Record<string, any>>(
  client: McpClient,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const r = await call<T>(client, name, args);
  if (r.isError) throw new Error(`${name} failed: ${r.error?.code} ${r.error?.message}`);
  return r.data;
}

/** The closed runs of a workflow that continued as new, newest first, walked back from the current run. */
export async function closedRuns(client: Client, workflowId: string) {
  const previousRun = async (runId: string): Promise<string | undefined> => {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    return history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  };
  const runs = [];
  let runId = await previousRun((await client.workflow.getHandle(workflowId).describe()).runId);
  while (runId) {
    runs.push({ workflowId: runId, history: await client.workflow.getHandle(workflowId, runId).fetchHistory() });
    runId = await previousRun(runId);
  }
  return runs;
}

/** Polls until `fn` returns a truthy value (for eventually-consistent reads and durable timers). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  stepMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A worker in its own process (node dist/worker.js), so a test can SIGKILL it. */
/**
 * Runs `agent-runtime ARGS` (the built CLI) to its end, with `env` over this process's environment: its exit code and
 * what it wrote. Its stdin stays open, so `mcp` does not take an end of input for its client leaving.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves once `output()` contains `marker`; rejects with the output's tail if `child` exits first. */
export function untilOutput(child: ChildProcess, output: () => string, marker: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output().includes(marker)) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${what} exited with ${code}:\n${output().slice(-2000)}`));
    });
  });
}

export function spawnWorker(config: RuntimeConfig): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, 'dist', 'worker.js')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporalAddress,
      AGENT_RUNTIME_TASK_QUEUE: config.taskQueue,
      AGENT_RUNTIME_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** One agent of loopThroughWorkerKill: its MCP client, and the agent_id it names (none: the client's own). */
export interface LoopingAgent {
  client: McpClient;
  name: string;
  agentArg?: boolean;
}

/**
 * The agents loop get_next_task → complete on one goal until it is completed; once `killAfter` tasks are done the
 * worker is killed hard and, a second later, started again. Returns the tasks completed (in order) and every claim
 * of a task someone else held or had completed.
 */
export async function loopThroughWorkerKill(
  w: { kill(): Promise<void>; start(): void },
  goalId: string,
  agents: LoopingAgent[],
  killAfter = 30,
): Promise<{ completed: string[]; doubles: string[] }> {
  const holders = new Map<string, string>(); // task → the agent holding it now
  const doubles: string[] = [];
  const completed: string[] = [];
  const loop = async ({ client, name, agentArg }: LoopingAgent) => {
    const me = agentArg ? { agent_id: name } : {};
    for (;;) {
      const claim = await ok(client, 'get_next_task', { goal_id: goalId, ...me });
      if (!claim.claimed) {
        const { goal } = await ok(client, 'get_goal', { goal_id: goalId });
        if (goal.status === 'completed') return;
        await new Promise((r) => setTimeout(r, 100)); // the rest is held by others (or a reservation on its way back)
        continue;
      }
      if (holders.has(claim.id) || completed.includes(claim.id)) doubles.push(claim.id);
      holders.set(claim.id, name);
      await new Promise((r) => setTimeout(r, 5));
      const done = { task_id: claim.id, status: 'completed', lease_token: claim.lease_token, ...me };
      await ok(client, 'update_task_status', done);
      holders.delete(claim.id);
      completed.push(claim.id);
    }
  };
  const all = Promise.all(agents.map(loop));
  await eventually(() => Promise.resolve(completed.length >= killAfter), 60_000, 20);
  await w.kill();
  await new Promise((r) => setTimeout(r, 1000));
  w.start();
  await all;
  return { completed, doubles };
}

/**
 * For tests that SIGKILL the worker: a harness whose worker runs in its own process, set up and torn down around
 * the file. `kill()` kills it hard; `start()` starts a new one.
 */
export function useWorkerProcess(): {
  readonly h: Harness;
  readonly mcp: McpClient;
  kill(): Promise<void>;
  start(): void;
} {
  const ctx = {} as { h: Harness; mcp: McpClient; worker: ChildProcess };
  beforeAll(async () => {
    ctx.h = await startHarness({ worker: false });
    ctx.worker = spawnWorker(ctx.h.config);
    ctx.mcp = await ctx.h.mcp();
    // A call made before any worker polls is answered NO_WORKER: wait for the worker process to be there.
    await eventually(async () => ((await ctx.h.goals.health()).workers ?? 0) > 0, 60_000);
  });
  afterAll(async () => {
    await killHard(ctx.worker);
    await ctx.h.close();
  });
  return {
    get h() {
      return ctx.h;
    },
    get mcp() {
      return ctx.mcp;
    },
    kill: () => killHard(ctx.worker),
    start: () => {
      ctx.worker = spawnWorker(ctx.h.config);
    },
  };
}

/** `p`, or an error saying `what` did not answer within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
