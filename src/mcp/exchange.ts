/**
 * A transport for one long-lived MCP server behind a stateless HTTP endpoint: each client request is handed to the
 * server under an id unique to this process (clients number their requests independently) and its response comes
 * back to the HTTP request that carried it. Server-to-client messages that are not responses (progress, logging)
 * have no stream to go to in stateless JSON mode and are dropped.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';

/** JSON-RPC error code of a request its caller cancelled (as the MCP SDK uses). */
const REQUEST_CANCELLED = -32800;

export class RequestResponseTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  private readonly waiting = new Map<string, (response: JSONRPCMessage) => void>();
  private next = 0;

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
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const deliver = this.waiting.get(key);
        if (!deliver) return;
        this.onmessage?.({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: key, reason: 'The caller went away.' },
        });
        deliver({ jsonrpc: '2.0', id: key, error: { code: REQUEST_CANCELLED, message: 'Request cancelled.' } });
      };
      this.waiting.set(key, (response) => {
        this.waiting.delete(key);
        signal?.removeEventListener('abort', onAbort);
        resolve({ ...response, id: message.id });
      });
      this.onmessage?.({ ...message, id: key }, extra);
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
