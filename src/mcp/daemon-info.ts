/**
 * Where a daemon (`agent-runtime up` or `serve`) tells this machine's agents it runs: `$AGENT_RUNTIME_HOME/daemon.json`
 * names its local socket and the Temporal deployment it serves. Node built-ins only: the thin stdio front reads it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_NAMESPACE, DEFAULT_TEMPORAL_ADDRESS, TASK_QUEUE } from '../defaults';

export interface DaemonInfo {
  pid: number;
  /** The local socket speaking MCP over HTTP (POST /mcp), same user only (mode 0600). */
  socket: string;
  /** The TCP endpoint, for people. */
  url: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  startedAt: string;
}

/** What a stdio front would talk to Temporal with; a daemon serves it only if all three match. */
export interface Deployment {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
}

export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.AGENT_RUNTIME_HOME ?? path.join(os.homedir(), '.agent-runtime');
}

export function deploymentOf(env: NodeJS.ProcessEnv): Deployment {
  return {
    temporalAddress:
      env.TEMPORAL_ADDRESS ??
      (env.AGENT_RUNTIME_TEMPORAL_PORT ? `127.0.0.1:${env.AGENT_RUNTIME_TEMPORAL_PORT}` : DEFAULT_TEMPORAL_ADDRESS),
    namespace: env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE,
    taskQueue: env.AGENT_RUNTIME_TASK_QUEUE ?? TASK_QUEUE,
  };
}

const fileOf = (home: string) => path.join(home, 'daemon.json');

/** The daemon's socket path: in its home, or (paths over the 104-byte socket limit) in the temp directory. */
export function socketPathFor(home: string): string {
  const inHome = path.join(home, 'mcp.sock');
  if (Buffer.byteLength(inHome) < 100) return inHome;
  return path.join(os.tmpdir(), `agent-runtime-${createHash('sha256').update(home).digest('hex').slice(0, 12)}.sock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running daemon of this home serving `deployment`, or undefined. */
export function findDaemon(home: string, deployment: Deployment): DaemonInfo | undefined {
  let info: DaemonInfo;
  try {
    info = JSON.parse(fs.readFileSync(fileOf(home), 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
  if (typeof info.pid !== 'number' || typeof info.socket !== 'string' || !alive(info.pid)) return undefined;
  const same =
    info.temporalAddress === deployment.temporalAddress &&
    info.namespace === deployment.namespace &&
    info.taskQueue === deployment.taskQueue;
  return same ? info : undefined;
}

export function writeDaemonInfo(home: string, info: DaemonInfo): void {
  fs.mkdirSync(home, { recursive: true });
  const tmp = `${fileOf(home)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, fileOf(home));
}

/** Removes the file if it is still this process's (a newer daemon may have taken the home over). */
export function removeDaemonInfo(home: string, pid = process.pid): void {
  try {
    const info = JSON.parse(fs.readFileSync(fileOf(home), 'utf8')) as DaemonInfo;
    if (info.pid === pid) fs.rmSync(fileOf(home), { force: true });
  } catch {
    // nothing to remove
  }
}

/** Another live daemon already owns this home's socket. */
export function socketOwnedByOther(home: string): boolean {
  try {
    const info = JSON.parse(fs.readFileSync(fileOf(home), 'utf8')) as DaemonInfo;
    return info.pid !== process.pid && alive(info.pid);
  } catch {
    return false;
  }
}
