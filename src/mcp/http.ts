/**
 * `agent-runtime serve`: Streamable HTTP, stateless with JSON responses, for many agents and other machines. One
 * MCP server serves every request through a request/response transport (exchange.ts), with the caller's identity
 * passed per request. Bearer auth with AGENT_RUNTIME_TOKEN; a non-loopback bind without a token is refused.
 */
import http from 'node:http';
import type net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import {
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';
import type { GoalsClient } from '../client/goals';
import { log } from '../logger';
import { RequestResponseTransport } from './exchange';
import { listenLocalSocket } from './local-socket';
import { buildRegistry, createServer, toolCaller } from './server';

export interface HttpOptions {
  host: string;
  port: number;
  goals: GoalsClient;
  toolsets: string[];
  /**
   * `secret`, or `subject:secret` pairs separated by commas (the subject becomes the caller's agent id); an entry
   * `operator:subject:secret` is an operator's token, which may act for other agents.
   */
  token?: string;
  /** Answers /healthz: whether Temporal is reachable, and how many workers poll the task queue. */
  health?: () => Promise<{ temporal: boolean; workers: number | undefined }>;
  /**
   * Also listen on this local socket (mode 0600: this user only; see local-socket.ts). The thin stdio fronts of this
   * machine's agents talk to it, each naming its agent and toolsets once per connection.
   */
  socketPath?: string;
  /** Host names this server answers to besides loopback (default: AGENT_RUNTIME_ALLOWED_HOSTS). */
  allowedHosts?: string[];
  /** Browser origins allowed besides loopback ones (default: AGENT_RUNTIME_ALLOWED_ORIGINS). */
  allowedOrigins?: string[];
}

export interface HttpServer {
  url: string;
  /** The local socket, when one was asked for and taken. */
  socketPath?: string;
  server: http.Server;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;
/** JSON-RPC messages per POST: the current MCP revision has no batches; a few are accepted, never hundreds. */
export const MAX_BATCH = 16;

const csv = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/** The host name of a Host header (`127.0.0.1:3100`, `[::1]:3100`, `localhost`), lower-cased. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * DNS rebinding and cross-site requests (the MCP transport's advice for local servers): the Host must name this
 * machine's loopback (or a name in AGENT_RUNTIME_ALLOWED_HOSTS), and a browser's Origin must be a loopback one (or in
 * AGENT_RUNTIME_ALLOWED_ORIGINS). With tokens, a server reachable by other names checks Host only when an allow-list
 * is given. Returns why a request is refused, or undefined.
 */
function refusedOrigin(
  req: http.IncomingMessage,
  opts: { hosts: string[]; origins: string[]; bound: string; tokens: boolean },
): string | undefined {
  const host = hostName(req.headers.host ?? '');
  const hostOk =
    isLoopback(host) ||
    opts.hosts.includes(host) ||
    (host !== '' && host === opts.bound.toLowerCase()) ||
    (opts.tokens && opts.hosts.length === 0);
  if (!hostOk) {
    return `Host "${host}" is not this server's; add it to AGENT_RUNTIME_ALLOWED_HOSTS if it names this machine.`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== '') {
    let name = '';
    try {
      name = new URL(origin).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    } catch {
      name = '';
    }
    if (!isLoopback(name) && !opts.origins.includes(origin.toLowerCase())) {
      return `Origin "${origin}" may not call this server; add it to AGENT_RUNTIME_ALLOWED_ORIGINS to allow it.`;
    }
  }
  return undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

interface Credential {
  subject?: string;
  secret: Buffer;
  /** An operator token may act for any agent (name another agent_id); an agent's token acts for its subject only. */
  operator: boolean;
}

export function parseTokens(spec: string | undefined): Credential[] {
  if (!spec) return [];
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const operator = entry.startsWith('operator:');
      const rest = operator ? entry.slice('operator:'.length) : entry;
      const colon = rest.indexOf(':');
      return colon > 0
        ? { subject: rest.slice(0, colon), secret: Buffer.from(rest.slice(colon + 1)), operator }
        : { secret: Buffer.from(rest), operator };
    });
}

function authenticate(
  req: http.IncomingMessage,
  creds: Credential[],
): { ok: boolean; subject?: string; operator?: boolean } {
  if (creds.length === 0) return { ok: true };
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) return { ok: false };
  const given = Buffer.from((match[1] as string).trim());
  for (const c of creds) {
    if (c.secret.length === given.length && timingSafeEqual(c.secret, given)) {
      return { ok: true, subject: c.subject, operator: c.operator };
    }
  }
  return { ok: false };
}

class BodyTooLarge extends Error {
  constructor() {
    super(`the body is larger than ${MAX_BODY / 1024 / 1024} MiB`);
  }
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BodyTooLarge());
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Why MCP may not be served on `host` with `token`, or undefined: a host other agents can reach needs a token. */
export function unsafeHostProblem(host: string, token: string | undefined): string | undefined {
  if (isLoopback(host) || parseTokens(token).length > 0) return undefined;
  return `Refusing to serve MCP on ${host} without a token: set AGENT_RUNTIME_TOKEN (clients send "Authorization: Bearer <token>"), or bind to 127.0.0.1.`;
}

export async function serveHttp(options: HttpOptions): Promise<HttpServer> {
  const creds = parseTokens(options.token);
  const unsafe = unsafeHostProblem(options.host, options.token);
  if (unsafe) throw new Error(unsafe);
  const registry = buildRegistry({ goals: options.goals, toolsets: options.toolsets });
  const deps = { goals: options.goals, toolsets: options.toolsets };
  const callTool = toolCaller(deps, registry);
  const mcp = createServer(deps, registry, callTool);
  const exchange = new RequestResponseTransport({ callTool });
  await mcp.connect(exchange);

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') {
        // Within a second, whatever is down: Temporal that does not answer counts as down.
        const down = { temporal: false, workers: undefined };
        const state = options.health
          ? await Promise.race([
              options.health().catch(() => down),
              new Promise<typeof down>((r) => setTimeout(() => r(down), 900).unref()),
            ])
          : undefined;
        const ok = state === undefined || (state.temporal && state.workers !== 0);
        return sendJson(res, ok ? 200 : 503, { ok, ...(state ?? {}) });
      }
      if (url.pathname !== '/mcp') return sendJson(res, 404, { error: 'Not found: the MCP endpoint is /mcp' });
      const refused = refusedOrigin(req, {
        hosts: options.allowedHosts ?? csv(process.env.AGENT_RUNTIME_ALLOWED_HOSTS),
        origins: options.allowedOrigins ?? csv(process.env.AGENT_RUNTIME_ALLOWED_ORIGINS),
        bound: options.host,
        tokens: creds.length > 0,
      });
      if (refused) return sendJson(res, 403, { jsonrpc: '2.0', error: { code: -32000, message: refused }, id: null });
      const auth = authenticate(req, creds);
      if (!auth.ok) {
        res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, 401, {
          jsonrpc: '2.0',
          error: { code: -32001, message: 'Unauthorized: send "Authorization: Bearer <AGENT_RUNTIME_TOKEN>".' },
          id: null,
        });
      }
      if (req.method !== 'POST') {
        return sendJson(res, 405, {
          jsonrpc: '2.0',
          error: { code: -32000, message: 'This server is stateless: POST JSON-RPC messages to /mcp.' },
          id: null,
        });
      }
      const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
      if (!contentType.startsWith('application/json')) {
        return sendJson(res, 415, {
          jsonrpc: '2.0',
          error: {
            code: -32000,
            message: 'Unsupported Media Type: POST JSON-RPC with Content-Type: application/json.',
          },
          id: null,
        });
      }
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          return sendJson(res, 413, {
            jsonrpc: '2.0',
            error: { code: -32000, message: `Payload Too Large: ${err.message}; send less per call.` },
            id: null,
          });
        }
        return sendJson(res, 400, {
          jsonrpc: '2.0',
          error: { code: -32700, message: `Parse error: ${err instanceof Error ? err.message : String(err)}` },
          id: null,
        });
      }
      const header = req.headers['x-agent-id'];
      const agentId = auth.subject ?? (typeof header === 'string' && header ? header : undefined);
      const toolsetsHeader = req.headers['x-agent-runtime-toolsets'];
      const toolsets =
        typeof toolsetsHeader === 'string' && toolsetsHeader.trim() !== ''
          ? toolsetsHeader
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean)
          : undefined;
      const batch = Array.isArray(body);
      if (batch && (body as unknown[]).length > MAX_BATCH) {
        return sendJson(res, 400, {
          jsonrpc: '2.0',
          error: {
            code: -32600,
            message: `Invalid Request: at most ${MAX_BATCH} JSON-RPC messages per POST (got ${(body as unknown[]).length}).`,
          },
          id: null,
        });
      }
      const messages: JSONRPCMessage[] = [];
      for (const raw of batch ? (body as unknown[]) : [body]) {
        const parsed = JSONRPCMessageSchema.safeParse(raw);
        if (!parsed.success) {
          return sendJson(res, 400, {
            jsonrpc: '2.0',
            error: {
              code: -32600,
              message: 'Invalid Request: the body must be a JSON-RPC 2.0 message or a list of them.',
            },
            id: null,
          });
        }
        messages.push(parsed.data);
      }
      const isRequest = (m: JSONRPCMessage): m is JSONRPCRequest => 'method' in m && 'id' in m;
      const isNotification = (m: JSONRPCMessage): m is JSONRPCNotification => 'method' in m && !('id' in m);
      const version = req.headers['mcp-protocol-version'];
      if (
        typeof version === 'string' &&
        !SUPPORTED_PROTOCOL_VERSIONS.includes(version) &&
        !messages.some((m) => isRequest(m) && m.method === 'initialize')
      ) {
        return sendJson(res, 400, {
          jsonrpc: '2.0',
          error: {
            code: -32000,
            message: `Bad Request: unsupported protocol version ${version} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}).`,
          },
          id: null,
        });
      }
      const extra: MessageExtraInfo = {
        requestInfo: { headers: req.headers },
        ...(agentId || toolsets
          ? {
              authInfo: {
                token: '',
                clientId: agentId ?? 'local',
                scopes: [],
                extra: {
                  ...(agentId ? { agentId } : {}),
                  ...(toolsets ? { toolsets } : {}),
                  // The identity a token proves (not one a header merely claims), and whether it is an operator's.
                  ...(auth.subject ? { tokenSubject: auth.subject, operator: auth.operator === true } : {}),
                },
              },
            }
          : {}),
      };
      for (const m of messages) if (isNotification(m)) exchange.notify(m, extra);
      const requests = messages.filter(isRequest);
      // Notifications and responses only: accepted, nothing to answer.
      if (requests.length === 0) return void res.writeHead(202).end();
      // A caller that hangs up before its answer cancels its calls (a long-poll stops waiting; nothing is claimed).
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const responses = await Promise.all(requests.map((m) => exchange.request(m, extra, gone.signal)));
      sendJson(res, 200, batch ? responses : responses[0]);
    })().catch((err: unknown) => {
      log.error(`HTTP request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent)
        sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
    });
  };
  const server = http.createServer(handler);
  // A long-poll (wait_seconds up to 300) keeps its request open; Node's default request timeout is 300 s.
  server.requestTimeout = 330_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const local = options.socketPath ? await listenLocalSocket(options.socketPath, exchange, options.goals) : undefined;
  const { port } = server.address() as { port: number };
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const closeServer = (s: http.Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  const closeLocal = (s: net.Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  const connections = new Set<net.Socket>();
  local?.on('connection', (c: net.Socket) => {
    connections.add(c);
    c.on('close', () => connections.delete(c));
  });
  return {
    url: `http://${host}:${port}/mcp`,
    socketPath: local ? options.socketPath : undefined,
    server,
    close: async () => {
      for (const c of connections) c.destroy();
      await Promise.all([closeServer(server), local ? closeLocal(local) : undefined]);
      await mcp.close();
      await options.goals.drain(); // prefetched claims nobody picked up go back to the queue
    },
  };
}
