/**
 * The daemon's local socket: newline-delimited JSON-RPC, one persistent connection per stdio front. The first line
 * says who the front speaks for ({"agent_runtime_hello":1,"agent_id":…,"toolsets":[…]}); then every line is a JSON-RPC
 * message, and every answer is a line that starts `{"jsonrpc":"2.0","id":` so the front can match it without parsing.
 * No HTTP framing: at 32 agents on two cores, an HTTP request per message cost the fronts and the daemon a third of
 * the machine. The socket is this user's only (mode 0600), so no bearer token is asked on it.
 *
 * Claims handed over ahead (a front that says `"ahead":true`): when a completion leaves a reservation for its agent
 * (client/prefetch.ts), the daemon answers the agent's last claim call again from it at once and sends the answer
 * before the completion's, as `{"agent_runtime_ahead":{"n":…,"params":…,"hold_ms":…,"result":…}}`. The front answers
 * the agent's next call with exactly those params from it, saying `{"agent_runtime_taken":n}` first; any other call,
 * the hold passing or the agent leaving sends `{"agent_runtime_untaken":n}`, and the claim goes back to the queue as
 * an unused reservation does. A front that goes away without saying either has its claims sent back: it says taken
 * before the agent sees the answer. So a looping agent's get_next_task costs one hop, not three.
 */
import fs from 'node:fs';
import net from 'node:net';
import {
  JSONRPCMessageSchema,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';
import { log } from '../logger';
import { callContext, type CallContext } from '../client/call-context';
import type { GoalsClient } from '../client/goals';
import type { Reservation } from '../client/prefetch';
import type { RequestResponseTransport } from './exchange';
import { lineSplitter } from './lines';

type Reservations = Pick<GoalsClient, 'prefetchHoldMs' | 'returnReservation'>;

const MAX_LINE = 4 * 1024 * 1024;

export interface Hello {
  agent_runtime_hello: 1;
  agent_id?: string | null;
  toolsets?: string[] | null;
  /** The front answers a claim handed over ahead of its agent's call (agent_runtime_ahead lines). */
  ahead?: boolean;
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

function serveConnection(socket: net.Socket, exchange: RequestResponseTransport, goals: Reservations): void {
  let extra: MessageExtraInfo | undefined;
  let takesAhead = false;
  /** The front's last claim a reservation could answer: asked again when its completion leaves a reservation. */
  let loopRequest: JSONRPCRequest | undefined;
  /** Claims handed to the front ahead of the agent's call, by number, until it says whether the agent took them. */
  const handedOver = new Map<number, Reservation>();
  let handed = 0;
  // This front's requests in flight, by its own ids: cancelled when it sends notifications/cancelled or goes away.
  const inFlight = new Map<string | number, AbortController>();
  const send = (line: string) => {
    if (!socket.destroyed) socket.write(line);
  };
  /**
   * The agent's next claim, answered now from the reservation its completion left: the front answers the agent's
   * next identical call with it, and says whether it did (taken) or not (untaken: the claim goes back).
   */
  const handOver = async (claim: JSONRPCRequest, asked: MessageExtraInfo): Promise<string> => {
    const context: CallContext = { reservationOnly: true };
    const answer = await callContext.run(context, () => exchange.request({ ...claim, id: 'ahead' }, asked));
    const r = context.delivered;
    if (!r) return '';
    if (!('result' in answer) || (answer.result as { isError?: boolean }).isError || socket.destroyed) {
      goals.returnReservation(r);
      return '';
    }
    handed += 1;
    handedOver.set(handed, r);
    const ahead = { n: handed, params: claim.params, hold_ms: goals.prefetchHoldMs, result: answer.result };
    return `${JSON.stringify({ agent_runtime_ahead: ahead })}\n`;
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
      takesAhead = (raw as Hello | null)?.ahead === true;
      return;
    }
    const said = raw as { agent_runtime_taken?: unknown; agent_runtime_untaken?: unknown } | null;
    if (typeof said?.agent_runtime_taken === 'number') return void handedOver.delete(said.agent_runtime_taken);
    if (typeof said?.agent_runtime_untaken === 'number') {
      const r = handedOver.get(said.agent_runtime_untaken);
      handedOver.delete(said.agent_runtime_untaken);
      if (r) goals.returnReservation(r);
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
      const context: CallContext = {};
      const asked = extra;
      void callContext
        .run(context, () => exchange.request(m, asked, controller.signal))
        .then(async (answer) => {
          if (inFlight.get(m.id) === controller) inFlight.delete(m.id);
          if (context.loopClaim) loopRequest = m;
          const ahead = context.reserved && loopRequest && takesAhead ? await handOver(loopRequest, asked) : '';
          send(ahead + answerLine(answer));
        });
    } else if ('method' in m) {
      if (m.method === 'notifications/cancelled') {
        const id = (m.params as { requestId?: string | number } | undefined)?.requestId;
        if (id !== undefined) inFlight.get(id)?.abort();
      } else exchange.notify(m, extra);
    }
  };
  const tooLong = (): void => {
    log.warn('a local agent sent a message over 4 MB; closing its connection');
    socket.destroy();
  };
  const lines = lineSplitter((line) => {
    if (socket.destroyed) return;
    if (line.length > MAX_LINE) return tooLong();
    onLine(line);
  });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    lines.push(chunk);
    if (lines.held > MAX_LINE) tooLong();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    for (const controller of inFlight.values()) controller.abort();
    inFlight.clear();
    for (const r of handedOver.values()) goals.returnReservation(r);
    handedOver.clear();
  });
}

/** Listens on a local socket (replacing a stale socket file), this user only; undefined when it cannot. */
export async function listenLocalSocket(
  socketPath: string,
  exchange: RequestResponseTransport,
  goals: Reservations,
): Promise<net.Server | undefined> {
  const server = net.createServer((socket) => serveConnection(socket, exchange, goals));
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
