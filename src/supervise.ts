/**
 * `up`'s embedded dev server, supervised: its pid is kept in $AGENT_RUNTIME_HOME/temporal.pid, so a dev server left
 * running by an earlier `up` that was killed is recognised and managed (stopped with this one) instead of adopted as
 * someone else's; and a dev server that dies while `up` runs is restarted with backoff, or `up` gives up with a clear
 * message and the log's last lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevServer, type DevServer, type DevServerOptions } from './dev-server';
import { log } from './logger';

export interface PidRecord {
  pid: number;
  address: string;
  dbFile?: string;
  /** The `up` that started it. */
  owner: number;
  startedAt: string;
}

export const pidFileFor = (home: string): string => path.join(home, 'temporal.pid');

export function readPidRecord(home: string): PidRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(pidFileFor(home), 'utf8')) as Partial<PidRecord>;
    return typeof r.pid === 'number' && typeof r.address === 'string' ? (r as PidRecord) : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is a Temporal dev server (not a recycled pid now used by something else). */
function isDevServer(pid: number): boolean {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmd.includes('start-dev');
  } catch {
    return isAlive(pid); // no /proc (macOS): trust the pid file
  }
}

/** A dev server this home's earlier `up` left running at `address`, if there is one. */
export function leftover(home: string, address: string): PidRecord | undefined {
  const r = readPidRecord(home);
  // Its own `up` still running means it is not left over: that `up` manages it.
  if (!r || r.address !== address || r.owner === process.pid || isAlive(r.owner)) return undefined;
  return isAlive(r.pid) && isDevServer(r.pid) ? r : undefined;
}

/** Stops a dev server by pid (SIGTERM, then SIGKILL after 10 s). */
export async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

export interface SupervisedDevServer {
  address: string;
  uiUrl?: string;
  /** Where the server is: started by this `up`, or taken over from an earlier one. */
  origin: 'started' | 'taken over';
  stop(): Promise<void>;
}

export interface SuperviseOptions extends DevServerOptions {
  home: string;
  /** Called when the server cannot be brought back: `up` stops everything and exits non-zero. */
  onGiveUp: (message: string) => void;
  /** Restarts allowed within `windowMs` before giving up (default 5 in 60 s). */
  maxRestarts?: number;
  windowMs?: number;
}

function writePid(home: string, pid: number, address: string, dbFile: string | undefined): void {
  const record: PidRecord = { pid, address, dbFile, owner: process.pid, startedAt: new Date().toISOString() };
  fs.writeFileSync(pidFileFor(home), `${JSON.stringify(record)}\n`);
}

function tailOf(file: string, lines = 6): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts (or takes over) the dev server and keeps it running until stop(). A server that exits is restarted after
 * 1 s, 2 s, 4 s…; more than `maxRestarts` exits within `windowMs` and `onGiveUp` is called.
 */
export async function superviseDevServer(options: SuperviseOptions): Promise<SupervisedDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const address = `${ip}:${options.port}`;
  const logFile = options.logFile ?? path.join(options.home, 'temporal.log');
  const maxRestarts = options.maxRestarts ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  let stopping = false;
  let current: { pid: number; stop: () => Promise<void>; exited: Promise<void> } | undefined;
  const restarts: number[] = [];

  const adopt = (pid: number) => {
    writePid(options.home, pid, address, options.dbFile);
    const exited = (async () => {
      while (isAlive(pid)) await sleep(1_000);
    })();
    current = { pid, stop: () => stopPid(pid), exited };
  };
  const launch = async (): Promise<DevServer> => {
    const server = await startDevServer({ ...options, logFile });
    const pid = server.process.pid as number;
    writePid(options.home, pid, address, options.dbFile);
    const exited = new Promise<void>((resolve) => {
      if (server.process.exitCode !== null) resolve();
      else server.process.once('exit', () => resolve());
    });
    current = { pid, stop: () => server.stop(), exited };
    return server;
  };

  const old = leftover(options.home, address);
  let uiUrl: string | undefined;
  let origin: SupervisedDevServer['origin'];
  if (old) {
    log.info(`A dev server left running by an earlier \`up\` (pid ${old.pid}) serves ${address}; managing it again.`);
    adopt(old.pid);
    origin = 'taken over';
    uiUrl = options.uiPort !== undefined ? `http://${ip}:${options.uiPort}` : undefined;
  } else {
    uiUrl = (await launch()).uiUrl;
    origin = 'started';
  }

  const watch = async (): Promise<void> => {
    for (;;) {
      const watched = current;
      if (!watched) return;
      await watched.exited;
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && (restarts[0] as number) < now - windowMs) restarts.shift();
      if (restarts.length > maxRestarts) {
        options.onGiveUp(
          `The Temporal dev server exited ${restarts.length} times within ${Math.round(windowMs / 1000)} s; giving up. See ${logFile}:\n${tailOf(logFile)}`,
        );
        return;
      }
      const delay = 1_000 * 2 ** (restarts.length - 1);
      log.warn(`The Temporal dev server (pid ${watched.pid}) exited; restarting it in ${delay / 1000} s…`);
      await sleep(delay);
      if (stopping) return;
      try {
        await launch();
        log.info(`The Temporal dev server is back on ${address} (pid ${current?.pid}).`);
      } catch (err) {
        log.warn(`Restarting the Temporal dev server failed: ${err instanceof Error ? err.message : String(err)}`);
        current = { pid: watched.pid, stop: () => Promise.resolve(), exited: Promise.resolve() };
      }
    }
  };
  void watch();

  return {
    address,
    uiUrl,
    origin,
    async stop() {
      stopping = true;
      await current?.stop();
      const r = readPidRecord(options.home);
      if (r && r.owner === process.pid) fs.rmSync(pidFileFor(options.home), { force: true });
    },
  };
}
