/**
 * `agent-runtime up --postgres`: a real Temporal server on PostgreSQL, started on this machine (no Docker):
 * - the Temporal server, its SQL schema tool and the Web UI server, built once with Go into the cache (like the CLI);
 * - PostgreSQL from DATABASE_URL, else a cluster of its own under $AGENT_RUNTIME_HOME/postgres made with Debian's
 *   binaries (initdb runs as the `postgres` user when this process is root — initdb refuses root);
 * - both schemas (temporal, temporal_visibility) created and migrated by deploy/setup-schema.sh, idempotently;
 * - the server and UI configs are deploy/temporal-server.yaml and deploy/temporal-ui.yaml, rendered by the servers
 *   from the environment set here; docker-compose.yml mounts the same files (and deploy/dynamicconfig.yaml);
 * - the namespace and the project's search attributes registered.
 * Everything it starts stops with stop(); starting again resumes on the same data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureNamespace, waitForTemporal } from './client/admin';
import { log } from './logger';
import { canBind, isPortOpen } from './ports';
import { cacheRoot, findGo, goInstall } from './temporal-cli';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_UI_VERSION = 'v2.42.1';
const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2/cmd/server';
const ROOT = path.resolve(__dirname, '..');

export interface PostgresStackOptions {
  home: string;
  /** Frontend gRPC port (the address agents' TEMPORAL_ADDRESS names); the other services use the next ports. */
  temporalPort: number;
  uiPort: number;
  namespace: string;
  /** postgres://user:password@host:port — else a cluster of our own. */
  databaseUrl?: string;
  /** Port of our own cluster (default 5433, beside a system cluster on 5432). */
  pgPort?: number;
}

export interface PostgresStack {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

export interface Db {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The server, sql tool and UI server binaries, built with Go on first need. */
export async function resolveServerBinaries(): Promise<{ server: string; sql: string; ui: string }> {
  const serverDir = path.join(cacheRoot(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const uiDir = path.join(cacheRoot(), `temporal-ui-server-${TEMPORAL_UI_VERSION}`);
  const out = {
    server: path.join(serverDir, 'server'),
    sql: path.join(serverDir, 'sql'),
    ui: path.join(uiDir, 'server'),
  };
  const missing = (f: string) => !fs.existsSync(f);
  if (missing(out.server) || missing(out.sql) || missing(out.ui)) {
    const go = findGo();
    if (!go) {
      throw new Error(
        `up --postgres needs the Temporal server ${TEMPORAL_SERVER_VERSION}, its sql tool and the UI server ${TEMPORAL_UI_VERSION}; install Go ≥ 1.23 and rerun (they are built into ${cacheRoot()}).`,
      );
    }
    if (missing(out.server) || missing(out.sql)) {
      await goInstall(
        go,
        [
          `${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
          `${SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
        ],
        serverDir,
        `the Temporal server ${TEMPORAL_SERVER_VERSION} and its sql tool`,
      );
    }
    if (missing(out.ui))
      await goInstall(
        go,
        [`${UI_MODULE}@${TEMPORAL_UI_VERSION}`],
        uiDir,
        `the Temporal UI server ${TEMPORAL_UI_VERSION}`,
      );
  }
  return out;
}

/** The versioned schema directories shipped in the server's Go module (downloaded by the build). */
function schemaDirs(): { temporal: string; visibility: string } {
  const go = findGo();
  const modcache = go ? spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim() : '';
  const base = path.join(modcache, `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  const dirs = {
    temporal: path.join(base, 'temporal', 'versioned'),
    visibility: path.join(base, 'visibility', 'versioned'),
  };
  if (!fs.existsSync(dirs.temporal) && go) {
    spawnSync(go, ['mod', 'download', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], { stdio: 'ignore' });
  }
  if (!fs.existsSync(dirs.temporal))
    throw new Error(`The Temporal schema files are not in ${base}; is Go's module cache there?`);
  return dirs;
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const best = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!best || !fs.existsSync(path.join(root, best, 'bin', 'initdb'))) {
    throw new Error(
      'PostgreSQL is not installed: `apt-get install postgresql` (or set DATABASE_URL to a PostgreSQL you run).',
    );
  }
  return path.join(root, best, 'bin');
}

function run(cmd: string, args: string[], asPostgres: boolean): { status: number | null; out: string } {
  const r = asPostgres
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Our own PostgreSQL cluster: initialized once (password in the home, mode 600), started, stopped by stop(). */
function ownCluster(home: string, port: number): Db & { stop(): void } {
  const bin = postgresBin();
  const dir = path.join(home, 'postgres');
  const data = path.join(dir, 'data');
  const asPostgres = process.getuid?.() === 0;
  const pwFile = path.join(dir, 'password');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (asPostgres) spawnSync('chown', ['postgres:postgres', dir]);
  if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
    log.info(`Initializing a PostgreSQL cluster in ${data}…`);
    fs.writeFileSync(pwFile, crypto.randomBytes(18).toString('base64url'), { mode: 0o600 });
    if (asPostgres) spawnSync('chown', ['postgres:postgres', pwFile]);
    const init = run(
      path.join(bin, 'initdb'),
      ['-D', data, '-U', 'temporal', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8'],
      asPostgres,
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.out.trim().split('\n').slice(-3).join(' ')}`);
  }
  const password = fs.readFileSync(pwFile, 'utf8').trim();
  const ctl = (args: string[]) => run(path.join(bin, 'pg_ctl'), ['-D', data, ...args], asPostgres);
  if (ctl(['status']).status !== 0) {
    log.info(`Starting PostgreSQL on 127.0.0.1:${port}…`);
    const started = ctl([
      '-l',
      path.join(dir, 'postgres.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      '-w',
      'start',
    ]);
    if (started.status !== 0) {
      throw new Error(`PostgreSQL did not start (see ${path.join(dir, 'postgres.log')}): ${started.out.trim()}`);
    }
  }
  return { host: '127.0.0.1', port, user: 'temporal', password, stop: () => void ctl(['-m', 'fast', 'stop']) };
}

function fromUrl(url: string): Db {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

/** The files in deploy/ that both this stack and docker-compose.yml are made from. */
export const DEPLOY_FILES = {
  serverConfig: path.join(ROOT, 'deploy', 'temporal-server.yaml'),
  dynamicConfig: path.join(ROOT, 'deploy', 'dynamicconfig.yaml'),
  uiConfig: path.join(ROOT, 'deploy', 'temporal-ui.yaml'),
  setupSchema: path.join(ROOT, 'deploy', 'setup-schema.sh'),
};

/** Creates and migrates both databases with deploy/setup-schema.sh; each step is a no-op when already done. */
function migrate(sqlTool: string, db: Db): void {
  const dirs = schemaDirs();
  const r = spawnSync('sh', [DEPLOY_FILES.setupSchema], {
    encoding: 'utf8',
    env: {
      ...process.env,
      SQL_TOOL: sqlTool,
      TEMPORAL_SCHEMA_DIR: path.dirname(path.dirname(dirs.temporal)),
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: db.host,
      SQL_PORT: String(db.port),
      SQL_USER: db.user,
      SQL_PASSWORD: db.password,
    },
  });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    throw new Error(`Creating the Temporal schemas failed: ${out.trim().split('\n').slice(-3).join(' ')}`);
  }
}

/**
 * The environment deploy/temporal-server.yaml is rendered from: the frontend on `port`, the other services on the
 * ports after it, membership ports at 20000 + (port mod 10000) (a smallint column on PostgreSQL).
 */
export function serverEnvironment(db: Db, port: number): Record<string, string> {
  const membership = 20_000 + (port % 10_000);
  return {
    POSTGRES_ADDRESS: `${db.host}:${db.port}`,
    POSTGRES_USER: db.user,
    POSTGRES_PASSWORD: db.password,
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    TEMPORAL_BIND_IP: '127.0.0.1',
    TEMPORAL_FRONTEND_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_FRONTEND_PORT: String(port),
    TEMPORAL_FRONTEND_HTTP_PORT: String(port + 10),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(membership),
    TEMPORAL_HISTORY_PORT: String(port + 1),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(membership + 1),
    TEMPORAL_MATCHING_PORT: String(port + 2),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(membership + 2),
    TEMPORAL_WORKER_PORT: String(port + 6),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(membership + 6),
    TEMPORAL_DYNAMIC_CONFIG: 'config/dynamicconfig.yaml',
  };
}

/** Which service each port of serverEnvironment is for, as an error names it. */
const PORT_SERVICES: Record<string, string> = {
  TEMPORAL_FRONTEND_PORT: 'frontend gRPC',
  TEMPORAL_FRONTEND_HTTP_PORT: 'frontend HTTP',
  TEMPORAL_FRONTEND_MEMBERSHIP_PORT: 'frontend membership',
  TEMPORAL_HISTORY_PORT: 'history',
  TEMPORAL_HISTORY_MEMBERSHIP_PORT: 'history membership',
  TEMPORAL_MATCHING_PORT: 'matching',
  TEMPORAL_MATCHING_MEMBERSHIP_PORT: 'matching membership',
  TEMPORAL_WORKER_PORT: 'worker',
  TEMPORAL_WORKER_MEMBERSHIP_PORT: 'worker membership',
};

/**
 * Every port the server would listen on for frontend `port` is free, or an error that names the taken ones: checked
 * before anything starts, so a taken neighbour fails in a second with what to do, not after the database and the
 * server came up (as "bind: address already in use" in the server's log).
 */
export async function checkServerPorts(port: number): Promise<void> {
  const env = serverEnvironment({ host: '', port: 0, user: '', password: '' }, port);
  const wanted = Object.keys(PORT_SERVICES).map((k) => ({ service: PORT_SERVICES[k] as string, port: Number(env[k]) }));
  const taken = [];
  for (const w of wanted) if (!(await canBind('127.0.0.1', w.port))) taken.push(w);
  if (taken.length === 0) return;
  const list = taken.map((t) => `${t.port} (${t.service})`).join(', ');
  throw new Error(
    `The Temporal server on frontend port ${port} also needs ${taken.length === 1 ? 'port' : 'ports'} ${list} on ` +
      `127.0.0.1, and ${taken.length === 1 ? 'it is' : 'they are'} in use. Stop what runs there, or choose another ` +
      `frontend port with AGENT_RUNTIME_TEMPORAL_PORT (the server uses it, +1, +2, +6, +10, and 20000 + port mod 10000 ` +
      `and up).`,
  );
}

/** The environment deploy/temporal-ui.yaml is rendered from. */
export function uiEnvironment(temporalAddress: string, uiPort: number, namespace: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_DEFAULT_NAMESPACE: namespace,
    TEMPORAL_UI_ORIGIN: `http://127.0.0.1:${uiPort}`,
  };
}

async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  child: ChildProcess,
  what: string,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      const tail = fs.existsSync(logFile)
        ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n')
        : '';
      throw new Error(`${what} exited with code ${child.exitCode} while starting (see ${logFile}):\n${tail}`);
    }
    if (await isPortOpen(host, port)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs / 1000} s (see ${logFile})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startLogged(
  binary: string,
  args: string[],
  cwd: string,
  logFile: string,
  env: Record<string, string>,
): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(binary, args, { cwd, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startPostgresStack(o: PostgresStackOptions): Promise<PostgresStack> {
  await checkServerPorts(o.temporalPort);
  const bins = await resolveServerBinaries();
  const cluster = o.databaseUrl ? undefined : ownCluster(o.home, o.pgPort ?? 5433);
  const db: Db = o.databaseUrl ? fromUrl(o.databaseUrl) : (cluster as Db);
  let server: ChildProcess | undefined;
  let ui: ChildProcess | undefined;
  const stop = async () => {
    await stopChild(ui);
    await stopChild(server);
    cluster?.stop();
  };
  try {
    log.info(`Creating or migrating the Temporal schemas on ${db.host}:${db.port}…`);
    migrate(bins.sql, db);

    const root = path.join(o.home, 'temporal-server');
    fs.mkdirSync(path.join(root, 'config'), { recursive: true });
    fs.copyFileSync(DEPLOY_FILES.serverConfig, path.join(root, 'config', 'agent-runtime.yaml'));
    fs.copyFileSync(DEPLOY_FILES.dynamicConfig, path.join(root, 'config', 'dynamicconfig.yaml'));
    const serverLog = path.join(root, 'server.log');
    log.info(
      `Starting the Temporal server ${TEMPORAL_SERVER_VERSION} on 127.0.0.1:${o.temporalPort} (log ${serverLog})…`,
    );
    server = startLogged(
      bins.server,
      ['--root', root, '--config', 'config', '--env', 'agent-runtime', '--allow-no-auth', 'start'],
      root,
      serverLog,
      serverEnvironment(db, o.temporalPort),
    );
    await waitForPort('127.0.0.1', o.temporalPort, 60_000, server, 'The Temporal server', serverLog);

    const address = `127.0.0.1:${o.temporalPort}`;
    const running = server;
    // The frontend listens before its services have joined: a minute at most.
    const client = await waitForTemporal(
      async () =>
        new Client({ connection: await Connection.connect({ address, connectTimeout: '2s' }), namespace: o.namespace }),
      { timeoutMs: 60_000, intervalMs: 500, gone: () => running.exitCode !== null },
    ).catch((err: unknown) => {
      throw new Error(
        `The Temporal server at ${address} does not answer (${err instanceof Error ? err.message : String(err)}); see ${serverLog}.`,
      );
    });
    try {
      const created = await ensureNamespace(client, o.namespace, {
        retentionDays: 7,
        onWait: () => log.info(`Waiting for namespace ${o.namespace} and the search attributes…`),
      });
      if (created) log.info(`Registered namespace ${o.namespace} with the project's search attributes.`);
    } finally {
      await client.connection.close();
    }

    const uiRoot = path.join(o.home, 'temporal-ui');
    fs.mkdirSync(path.join(uiRoot, 'config'), { recursive: true });
    fs.copyFileSync(DEPLOY_FILES.uiConfig, path.join(uiRoot, 'config', 'agent-runtime.yaml'));
    const uiLog = path.join(uiRoot, 'ui.log');
    ui = startLogged(
      bins.ui,
      ['--root', uiRoot, '--config', 'config', '--env', 'agent-runtime', 'start'],
      uiRoot,
      uiLog,
      uiEnvironment(address, o.uiPort, o.namespace),
    );
    await waitForPort('127.0.0.1', o.uiPort, 30_000, ui, 'The Temporal UI server', uiLog);
    return { address, uiUrl: `http://127.0.0.1:${o.uiPort}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
