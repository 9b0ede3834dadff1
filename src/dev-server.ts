/**
 * The embedded Temporal: `temporal server start-dev` persisted to a db file, with the project's search attributes
 * and the dynamic config the runtime relies on (more in-flight Updates per workflow than the default 10, since
 * many agents claim from one goal at once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { log } from './logger';
import { freePort, isPortOpen } from './ports';
import { resolveTemporalCli } from './temporal-cli';
import { SEARCH_ATTRIBUTES } from './workflows/search-attributes';

/** Also in deploy/dynamicconfig.yaml, so the production server admits what the dev server does (a test checks). */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, unknown> = {
  'history.maxInFlightUpdates': 1000,
  // The CLI's dev server raises Visibility calls per namespace to 100 a second; the server's own default is 10.
  'frontend.namespaceRPS.visibility': 100,
  // Continue-as-new is suggested at 1,024 events instead of 4,096: a worker that has to replay a history (after a
  // restart, a failover, a cache eviction) must finish within the 10 s workflow task timeout, and a 4,096-event goal
  // took 5–6 s to replay on an idle 2-core machine and 10 s on a loaded one (docs/DECISIONS.md, "Continue-as-new at
  // 1,024 history events").
  'limit.historyCount.suggestContinueAsNew': 1024,
};

export interface DevServerOptions {
  /** Persist to this file; omit for an in-memory server (tests). */
  dbFile?: string;
  ip?: string;
  port?: number;
  /** Undefined: no Web UI. */
  uiPort?: number;
  namespace?: string;
  /** Where the server's own log goes; defaults to a file beside the db, or is discarded. */
  logFile?: string;
  binary?: string;
  /** False: register no search attributes (to test registering them later). */
  searchAttributes?: boolean;
  /** Extra dynamic config on top of DEV_SERVER_DYNAMIC_CONFIG. */
  dynamicConfig?: Record<string, unknown>;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export { freePort, isPortOpen };

export function devServerArgs(o: DevServerOptions & { port: number; ip: string }): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--log-level', 'error'];
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  if (o.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  if (o.namespace && o.namespace !== 'default') args.push('--namespace', o.namespace);
  if (o.searchAttributes !== false) {
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...o.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** Starts the dev server; if it exits at once (a port taken between probe and bind), tries once more on new ports. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  try {
    return await startOnce(options);
  } catch (err) {
    if (options.port !== undefined || !(err instanceof EarlyExit)) throw err;
    log.warn(`${err.message} Retrying on another port.`);
    return startOnce(options);
  }
}

class EarlyExit extends Error {}

function tail(file: string | undefined, lines = 8): string {
  if (!file) return '';
  try {
    return '\n' + fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const binary = options.binary ?? (await resolveTemporalCli());
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  if (await isPortOpen(ip, port)) {
    throw new Error(`Port ${ip}:${port} is already in use; stop what runs there or set TEMPORAL_ADDRESS to use it.`);
  }
  if (options.dbFile) fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const logFile =
    options.logFile ??
    (options.dbFile
      ? path.join(path.dirname(options.dbFile), 'temporal.log')
      : path.join(os.tmpdir(), `agent-runtime-temporal-${port}.log`));
  const out = fs.openSync(logFile, 'a');
  const child = spawn(binary, devServerArgs({ ...options, ip, port }), {
    stdio: ['ignore', out, out],
    detached: false,
  });
  fs.closeSync(out);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });

  const address = `${ip}:${port}`;
  const started = Date.now();
  for (;;) {
    if (exited !== undefined) {
      throw new EarlyExit(
        `The Temporal dev server exited with code ${exited} while starting; see ${logFile}.${tail(logFile)}`,
      );
    }
    if (await isPortOpen(ip, port)) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: '2s' });
        await connection.workflowService.getSystemInfo({});
        await connection.close();
        break;
      } catch {
        // not serving yet
      }
    }
    if (Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(
        `The Temporal dev server did not answer on ${address} within 60 s; see ${logFile}.${tail(logFile)}`,
      );
    }
    await sleep(100);
  }
  log.debug(`Temporal dev server ready on ${address} in ${Date.now() - started} ms`);

  return {
    address,
    uiUrl: options.uiPort !== undefined ? `http://${ip}:${options.uiPort}` : undefined,
    process: child,
    async stop() {
      if (exited !== undefined) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
