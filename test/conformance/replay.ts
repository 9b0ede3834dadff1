/**
 * Conformance is data: each seed document's examples as rows (tool, documented arguments, documented result fields),
 * replayed in order through a real MCP client against a spawned `agent-runtime mcp` (stdio, no AGENT_ID) and a
 * spawned `agent-runtime serve` (HTTP, no token, no identity header). Ids an example takes from an earlier result are
 * taken from ours; everything else is the document's literal argument.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../../src/dev-server';
import { call, ROOT, startHarness, type Harness } from '../support/harness';

const CLI = path.join(ROOT, 'dist', 'cli.js');

export type Ctx = Record<string, any>;
export interface Row {
  tool: string;
  args?: Record<string, unknown> | ((ctx: Ctx) => Record<string, unknown>);
  /** Result fields the document shows (dotted paths reach into nested objects). */
  fields?: string[];
  /** Values the document shows or implies. */
  check?: (result: any, ctx: Ctx) => void;
  /** Remembers what later rows take from this result. */
  keep?: (result: any, ctx: Ctx) => void;
  /** Not in the document: a step that puts the state the next example needs in place. */
  setup?: true;
}
/** A new session between rows: the client closes and a new server process is spawned (cross-session resume). */
export const RESTART = 'restart' as const;
export interface Section {
  name: string;
  rows: Array<Row | typeof RESTART>;
}

function env(h: Harness, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'AGENT_ID') out[k] = v;
  return {
    ...out,
    TEMPORAL_ADDRESS: h.config.temporalAddress,
    AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
    AGENT_RUNTIME_TOOLSETS: 'all',
    AGENT_RUNTIME_LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface Session {
  client: Client;
  close(): Promise<void>;
}

export type Transport = 'stdio' | 'http';

export async function openSession(h: Harness, transport: Transport): Promise<Session> {
  const client = new Client({ name: `conformance-${transport}`, version: '1.0.0' });
  if (transport === 'stdio') {
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], env: env(h), stderr: 'pipe' }),
    );
    return { client, close: () => client.close() };
  }
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve'], {
    env: env(h, { PORT: String(port), AGENT_RUNTIME_LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('/mcp')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  return {
    client,
    async close() {
      await client.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function field(result: any, dotted: string): unknown {
  return dotted.split('.').reduce((v: any, k) => (v === undefined || v === null ? undefined : v[k]), result);
}

/** Replays one section in a fresh task queue (so cross-goal claims see only this section's goals). */
export async function replay(section: Section, transport: Transport, ctx: Ctx = {}): Promise<void> {
  const h = await startHarness();
  let session = await openSession(h, transport);
  try {
    for (const [i, row] of section.rows.entries()) {
      if (row === RESTART) {
        await session.close();
        session = await openSession(h, transport);
        continue;
      }
      const args = typeof row.args === 'function' ? row.args(ctx) : (row.args ?? {});
      const r = await call(session.client, row.tool, args);
      const where = `${section.name}, row ${i + 1} (${row.tool} ${JSON.stringify(args)})`;
      if (r.isError) throw new Error(`${where} failed: ${r.error?.code} ${r.error?.message}`);
      const missing = (row.fields ?? []).filter((f) => field(r.data, f) === undefined);
      if (missing.length > 0) throw new Error(`${where} lacks the documented field(s) ${missing.join(', ')}`);
      row.check?.(r.data, ctx);
      row.keep?.(r.data, ctx);
    }
  } finally {
    await session.close();
    await h.close();
  }
}
