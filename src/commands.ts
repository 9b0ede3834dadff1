/**
 * agent-runtime up | mcp | serve | worker | temporal-cli | temporal-server
 *   up            the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set), the worker and the HTTP MCP server;
 *                 with --postgres, a Temporal server on PostgreSQL, its Web UI and --workers N worker processes
 *   mcp           the MCP server on stdio (what `claude mcp add` runs)
 *   serve         the MCP server over Streamable HTTP only
 *   worker        the worker only
 *   temporal-cli  print the path of the Temporal CLI, building it first if needed
 *   temporal-server  the same for the binaries of `up --postgres` (server, sql tool, UI server)
 *   setup         register the namespace and the search attributes on a Temporal server (docker-compose's one-shot)
 *   import        recreate an agent-runtime-mcp or hq database as workflows
 */
import path from 'node:path';
import fs from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, type RuntimeConfig } from './config';
import { applyFlagsOrExit } from './flags';
import { ensureNamespace, ensureSearchAttributes, waitForTemporal } from './client/admin';
import { connectClient, LazyClient } from './client/connection';
import { createGoalsClient } from './client/goals';
import { isPortOpen } from './dev-server';
import { leftover, superviseDevServer, type SupervisedDevServer } from './supervise';
import { formatReport, importDatabase, parseImportArgs } from './import';
import { runBoard } from './board';
import { createAgentsClient } from './client/agents';
import { agentIdFor } from './mcp/tools/agents';
import { log } from './logger';
import { removeDaemonInfo, socketOwnedByOther, socketPathFor, writeDaemonInfo } from './mcp/daemon-info';
import { serveHttp, unsafeHostProblem } from './mcp/http';
import { allTools, SERVER_VERSION } from './mcp/server';
import { serveStdio } from './mcp/stdio';
import { resolveTemporalCli } from './temporal-cli';
import { runUntilSignal, startWorker, STOP_SIGNALS } from './worker';
import { resolveServerBinaries, startPostgresStack, type PostgresStack } from './postgres-stack';
import { spawn, type ChildProcess } from 'node:child_process';

const USAGE = `Usage: agent-runtime <up|mcp|serve|worker|temporal-cli> [--temporal-address host:port] [--namespace ns]
  [--home dir] [--toolsets goals,relay,breakers,projects,agents,task-graph|all] [--agent-id id] [--port 3100]
  [--host 127.0.0.1] [--token secret] [--log-level info]  (every variable of the README's "Configuration" is a flag)
       agent-runtime up --postgres [--workers N]   Temporal on PostgreSQL (DATABASE_URL, or a cluster of its own)
       agent-runtime temporal-server          build (once) and print the binaries up --postgres runs
       agent-runtime setup                    register the namespace and search attributes on TEMPORAL_ADDRESS
       agent-runtime import [database.db] [--from agent-runtime-mcp|hq] [--dry-run] [--temporal-address host:port]
       agent-runtime board [--watch]          agents, goals and open breakers at a glance
       agent-runtime register NAME CAP... [--codebase-id ID] [--force]
       agent-runtime create-task TITLE [DESCRIPTION] [--priority high] [--codebase-id ID] [--capabilities a,b]
       agent-runtime --version`;

function quietWorkerRuntime(): void {
  // Worker SDK logs would otherwise go to stdout; keep warnings only, on stderr.
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => log.warn(entry.message, entry.meta)),
  });
}

/** Worker processes of `up --postgres --workers N`: each restarted (after 1 s) if it dies, all stopped with stop(). */
function workerProcesses(config: RuntimeConfig, count: number): { stop(): Promise<void> } {
  const children = new Set<ChildProcess>();
  let stopping = false;
  const start = (n: number): void => {
    const child = spawn(process.execPath, [path.join(__dirname, 'worker.js')], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: config.temporalAddress,
        TEMPORAL_NAMESPACE: config.namespace,
        AGENT_RUNTIME_TASK_QUEUE: config.taskQueue,
        AGENT_RUNTIME_LOG_LEVEL: process.env.AGENT_RUNTIME_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      log.warn(`worker ${n} exited (${signal ?? code}); starting it again…`);
      setTimeout(() => start(n), 1_000).unref();
    });
  };
  for (let n = 1; n <= count; n++) start(n);
  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...children].map(
          (c) =>
            new Promise<void>((resolve) => {
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

async function up(config: RuntimeConfig): Promise<void> {
  await refuseBeforeStart(config);
  if (config.postgres) return upPostgres(config);
  let devServer: SupervisedDevServer | undefined;
  const hooks: { giveUp?: (message: string) => void } = {};
  const [host, portText] = config.temporalAddress.split(':');
  if (config.embedded) {
    fs.mkdirSync(config.home, { recursive: true });
    const address = `${host ?? '127.0.0.1'}:${portText}`;
    const open = await isPortOpen(host ?? '127.0.0.1', Number(portText));
    if (open && !leftover(config.home, address)) {
      log.info(`A Temporal server already answers at ${config.temporalAddress}; using it instead of starting one.`);
    } else {
      const dbFile = path.join(config.home, 'temporal.db');
      if (!open) log.info(`Starting the Temporal dev server (state in ${dbFile})…`);
      devServer = await superviseDevServer({
        home: config.home,
        dbFile,
        ip: host,
        port: Number(portText),
        uiPort: config.uiPort,
        namespace: config.namespace,
        binary: await resolveTemporalCli(),
        onGiveUp: (message) => hooks.giveUp?.(message),
      });
    }
  }
  const lazy = new LazyClient(config);
  if (!devServer) {
    try {
      const added = await ensureSearchAttributes(await lazy.get(), config.namespace);
      if (added.length > 0) log.info(`Registered search attributes on ${config.temporalAddress}: ${added.join(', ')}`);
    } catch (err) {
      log.warn(
        `Could not check or register the search attributes on ${config.temporalAddress} (${err instanceof Error ? err.message : String(err)}); run "agent-runtime setup" against it, or list and cross-goal claims will not find goals.`,
      );
    }
  }
  quietWorkerRuntime();
  const { worker, http } = await undoneOnFailure(
    async () => {
      const w = await startWorker(config);
      try {
        return { worker: w, http: await serveMcpHttp(config, lazy) };
      } catch (err) {
        await w.shutdown().catch(() => undefined);
        throw err;
      }
    },
    async () => {
      await lazy.close();
      await devServer?.stop();
    },
  );

  const ui = devServer?.uiUrl ?? (config.embedded ? `http://${host}:${config.uiPort}` : undefined);
  const lines = [
    'agent-runtime is up.',
    `  Temporal      ${config.temporalAddress} (namespace ${config.namespace})${devServer ? (devServer.origin === 'taken over' ? ' — left by an earlier up, managed again' : '') : ' — external'}`,
    ui ? `  Web UI        ${ui}` : '',
    `  MCP (HTTP)    ${http.url}`,
    `  Worker        task queue ${config.taskQueue}`,
    '',
    `  Connect Claude Code:  claude mcp add --transport http agent-runtime ${http.url}`,
    '  Stop with Ctrl-C; starting again resumes every goal where it was.',
  ];
  process.stderr.write(lines.filter((l, i) => l !== '' || i > 0).join('\n') + '\n');

  let stopping = false;
  const stop = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping…`);
    await http.close();
    await worker.shutdown().catch((e: unknown) => log.warn(`worker: ${String(e)}`));
    await lazy.close();
    await devServer?.stop();
    log.info('stopped.');
    process.exit(code);
  };
  hooks.giveUp = (message) => {
    log.error(message);
    void stop('the dev server cannot be kept running', 1);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => void stop(signal));
  await worker.done.catch((err: unknown) => {
    log.error(`worker stopped: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (!stopping) await stop('worker exit');
}

/**
 * `up --postgres`: PostgreSQL (DATABASE_URL, or a cluster of its own), a Temporal server on it, the Web UI server,
 * `--workers N` worker processes and the HTTP MCP server; Ctrl-C stops them all, starting again resumes.
 */
async function upPostgres(base: RuntimeConfig): Promise<void> {
  if (!base.embedded) {
    throw new Error(
      'up --postgres starts its own Temporal server: unset TEMPORAL_ADDRESS (or drop --postgres to use that server).',
    );
  }
  fs.mkdirSync(base.home, { recursive: true });
  const temporalPort = Number(base.temporalAddress.split(':')[1] ?? 7233);
  const stack: PostgresStack = await startPostgresStack({
    home: base.home,
    temporalPort,
    uiPort: base.uiPort,
    namespace: base.namespace,
    databaseUrl: base.databaseUrl,
    pgPort: base.pgPort,
  });
  const config: RuntimeConfig = { ...base, temporalAddress: stack.address, embedded: false };
  const workers = workerProcesses(config, config.workers);
  const lazy = new LazyClient(config);
  // "Up" means served: wait (at most a minute) until every worker polls the task queue.
  log.info(`Starting ${config.workers} worker process(es)…`);
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (((await goals.health()).workers ?? 0) >= config.workers) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const http = await undoneOnFailure(
    () => serveMcpHttp(config, lazy),
    async () => {
      await workers.stop();
      await lazy.close();
      await stack.stop();
    },
  );
  process.stderr.write(
    [
      'agent-runtime is up (Temporal on PostgreSQL).',
      `  Temporal      ${config.temporalAddress} (namespace ${config.namespace}; data in ${config.databaseUrl ? 'DATABASE_URL' : path.join(config.home, 'postgres')})`,
      `  Web UI        ${stack.uiUrl}`,
      `  MCP (HTTP)    ${http.url}`,
      `  Workers       ${config.workers} on task queue ${config.taskQueue}`,
      '',
      `  Connect Claude Code:  claude mcp add --transport http agent-runtime ${http.url}`,
      '  Stop with Ctrl-C; starting again resumes every goal where it was.',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping…`);
    await http.close();
    await workers.stop();
    await lazy.close();
    await stack.stop();
    log.info('stopped.');
    process.exit(0);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => void stop(signal));
  await new Promise<never>(() => undefined);
}

function portTakenMessage(config: RuntimeConfig): string {
  return `Port ${config.port} on ${config.host} is already in use by another process (another agent-runtime up or serve?). Stop it, or give this one another port with --port (PORT).`;
}

/**
 * `up` refuses an MCP host without the token it needs, or a taken MCP port, before it starts anything rather than
 * after its Temporal server has started.
 */
async function refuseBeforeStart(config: RuntimeConfig): Promise<void> {
  const unsafe = unsafeHostProblem(config.host, config.token);
  if (unsafe) throw new Error(unsafe);
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  if (config.port !== 0 && (await isPortOpen(host, config.port))) throw new Error(portTakenMessage(config));
}

/** `start()`, or if it fails, `undo()` (stop what was started before it), then its error: nothing is left running. */
async function undoneOnFailure<T>(start: () => Promise<T>, undo: () => Promise<void>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    await undo().catch((e: unknown) => log.warn(`while stopping after a failed start: ${String(e)}`));
    throw err;
  }
}

/**
 * The HTTP MCP server of `up` and `serve`, with /healthz reporting whether Temporal answers. It is also this machine's
 * daemon: it listens on a local socket and says so in $AGENT_RUNTIME_HOME/daemon.json, where `agent-runtime mcp`
 * finds it and becomes a thin front (AGENT_RUNTIME_DAEMON=off turns this off).
 */
async function serveMcpHttp(config: RuntimeConfig, lazy: LazyClient) {
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  fs.mkdirSync(config.home, { recursive: true });
  const daemon = process.env.AGENT_RUNTIME_DAEMON !== 'off' && !socketOwnedByOther(config.home);
  if (!daemon && process.env.AGENT_RUNTIME_DAEMON !== 'off') {
    log.warn(`Another agent-runtime daemon serves ${config.home}; local agents keep using it.`);
  }
  const http = await serveHttp({
    host: config.host,
    port: config.port,
    goals,
    toolsets: config.toolsets,
    token: config.token,
    socketPath: daemon ? socketPathFor(config.home) : undefined,
    health: () => goals.health(),
  }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(portTakenMessage(config));
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new Error(
        `${config.host} is not an address of this machine (${code}), so nothing can listen on it. Give --host (HOST) one of its addresses: 127.0.0.1 for this machine alone, 0.0.0.0 for every interface.`,
      );
    }
    throw err;
  });
  if (http.socketPath) {
    writeDaemonInfo(config.home, {
      pid: process.pid,
      socket: http.socketPath,
      url: http.url,
      temporalAddress: config.temporalAddress,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      startedAt: new Date().toISOString(),
    });
  }
  return {
    ...http,
    close: async () => {
      removeDaemonInfo(config.home);
      await http.close();
    },
  };
}

async function serve(config: RuntimeConfig): Promise<void> {
  const lazy = new LazyClient(config);
  const http = await serveMcpHttp(config, lazy);
  log.info(`MCP (HTTP) on ${http.url}, Temporal at ${config.temporalAddress}`);
  const stop = () =>
    void http
      .close()
      .then(() => lazy.close())
      .then(() => process.exit(0));
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
}

/** A lazily connected Temporal client and the goals API on it, for one command. */
function connect(config: RuntimeConfig) {
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  return { lazy, goals };
}

/** `agent-runtime import`: needs a running Temporal (and a worker to serve what it creates, e.g. `up`). */
async function runImport(argv: string[]): Promise<void> {
  const { args, rest } = parseImportArgs(argv);
  applyFlagsOrExit('import', rest, { takes: 'one database file and flags' });
  const config = loadConfig();
  const { lazy, goals } = connect(config);
  try {
    const report = await importDatabase(goals, args, (line) => log.info(line));
    process.stdout.write(formatReport(report) + '\n');
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  } finally {
    await lazy.close();
  }
}

/** `agent-runtime board [--watch]` and `agent-runtime register NAME CAP...`: for people at a terminal. */
async function runPeopleCommand(command: 'board' | 'register' | 'create-task', argv: string[]): Promise<void> {
  const watch = argv.includes('--watch');
  const force = argv.includes('--force');
  const rest = argv.filter((a) => a !== '--watch' && a !== '--force');
  const { positional } = applyFlagsOrExit(command, rest, {
    own: ['priority', 'capabilities', 'codebase-id', 'goal-id'],
    positional: true,
  });
  const config = loadConfig();
  const { lazy, goals } = connect(config);
  try {
    if (command === 'board') return await runBoard(goals, watch);
    if (command === 'create-task') {
      // The create_task tool itself (validation, push to a fitting agent), run in this process.
      const [title, description] = positional;
      const tool = allTools({ goals, toolsets: ['all'] }).find((t) => t.name === 'create_task');
      const capabilities = process.env.CAPABILITIES?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const parsed = tool?.input.safeParse({
        title,
        description,
        priority:
          process.env.PRIORITY && /^\d+$/.test(process.env.PRIORITY)
            ? Number(process.env.PRIORITY)
            : process.env.PRIORITY,
        goal_id: process.env.GOAL_ID,
        codebase_id: process.env.CODEBASE_ID,
        required_capabilities: capabilities,
      });
      if (!tool || !parsed?.success) {
        throw new Error(
          `Usage: agent-runtime create-task TITLE [DESCRIPTION] [--priority low|normal|high|urgent|0-100] [--codebase-id ID] [--capabilities a,b] [--goal-id ID]${parsed && !parsed.success ? ` (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})` : ''}`,
        );
      }
      const t = (await tool.run(parsed.data, {})) as { id: string; status: string; assigned_to?: string | null };
      process.stdout.write(
        `Created ${t.id}${t.assigned_to ? `, pushed to ${t.assigned_to}` : t.status === 'queued' ? ', queued for a fitting agent' : ''}.\n`,
      );
      return;
    }
    const [name, ...capabilities] = positional;
    if (!name || capabilities.length === 0) {
      throw new Error('Usage: agent-runtime register NAME CAPABILITY... [--codebase-id ID] [--force]');
    }
    const row = await createAgentsClient(goals).register({
      agentId: agentIdFor(name),
      name,
      capabilities,
      codebaseId: process.env.CODEBASE_ID,
      force,
    });
    process.stdout.write(`Registered ${row.agent_id} (${row.status}; capabilities ${row.capabilities.join(', ')}).\n`);
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  } finally {
    if (!watch) await lazy.close();
  }
}

/**
 * `agent-runtime setup`: waits for the Temporal server (up to AGENT_RUNTIME_SETUP_SECONDS, default 120), then creates
 * the namespace unless it exists and registers the project's search attributes. Idempotent; docker-compose runs it
 * once before the workers and the MCP server start.
 */
async function setup(config: RuntimeConfig): Promise<void> {
  const seconds = Number(process.env.AGENT_RUNTIME_SETUP_SECONDS ?? 120);
  const client = await waitForTemporal(() => connectClient(config), {
    timeoutMs: seconds * 1000,
    onWait: () => log.info(`Waiting for Temporal at ${config.temporalAddress}…`),
  }).catch((err: unknown) => {
    throw new Error(
      `Temporal at ${config.temporalAddress} did not answer within ${seconds} s (${err instanceof Error ? err.message : String(err)}).`,
    );
  });
  try {
    const created = await ensureNamespace(client, config.namespace, {
      retentionDays: 7,
      onWait: () => log.info(`Waiting for namespace ${config.namespace} and the search attributes…`),
    });
    log.info(
      `Namespace ${config.namespace} on ${config.temporalAddress}: ${created ? 'created' : 'already there'}, search attributes registered.`,
    );
  } finally {
    await client.connection.close();
  }
}

/** Commands that take flags only (the others parse their own arguments, then their flags). */
const FLAGGED_COMMANDS = ['up', 'mcp', 'serve', 'worker', 'temporal-cli', 'temporal-server', 'setup'];

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'import') return runImport(rest);
  if (command === 'board' || command === 'register' || command === 'create-task')
    return runPeopleCommand(command, rest);
  if (command !== undefined && FLAGGED_COMMANDS.includes(command)) applyFlagsOrExit(command, rest);
  const config = loadConfig();
  switch (command) {
    case 'up':
      return up(config);
    case 'mcp':
      return serveStdio(config);
    case 'serve':
      return serve(config);
    case 'worker': {
      quietWorkerRuntime();
      const w = await startWorker(config);
      log.info(`worker polling ${config.taskQueue} on ${config.temporalAddress}`);
      return runUntilSignal(w);
    }
    case 'temporal-cli':
      process.stdout.write((await resolveTemporalCli()) + '\n');
      return;
    case 'temporal-server': {
      const bins = await resolveServerBinaries();
      process.stdout.write(`${bins.server}\n${bins.sql}\n${bins.ui}\n`);
      return;
    }
    case 'setup':
      return setup(config);
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`agent-runtime ${SERVER_VERSION}\n`);
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stderr.write(USAGE + '\n');
      return;
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`);
      process.exit(2);
  }
}

/** Runs one command of `agent-runtime` (all but the thin stdio front, see cli.ts). */
export function runCommand(argv: string[]): void {
  main(argv).catch((err: unknown) => {
    log.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
