/**
 * What one MCP call did with prefetched claims (prefetch.ts), for the daemon's local socket: it lets the daemon hand
 * an agent's next claim to its stdio front together with the completion that made it (see mcp/local-socket.ts).
 * Set by the socket around each call it serves; read and written by the goals client inside the call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Reservation } from './prefetch';

export interface CallContext {
  /** The call was a claim on one goal that a reservation could answer (a loop's get_next_task). */
  loopClaim?: boolean;
  /** The call was a completion that left a reservation for its agent. */
  reserved?: boolean;
  /** Only a reservation may answer this claim: with none, it claims nothing. */
  reservationOnly?: boolean;
  /** The reservation that answered this claim. */
  delivered?: Reservation;
}

export const callContext = new AsyncLocalStorage<CallContext>();
