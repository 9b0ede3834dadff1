/**
 * `agent-runtime mcp` as a thin stdio front. When a daemon (`up` or `serve`) runs on this machine for the same Temporal
 * deployment, each JSON-RPC message from the agent's client goes to the daemon over its local socket (POST /mcp, the
 * agent's AGENT_ID as X-Agent-Id), and the answer comes back on stdout: all agents share the daemon's Temporal client,
 * so their calls on one goal travel together, and this process loads nothing but Node's built-ins. With no daemon, it
 * is the full stdio server (stdio.ts). If the daemon goes away mid-session, the front serves the rest itself.
 */
import http from 'node:http';
import readline from 'node:readline';
import { flagsToEnv } from '../flags';
import type * as Commands from '../commands';
import type * as ConnectionModule from '../client/connection';
import type * as GoalsModule from '../client/goals';
import type * as ConfigModule from '../config';
import { deploymentOf, findDaemon, homeOf, type DaemonInfo } from './daemon-info';
import type * as ExchangeModule from './exchange';
import type * as ServerModule from './server';

/** The daemon could not be reached: nothing was sent. */
const UNREACHABLE = Symbol('unreachable');

type Message = { jsonrpc?: string; id?: string | number | null; method?: string; [k: string]: unknown };
type Local = (message: Message) => Promise<Message | undefined>;

const stderr = (line: string): void => void process.stderr.write(`[agent-runtime] ${line}\n`);

export function runFront(argv: string[]): void {
  Object.assign(process.env, flagsToEnv(argv));
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (env.AGENT_ID) headers['x-agent-id'] = env.AGENT_ID;
  if (env.AGENT_RUNTIME_TOOLSETS) headers['x-agent-runtime-toolsets'] = env.AGENT_RUNTIME_TOOLSETS;
  let local: Local | undefined;
  let inFlight = 0;
  let ended = false;

  const write = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const finishIfDone = (): void => {
    if (ended && inFlight === 0) {
      agent.destroy();
      process.exit(0);
    }
  };

  /** Sends one message to the daemon: its answer's text, '' for none, or UNREACHABLE (nothing was sent). */
  const post = (body: string): Promise<string | typeof UNREACHABLE> =>
    new Promise((resolve, reject) => {
      let sent = false;
      const req = http.request({ socketPath: daemon.socket, path: '/mcp', method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode === 202 ? '' : Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('socket', (s) => s.once('connect', () => (sent = true)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const refused = err.code === 'ECONNREFUSED' || err.code === 'ENOENT';
        if (refused && !sent) resolve(UNREACHABLE);
        else reject(err);
      });
      req.end(body);
    });

  const handle = async (message: Message): Promise<void> => {
    const isRequest = message.id !== undefined && typeof message.method === 'string';
    if (!local) {
      try {
        const answer = await post(JSON.stringify(message));
        if (answer !== UNREACHABLE) {
          if (answer !== '' && isRequest) write(answer);
          return;
        }
        stderr(`the daemon (pid ${daemon.pid}) does not answer; serving this session directly.`);
        local = await localServer(env);
      } catch (err) {
        if (isRequest) {
          write(
            JSON.stringify({
              jsonrpc: '2.0',
              id: message.id,
              error: {
                code: -32603,
                message: `The agent-runtime daemon went away during this call (${err instanceof Error ? err.message : String(err)}); whether it was applied is unknown. Call again with the same request_id to be safe.`,
              },
            }),
          );
        }
        return;
      }
    }
    const answer = await local(message);
    if (answer && isRequest) write(JSON.stringify(answer));
  };

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    inFlight += 1;
    void handle(message).finally(() => {
      inFlight -= 1;
      finishIfDone();
    });
  });
  lines.on('close', () => {
    ended = true;
    finishIfDone();
  });
  process.once('SIGTERM', () => process.exit(0));
}

/** The full server in this process, behind the same request/response exchange the daemon uses. */
async function localServer(env: NodeJS.ProcessEnv): Promise<Local> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadConfig } = require('../config') as typeof ConfigModule;
  const { LazyClient } = require('../client/connection') as typeof ConnectionModule;
  const { createGoalsClient } = require('../client/goals') as typeof GoalsModule;
  const { createServer } = require('./server') as typeof ServerModule;
  const { RequestResponseTransport } = require('./exchange') as typeof ExchangeModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const config = loadConfig(env);
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  const server = createServer({ goals, toolsets: config.toolsets, context: { agentId: config.agentId } });
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
