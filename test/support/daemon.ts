/** A daemon (`agent-runtime serve`) with its local socket, and stdio fronts (`agent-runtime mcp`) of agents using it. */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { freePort } from '../../src/dev-server';
import { eventually, killHard, ROOT, type Harness } from './harness';

const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface Front {
  client: Client;
  /** The front process (its pid, for signals). */
  pid: number;
  stderr: () => string;
}

export interface DaemonSupport {
  readonly home: string;
  /** The running daemon. */
  readonly process: ChildProcess;
  /** Starts a daemon (again) in the same home. */
  start(): Promise<void>;
  /** A front for an agent, with extra environment (AGENT_ID, AGENT_RUNTIME_TOOLSETS…). */
  front(extra?: Record<string, string>): Promise<Front>;
  /** A front process with no MCP client on it: the test writes its stdin and reads its stdout. */
  rawFront(extra?: Record<string, string>): ChildProcessWithoutNullStreams;
  /** Closes every front and kills the daemon. */
  close(): Promise<void>;
}

/** `base`: environment of the daemon and every front besides the harness's Temporal address and task queue. */
export function daemonSupport(harness: () => Harness, base: Record<string, string> = {}): DaemonSupport {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'daemon-home-'));
  const clients: Client[] = [];
  const raws: ChildProcess[] = [];
  let daemon: ChildProcess | undefined;
  const env = (extra: Record<string, string> = {}): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'AGENT_ID') out[k] = v;
    const h = harness();
    return {
      ...out,
      AGENT_RUNTIME_HOME: home,
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
      AGENT_RUNTIME_LOG_LEVEL: 'warn',
      ...base,
      ...extra,
    };
  };
  return {
    home,
    get process() {
      if (!daemon) throw new Error('no daemon started');
      return daemon;
    },
    async start() {
      fs.rmSync(path.join(home, 'daemon.json'), { force: true });
      daemon = spawn(process.execPath, [CLI, 'serve'], {
        env: env({ PORT: String(await freePort()), AGENT_RUNTIME_LOG_LEVEL: 'info' }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      await eventually(() => Promise.resolve(fs.existsSync(path.join(home, 'daemon.json'))));
    },
    async front(extra = {}) {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'mcp'],
        env: env(extra),
        stderr: 'pipe',
      });
      let err = '';
      transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const client = new Client({ name: 'front-test', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return { client, pid: transport.pid as number, stderr: () => err };
    },
    rawFront(extra = {}) {
      const p = spawn(process.execPath, [CLI, 'mcp'], { env: env(extra), stdio: 'pipe' });
      raws.push(p);
      return p;
    },
    async close() {
      for (const p of raws) p.kill('SIGKILL');
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      if (daemon) await killHard(daemon);
    },
  };
}
