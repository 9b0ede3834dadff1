/**
 * A transport for one long-lived MCP server behind a stateless HTTP endpoint: each client request is handed to the
 * server under an id unique to this process (clients number their requests independently) and its response comes
 * back to the HTTP request that carried it. Server-to-client messages that are not responses (progress, logging)
 * have no stream to go to in stateless JSON mode and are dropped.
 *
 * A plain tools/call (a tool name and an arguments object, nothing else) is answered by the server's own tools/call
 * handler directly when one is given: the SDK's dispatch would only check the message's shape again, three times, and
 * the result's once, around the same handler — about a fifth of what MCP over HTTP adds to a claim. Anything else
 * (`_meta`, `task`, a malformed call) goes through the SDK as before, which answers it or says what is wrong.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ToolCaller } from './server';
import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';

/** JSON-RPC error code of a request its caller cancelled (as the MCP SDK uses). */
const REQUEST_CANCELLED = -32800;
/** JSON-RPC error code of a handler that threw (as the MCP SDK answers it). */
const INTERNAL_ERROR = -32603;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The params of a tools/call that has nothing but a tool name and an arguments object; else undefined. */
export function plainToolCall(
  message: JSONRPCRequest,
): { name: string; arguments?: Record<string, unknown> } | undefined {
  if (message.method !== 'tools/call' || !isPlainObject(message.params)) return undefined;
  const { name, arguments: args, ...rest } = message.params;
  if (typeof name !== 'string' || Object.keys(rest).length > 0) return undefined;
  if (args !== undefined && !isPlainObject(args)) return undefined;
  return args === undefined ? { name } : { name, arguments: args };
}

export class RequestResponseTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  private readonly waiting = new Map<string, (response: JSONRPCMessage) => void>();
  /** The signals of tool calls answered directly, by key: aborted when their caller cancels or the server closes. */
  private readonly direct = new Map<string, AbortController>();
  private next = 0;

  /** `callTool`: the server's tools/call handler, to answer plain tool calls without the SDK's dispatch. */
  constructor(private readonly options: { callTool?: ToolCaller } = {}) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if ('id' in message && ('result' in message || 'error' in message)) {
      const key = String(message.id);
      const deliver = this.waiting.get(key);
      this.waiting.delete(key);
      deliver?.(message);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    for (const controller of this.direct.values()) controller.abort();
    this.direct.clear();
    for (const [key, deliver] of this.waiting) {
      deliver({ jsonrpc: '2.0', id: key, error: { code: -32000, message: 'The server is shutting down.' } });
    }
    this.waiting.clear();
    this.onclose?.();
    return Promise.resolve();
  }

  /**
   * Hands a client request to the server; resolves with its response, under the client's own id. When `signal` aborts
   * (the caller disconnected or cancelled), the server is told the request is cancelled (its handler's signal aborts,
   * so a long-poll stops waiting) and the request answers at once with a cancellation error.
   */
  request(message: JSONRPCRequest, extra: MessageExtraInfo, signal?: AbortSignal): Promise<JSONRPCMessage> {
    const key = `x${++this.next}`;
    const call = this.options.callTool ? plainToolCall(message) : undefined;
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const deliver = this.waiting.get(key);
        if (!deliver) return;
        const direct = this.direct.get(key);
        if (direct) direct.abort();
        else {
          this.onmessage?.({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: key, reason: 'The caller went away.' },
          });
        }
        deliver({ jsonrpc: '2.0', id: key, error: { code: REQUEST_CANCELLED, message: 'Request cancelled.' } });
      };
      this.waiting.set(key, (response) => {
        this.waiting.delete(key);
        this.direct.delete(key);
        signal?.removeEventListener('abort', onAbort);
        resolve({ ...response, id: message.id });
      });
      if (call && this.options.callTool) {
        const controller = new AbortController();
        this.direct.set(key, controller);
        this.options.callTool({ params: call }, { authInfo: extra.authInfo, signal: controller.signal }).then(
          (result) => this.send({ jsonrpc: '2.0', id: key, result }),
          (err: unknown) =>
            this.send({
              jsonrpc: '2.0',
              id: key,
              error: { code: INTERNAL_ERROR, message: err instanceof Error ? err.message : String(err) },
            }),
        );
      } else this.onmessage?.({ ...message, id: key }, extra);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Hands a client notification to the server. A client's notifications/cancelled names the client's own request id,
   * which the server does not know: each transport maps it to the request's signal instead (see request()).
   */
  notify(message: JSONRPCNotification, extra: MessageExtraInfo): void {
    if (message.method === 'notifications/cancelled') return;
    this.onmessage?.(message, extra);
  }

  /** Requests in flight. */
  get pending(): number {
    return this.waiting.size;
  }
}
