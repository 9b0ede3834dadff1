/**
 * Prefetch: an agent that loops get_next_task → work → complete on one goal has its next task claimed in the same
 * workflow step as its completion, and its next get_next_task is answered from that claim with no round trip to
 * Temporal. The claim is an ordinary one (durable, fenced, with the lease or pickup lease the agent's own claims get)
 * made a few milliseconds before the agent asks; this process remembers which agent it is for.
 *
 * Only agents seen to loop get it: the agent's last get_next_task on the goal came within `holdMs` of its completion
 * before, with the same filter (goal, scope, tags, lease) — so an agent doing one task, or thinking for seconds
 * between tasks, never has a task held for it; never for a get_next_task with a request_id (a call that must be
 * answerable again goes to the goal). A reservation its agent does not pick up within `holdMs`, or that a claim with another filter
 * passes by, is released without counting an attempt. Waiting agents (wait_seconds) are served before the completer.
 */
import type { ClaimResult, ReserveNext } from '../domain/schemas';

/** What a claim asks for, as far as a reservation must match it. */
export interface LoopFilter {
  goalId: string;
  scope?: string;
  tags?: string[];
  leaseSeconds?: number;
}

export interface Reservation {
  agentId: string;
  goalId: string;
  /** The claim the goal made for the agent (its task is not null). */
  claim: ClaimResult;
}

export interface PrefetchOptions {
  /** How long a reservation waits for its agent, and how soon after a completion a claim counts as a loop; 0 = off. */
  holdMs: number;
  /** Sends a reservation back to the queue (called once per reservation that is not delivered). */
  release: (r: Reservation) => void;
  now?: () => number;
}

export interface Prefetch {
  /**
   * At a claim: the reservation that answers it, if it matches (delivered once); any other reservation of the agent
   * is released. `filter` undefined: a claim that cannot be answered from a reservation (no goal, a request_id).
   */
  take(agentId: string, filter: LoopFilter | undefined): Reservation | undefined;
  /** What a completion of a task of this goal by this agent should reserve, or undefined (no loop seen, or off). */
  ask(agentId: string, goalId: string): Omit<ReserveNext, 'pickupSeconds'> | undefined;
  /** After a completion was answered: its time, and the reservation it carries, if any; whether one is now held. */
  completed(agentId: string, goalId: string, reserved: ClaimResult | null | undefined): boolean;
  /** The agent did not take a reservation it was handed: its next claim no longer counts as part of a loop. */
  forgetLoop(agentId: string): void;
  /** Releases every reservation not delivered (on shutdown). */
  releaseAll(): void;
  /** Reservations waiting for their agents. */
  held(): number;
  /** The reservation waiting for this agent, if any. */
  heldFor(agentId: string): Reservation | undefined;
}

/** Agents whose loops are remembered at most (the oldest is forgotten first). */
const LOOPS_KEPT = 10_000;

const keyOf = (f: LoopFilter): string =>
  JSON.stringify([f.goalId, f.scope ?? null, f.tags ? [...f.tags].sort() : null, f.leaseSeconds ?? null]);

export function createPrefetch(options: PrefetchOptions): Prefetch {
  const now = options.now ?? Date.now;
  const loops = new Map<string, { key: string; filter: LoopFilter; quick: boolean; completedAt?: number }>();
  const held = new Map<string, { r: Reservation; key: string; timer: ReturnType<typeof setTimeout> }>();
  /** The lease token of the reservation last delivered to each agent: a retried completion must not deliver it again. */
  const delivered = new Map<string, number | null>();

  const drop = (agentId: string): { r: Reservation; key: string } | undefined => {
    const h = held.get(agentId);
    if (!h) return undefined;
    held.delete(agentId);
    clearTimeout(h.timer);
    return h;
  };

  return {
    take(agentId, filter) {
      const previous = loops.get(agentId);
      loops.delete(agentId);
      const h = drop(agentId);
      if (!filter) {
        if (h) options.release(h.r);
        return undefined;
      }
      const key = keyOf(filter);
      const at = previous?.completedAt;
      const quick = previous?.key === key && at !== undefined && now() - at <= options.holdMs;
      loops.set(agentId, { key, filter, quick });
      if (loops.size > LOOPS_KEPT) loops.delete(loops.keys().next().value as string);
      if (!h) return undefined;
      if (h.key !== key) {
        options.release(h.r);
        return undefined;
      }
      delivered.set(agentId, h.r.claim.lease_token);
      return h.r;
    },

    ask(agentId, goalId) {
      if (options.holdMs <= 0 || held.has(agentId)) return undefined;
      const loop = loops.get(agentId);
      if (!loop?.quick || loop.filter.goalId !== goalId) return undefined;
      const { scope, tags, leaseSeconds } = loop.filter;
      return { scope, tags, leaseSeconds };
    },

    completed(agentId, goalId, reserved) {
      const loop = loops.get(agentId);
      if (loop && loop.filter.goalId === goalId) loop.completedAt = now();
      const task = reserved?.task;
      if (!reserved || !task || !loop || options.holdMs <= 0) return false;
      // A retried completion answers with the reservation it made the first time: deliver it at most once, and only
      // while the agent still holds it unstarted.
      if (delivered.get(agentId) === reserved.lease_token) return false;
      if (task.agent_id !== agentId || task.status !== 'claimed' || task.lease_token !== reserved.lease_token) {
        return false;
      }
      // A completion retried while its reservation waits: held already, and kept (not sent back and held again).
      if (held.get(agentId)?.r.claim.lease_token === reserved.lease_token) return false;
      const r: Reservation = { agentId, goalId, claim: reserved };
      const previous = drop(agentId);
      if (previous) options.release(previous.r);
      const timer = setTimeout(() => {
        if (held.get(agentId)?.r === r) {
          held.delete(agentId);
          options.release(r);
        }
      }, options.holdMs);
      timer.unref?.();
      held.set(agentId, { r, key: loop.key, timer });
      return true;
    },

    forgetLoop(agentId) {
      loops.delete(agentId);
    },

    releaseAll() {
      for (const agentId of [...held.keys()]) {
        const h = drop(agentId);
        if (h) options.release(h.r);
      }
    },

    held: () => held.size,

    heldFor: (agentId) => held.get(agentId)?.r,
  };
}
