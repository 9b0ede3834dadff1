/**
 * The daemon's local socket: newline-delimited JSON-RPC, one persistent connection per stdio front. The first line
 * says who the front speaks for ({"agent_runtime_hello":1,"agent_id":…,"toolsets":[…]}); then every line is a JSON-RPC
 * message, and every answer is a line that starts `{"jsonrpc":"2.0","id":` so the front can match it without parsing.
 * No HTTP framing: at 32 agents on two cores, an HTTP request per message cost the fronts and the daemon a third of
 * the machine. The socket is this user's only (mode 0600), so no bearer token is asked on it.
 */
import fs from 'node:fs';
import net from 'node:net';
import { JSONRPCMessageSchema, type JSONRPCMessage, type MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { log } from '../logger';
import type { RequestResponseTransport } from './exchange';

const MAX_LINE = 4 * 1024 * 1024;

export interface Hello {
  agent_runtime_hello: 1;
  agent_id?: string | null;
  toolsets?: string[] | null;
}

/** Serializes an answer with `jsonrpc` and `id` first (the front reads the id from the line's start). */
export function answerLine(message: JSONRPCMessage): string {
  const { jsonrpc: _j, id, ...rest } = message as { jsonrpc: string; id: unknown } & Record<string, unknown>;
  return `${JSON.stringify({ jsonrpc: '2.0', id: id ?? null, ...rest })}\n`;
}

function extraOf(hello: Hello): MessageExtraInfo {
  const agentId = typeof hello.agent_id === 'string' && hello.agent_id !== '' ? hello.agent_id : undefined;
  const toolsets = Array.isArray(hello.toolsets) && hello.toolsets.length > 0 ? hello.toolsets : undefined;
  if (!agentId && !toolsets) return {};
  return {
    authInfo: {
      token: '',
      clientId: agentId ?? 'local',
      scopes: [],
      extra: { ...(agentId ? { agentId } : {}), ...(toolsets ? { toolsets } : {}) },
    },
  };
}

function serveConnection(socket: net.Socket, exchange: RequestResponseTransport): void {
  let extra: MessageExtraInfo | undefined;
  let buffer = '';
  // This front's requests in flight, by its own ids: cancelled when it sends notifications/cancelled or goes away.
  const inFlight = new Map<string | number, AbortController>();
  const send = (line: string) => {
    if (!socket.destroyed) socket.write(line);
  };
  const onLine = (line: string): void => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return send(answerLine({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } } as never));
    }
    if (extra === undefined) {
      extra = extraOf((raw ?? {}) as Hello);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(raw);
    if (!parsed.success) {
      return send(
        answerLine({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } } as never),
      );
    }
    const m = parsed.data;
    if ('method' in m && 'id' in m) {
      const controller = new AbortController();
      inFlight.set(m.id, controller);
      void exchange.request(m, extra, controller.signal).then((answer) => {
        if (inFlight.get(m.id) === controller) inFlight.delete(m.id);
        send(answerLine(answer));
      });
    } else if ('method' in m) {
      if (m.method === 'notifications/cancelled') {
        const id = (m.params as { requestId?: string | number } | undefined)?.requestId;
        if (id !== undefined) inFlight.get(id)?.abort();
      } else exchange.notify(m, extra);
    }
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE) {
      log.warn('a local agent sent a message over 4 MB; closing its connection');
      socket.destroy();
      return;
    }
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    for (const controller of inFlight.values()) controller.abort();
    inFlight.clear();
  });
}

/** Listens on a local socket (replacing a stale socket file), this user only; undefined when it cannot. */
export async function listenLocalSocket(
  socketPath: string,
  exchange: RequestResponseTransport,
): Promise<net.Server | undefined> {
  const server = net.createServer((socket) => serveConnection(socket, exchange));
  fs.rmSync(socketPath, { force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    fs.chmodSync(socketPath, 0o600);
    return server;
  } catch (err) {
    log.warn(`Not serving local agents on ${socketPath}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
