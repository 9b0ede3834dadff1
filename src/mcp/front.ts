/**
 * `agent-runtime mcp` as a thin stdio front. When a daemon (`up` or `serve`) runs on this machine for the same Temporal
 * deployment, each JSON-RPC message from the agent's client goes to the daemon over its local socket (one connection,
 * newline-delimited JSON, the agent's AGENT_ID said once at the start; see local-socket.ts), and the answer comes back
 * on stdout: all agents share the daemon's Temporal client,
 * so their calls on one goal travel together, and this process loads nothing but Node's built-ins. With no daemon, it
 * is the full stdio server (stdio.ts). If the daemon goes away mid-session, the front serves the rest itself.
 */
import net from 'node:net';
import { applyFlagsOrExit } from '../flags';
import { ignoreStderrErrors } from '../logger';
import type * as Commands from '../commands';
import type * as ConfigModule from '../config';
import { deploymentOf, findDaemon, homeOf, type DaemonInfo } from './daemon-info';
import { lineSplitter } from './lines';
import type * as ExchangeModule from './exchange';
import type * as StdioModule from './stdio';

type Message = { jsonrpc?: string; id?: string | number | null; method?: string; [k: string]: unknown };
type Local = (message: Message) => Promise<Message | undefined>;

const stderr = (line: string): void => void process.stderr.write(`[agent-runtime] ${line}\n`);

export function runFront(argv: string[]): void {
  ignoreStderrErrors();
  applyFlagsOrExit('mcp', argv);
  const env = process.env;
  const daemon = env.AGENT_RUNTIME_DAEMON === 'off' ? undefined : findDaemon(homeOf(env), deploymentOf(env));
  if (!daemon) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('../commands') as typeof Commands).runCommand(['mcp']);
    return;
  }
  proxy(daemon, env);
}

function proxy(daemon: DaemonInfo, env: NodeJS.ProcessEnv): void {
  let localStarting: Promise<Local> | undefined;
  let connected = false;
  let gone = false;
  let ended = false;
  let localInFlight = 0;
  /** Requests sent to the daemon and not yet answered, by the JSON text of their id. */
  const pending = new Set<string>();
  /** Messages read before the socket connected: sent on connect, or served here if it never does. */
  let queued: Message[] = [];

  const write = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const finishIfDone = (): void => {
    if (ended && pending.size === 0 && queued.length === 0 && localInFlight === 0) process.exit(0);
  };
  const isRequest = (m: Message) => m.id !== undefined && typeof m.method === 'string';

  const serveLocally = (message: Message): void => {
    localStarting ??= localServer(env);
    localInFlight += 1;
    void localStarting
      .then(async (serve) => {
        const answer = await serve(message);
        if (answer && isRequest(message)) write(JSON.stringify(answer));
      })
      .finally(() => {
        localInFlight -= 1;
        finishIfDone();
      });
  };

  const socket = net.connect(daemon.socket);
  socket.setEncoding('utf8');
  socket.on('connect', () => {
    connected = true;
    socket.write(
      `${JSON.stringify({
        agent_runtime_hello: 1,
        agent_id: env.AGENT_ID || null,
        toolsets: env.AGENT_RUNTIME_TOOLSETS ? env.AGENT_RUNTIME_TOOLSETS.split(',').map((t) => t.trim()) : null,
        ahead: true,
      })}\n`,
    );
    const early = queued;
    queued = [];
    for (const m of early) send(m);
  });
  // Answers start with {"jsonrpc":"2.0","id":…: the id is read off the line without parsing the (large) result.
  const AHEAD = '{"agent_runtime_ahead":';
  const ID = /^\{"jsonrpc":"2\.0","id":("(?:[^"\\]|\\.)*"|-?[0-9.eE+-]+|null)/;
  const fromDaemon = lineSplitter((line) => {
    if (line.startsWith(AHEAD)) keepAhead(line);
    else {
      const id = ID.exec(line)?.[1];
      if (id !== undefined) pending.delete(id);
      write(line);
    }
  });
  socket.on('data', (chunk: string) => {
    fromDaemon.push(chunk);
    finishIfDone();
  });

  // The agent's next claim, handed over with the completion that reserved it (see local-socket.ts): it answers the
  // agent's next call if that is the same claim, within the daemon's hold; anything else sends it back.
  let ahead: { n: number; key: string; result: unknown; timer: ReturnType<typeof setTimeout> } | undefined;
  /** Which call a claim answers: the same tool and arguments (the client's `_meta`, such as a progress token, aside). */
  const callKey = (params: unknown): string => {
    const { _meta: _m, ...rest } = (params ?? {}) as Record<string, unknown>;
    return JSON.stringify(rest);
  };
  const giveBack = (): void => {
    if (!ahead) return;
    clearTimeout(ahead.timer);
    if (!gone) socket.write(`{"agent_runtime_untaken":${ahead.n}}\n`);
    ahead = undefined;
  };
  const keepAhead = (line: string): void => {
    giveBack();
    const a = (
      JSON.parse(line) as { agent_runtime_ahead: { n: number; params: unknown; hold_ms: number; result: unknown } }
    ).agent_runtime_ahead;
    ahead = { n: a.n, key: callKey(a.params), result: a.result, timer: setTimeout(giveBack, a.hold_ms) };
    ahead.timer.unref();
  };
  /** Answers `message` from the claim handed over, if it asks for exactly that claim. */
  const answeredAhead = (message: Message): boolean => {
    if (!ahead || message.method !== 'tools/call' || message.id === undefined) return false;
    if (callKey(message.params) !== ahead.key) return false;
    const { n, result, timer } = ahead;
    ahead = undefined;
    clearTimeout(timer);
    // The daemon hears the claim was taken before the agent sees it: it sends back what a front that goes away never
    // said was taken. If that cannot be said, the claim may be back in the queue already, and the call is served as
    // any other. With the daemon gone before, the claim is still the agent's: durable, with its lease.
    localInFlight += 1;
    const settled = (): void => {
      localInFlight -= 1;
      finishIfDone();
    };
    const deliver = (): void => {
      write(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      settled();
    };
    if (gone) deliver();
    else {
      socket.write(`{"agent_runtime_taken":${n}}\n`, (err) => {
        if (!err) return deliver();
        serveLocally(message);
        settled();
      });
    }
    return true;
  };
  const lost = (why: string): void => {
    if (gone) return;
    gone = true;
    stderr(`the daemon (pid ${daemon.pid}) ${why}; serving this session directly.`);
    for (const id of pending) {
      write(
        `{"jsonrpc":"2.0","id":${id},"error":{"code":-32603,"message":"The agent-runtime daemon went away during this call; whether it was applied is unknown. Call again with the same request_id to be safe."}}`,
      );
    }
    pending.clear();
    const early = queued;
    queued = [];
    for (const m of early) serveLocally(m);
    finishIfDone();
  };
  socket.on('error', (err: NodeJS.ErrnoException) =>
    lost(connected ? `went away (${err.code ?? err.message})` : 'does not answer'),
  );
  socket.on('close', () => lost('went away'));

  /** `line`: the message as the agent wrote it, forwarded as is. */
  function send(message: Message, line?: string): void {
    if (isRequest(message) && message.method !== 'ping') {
      if (answeredAhead(message)) return;
      giveBack();
    }
    if (gone) return serveLocally(message);
    if (!connected) {
      queued.push(message);
      return;
    }
    if (isRequest(message)) pending.add(JSON.stringify(message.id));
    socket.write(`${line ?? JSON.stringify(message)}\n`);
  }

  // The agent's messages go to the daemon as the agent wrote them (parsed only to route them).
  const fromAgent = lineSplitter((line) => {
    if (line.trim() === '') return;
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    send(message, line);
  });
  const inputEnded = (): void => {
    if (ended) return;
    fromAgent.end();
    ended = true;
    giveBack();
    finishIfDone();
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => fromAgent.push(chunk));
  process.stdin.on('end', inputEnded);
  process.stdin.on('close', inputEnded);
  process.once('SIGTERM', () => process.exit(0));
}

/** The full server in this process, behind the same request/response exchange the daemon uses. */
async function localServer(env: NodeJS.ProcessEnv): Promise<Local> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadConfig } = require('../config') as typeof ConfigModule;
  const { agentServer } = require('./stdio') as typeof StdioModule;
  const { RequestResponseTransport } = require('./exchange') as typeof ExchangeModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { server } = agentServer(loadConfig(env));
  const exchange = new RequestResponseTransport();
  await server.connect(exchange);
  return async (message) => {
    if (message.id !== undefined && typeof message.method === 'string') {
      return await exchange.request(message as never, {});
    }
    if (typeof message.method === 'string') exchange.notify(message as never, {});
    return undefined;
  };
}
