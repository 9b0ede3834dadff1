/**
 * Circuit breakers as plain functions over plain data (DESIGN §3):
 *
 *   CLOSED → OPEN          failure_threshold failures inside window_seconds (or a manual trip)
 *   OPEN → HALF_OPEN       cooldown_seconds after opening (a durable timer in the workflow)
 *   HALF_OPEN → CLOSED     success_threshold successes; HALF_OPEN → OPEN on any failure
 *   any → CLOSED           manual reset
 */
import type { z } from 'zod';
import { sharedSchemas } from './shared';
import { fail } from './errors';
import { forPanel, utc } from './text';
import { AgentIdSchema, LIMITS } from './schemas';

export const FAILURE_TYPES = [
  'timeout',
  'exception',
  'quality_failure',
  'resource_exhausted',
  'rate_limited',
  'invalid_output',
] as const;
export const BREAKER_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;
export type BreakerStateName = (typeof BREAKER_STATES)[number];

// Built once per workflow thread (see ./shared); the names below are those objects.
const schemas = sharedSchemas('domain/breaker', (z) => {
  const BreakerConfigSchema = z.object({
    failure_threshold: z.int().min(1).max(10_000),
    window_seconds: z
      .number()
      .positive()
      .max(30 * 24 * 3600),
    cooldown_seconds: z
      .number()
      .positive()
      .max(30 * 24 * 3600),
    half_open_max_calls: z.int().min(1).max(10_000),
    success_threshold: z.int().min(1).max(10_000),
    fallback_agent: z.string().min(1).max(128),
  });
  const ConfigureInputSchema = BreakerConfigSchema.partial();

  const FailureInputSchema = z.object({
    failureType: z.enum(FAILURE_TYPES),
    errorMessage: z.string().max(LIMITS.resultLength).default(''),
  });
  const TripInputSchema = z.object({ reason: z.string().max(LIMITS.resultLength).optional() });
  const EmptyInputSchema = z.object({}).optional();

  const BreakerStatusSchema = z.object({
    agent_id: z.string(),
    state: z.enum(BREAKER_STATES),
    failures_in_window: z.number(),
    window_seconds: z.number(),
    total_failures: z.number(),
    total_successes: z.number(),
    cooldown_remaining_seconds: z.number().nullable(),
    half_open_calls: z.number(),
    half_open_successes: z.number(),
    config: BreakerConfigSchema,
    recent_failures: z.array(z.object({ at: z.string(), type: z.string(), message: z.string() })),
    transitions: z.array(z.object({ from: z.string(), to: z.string(), at: z.string(), reason: z.string() })),
    updated_at: z.string(),
  });

  return {
    BreakerConfigSchema,
    ConfigureInputSchema,
    FailureInputSchema,
    TripInputSchema,
    EmptyInputSchema,
    BreakerStatusSchema,
  };
});
export const {
  BreakerConfigSchema,
  ConfigureInputSchema,
  FailureInputSchema,
  TripInputSchema,
  EmptyInputSchema,
  BreakerStatusSchema,
} = schemas;

export type BreakerConfig = z.infer<typeof BreakerConfigSchema>;

export const DEFAULT_CONFIG: BreakerConfig = {
  failure_threshold: 5,
  window_seconds: 60,
  cooldown_seconds: 300,
  half_open_max_calls: 1,
  success_threshold: 2,
  fallback_agent: 'generalist',
};
export type FailureInput = z.infer<typeof FailureInputSchema>;

export const MAX_WINDOW_FAILURES = 1_000;
export const MAX_TRANSITIONS = 50;

export interface BreakerState {
  agent_id: string;
  state: BreakerStateName;
  config: BreakerConfig;
  /** Failures inside the window (oldest first), pruned as time passes. */
  failures: Array<{ at: string; type: string; message: string }>;
  opened_at: string | null;
  half_open_calls: number;
  half_open_successes: number;
  total_failures: number;
  total_successes: number;
  transitions: Array<{ from: BreakerStateName; to: BreakerStateName; at: string; reason: string }>;
  created_at: string;
  updated_at: string;
}

/**
 * What a claim needs of a breaker to admit or refuse its agent: the breaker's memo (written in the workflow task of
 * every change), which the server answers alone, with no worker.
 */
export interface BreakerGate {
  agent_id: string;
  state: BreakerStateName;
  opened_at: string | null;
  half_open_calls: number;
  config: Pick<BreakerConfig, 'cooldown_seconds' | 'half_open_max_calls' | 'fallback_agent'>;
}

export function gateOf(s: BreakerState): BreakerGate {
  const { cooldown_seconds, half_open_max_calls, fallback_agent } = s.config;
  return {
    agent_id: s.agent_id,
    state: s.state,
    opened_at: s.opened_at,
    half_open_calls: s.half_open_calls,
    config: { cooldown_seconds, half_open_max_calls, fallback_agent },
  };
}

/** A memo read back as a gate, or undefined when it is not one (a run started before the memo existed). */
export function asGate(v: unknown): BreakerGate | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const g = v as Partial<BreakerGate>;
  const ok =
    typeof g.agent_id === 'string' &&
    (BREAKER_STATES as readonly unknown[]).includes(g.state) &&
    (g.opened_at === null || typeof g.opened_at === 'string') &&
    typeof g.half_open_calls === 'number' &&
    typeof g.config?.cooldown_seconds === 'number' &&
    typeof g.config.half_open_max_calls === 'number' &&
    typeof g.config.fallback_agent === 'string';
  return ok ? (g as BreakerGate) : undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function newBreakerState(agentId: string, now: number, config: Partial<BreakerConfig> = {}): BreakerState {
  AgentIdSchema.parse(agentId);
  return {
    agent_id: agentId,
    state: 'CLOSED',
    config: { ...DEFAULT_CONFIG, ...config },
    failures: [],
    opened_at: null,
    half_open_calls: 0,
    half_open_successes: 0,
    total_failures: 0,
    total_successes: 0,
    transitions: [],
    created_at: iso(now),
    updated_at: iso(now),
  };
}

function move(s: BreakerState, to: BreakerStateName, now: number, reason: string): void {
  if (s.state === to) return;
  s.transitions.push({ from: s.state, to, at: iso(now), reason });
  if (s.transitions.length > MAX_TRANSITIONS) s.transitions.splice(0, s.transitions.length - MAX_TRANSITIONS);
  s.state = to;
  s.half_open_calls = 0;
  s.half_open_successes = 0;
  if (to === 'OPEN') s.opened_at = iso(now);
  if (to === 'CLOSED') {
    s.opened_at = null;
    s.failures = [];
  }
}

export function pruneWindow(s: BreakerState, now: number): void {
  const from = now - s.config.window_seconds * 1000;
  s.failures = s.failures.filter((f) => Date.parse(f.at) > from);
}

export function recordFailure(s: BreakerState, input: FailureInput, now: number): BreakerState {
  pruneWindow(s, now);
  s.failures.push({ at: iso(now), type: input.failureType, message: input.errorMessage.slice(0, 500) });
  if (s.failures.length > MAX_WINDOW_FAILURES) s.failures.splice(0, s.failures.length - MAX_WINDOW_FAILURES);
  s.total_failures += 1;
  s.updated_at = iso(now);
  if (s.state === 'HALF_OPEN') move(s, 'OPEN', now, `${input.failureType} while half-open`);
  else if (s.state === 'CLOSED' && s.failures.length >= s.config.failure_threshold) {
    move(
      s,
      'OPEN',
      now,
      `${s.failures.length} failures within ${s.config.window_seconds} s (last: ${input.failureType})`,
    );
  }
  return s;
}

export function recordSuccess(s: BreakerState, now: number): BreakerState {
  s.total_successes += 1;
  s.updated_at = iso(now);
  if (s.state === 'HALF_OPEN') {
    s.half_open_successes += 1;
    if (s.half_open_successes >= s.config.success_threshold)
      move(s, 'CLOSED', now, `${s.half_open_successes} successes while half-open`);
  }
  return s;
}

export function trip(s: BreakerState, reason: string | undefined, now: number): BreakerState {
  s.updated_at = iso(now);
  if (s.state === 'OPEN') s.opened_at = iso(now); // a manual trip restarts the cooldown
  move(s, 'OPEN', now, `manual trip${reason ? `: ${reason}` : ''}`);
  return s;
}

export function reset(s: BreakerState, now: number): BreakerState {
  s.updated_at = iso(now);
  move(s, 'CLOSED', now, 'manual reset');
  s.failures = [];
  return s;
}

export function configure(s: BreakerState, patch: Partial<BreakerConfig>, now: number): BreakerState {
  s.config = { ...s.config, ...patch };
  s.updated_at = iso(now);
  pruneWindow(s, now);
  return s;
}

export function cooldownEndsAt(s: BreakerGate): number | undefined {
  return s.state === 'OPEN' && s.opened_at ? Date.parse(s.opened_at) + s.config.cooldown_seconds * 1000 : undefined;
}

/** The durable timer's work: OPEN → HALF_OPEN once the cooldown has passed. */
export function endCooldown(s: BreakerState, now: number): boolean {
  const end = cooldownEndsAt(s);
  if (end === undefined || end > now) return false;
  move(s, 'HALF_OPEN', now, `cooldown of ${s.config.cooldown_seconds} s ended`);
  s.updated_at = iso(now);
  return true;
}

/** Whether the agent may take work now; in HALF_OPEN each admission uses one probe. Throws BREAKER_OPEN otherwise. */
export function checkAdmit(s: BreakerGate, now: number): void {
  if (s.state === 'OPEN') {
    const left = Math.max(0, Math.ceil(((cooldownEndsAt(s) ?? now) - now) / 1000));
    fail(
      'BREAKER_OPEN',
      `The circuit breaker of ${s.agent_id} is OPEN: ${left} s of cooldown left. Route the work to ${s.config.fallback_agent}, or reset the breaker.`,
      {
        agent_id: s.agent_id,
        cooldown_remaining_seconds: left,
        fallback_agent: s.config.fallback_agent,
      },
    );
  }
  if (s.state === 'HALF_OPEN' && s.half_open_calls >= s.config.half_open_max_calls) {
    fail(
      'BREAKER_OPEN',
      `The circuit breaker of ${s.agent_id} is HALF_OPEN and its ${s.config.half_open_max_calls} probe(s) are in use; route the work to ${s.config.fallback_agent} until they succeed.`,
      {
        agent_id: s.agent_id,
        cooldown_remaining_seconds: 0,
        fallback_agent: s.config.fallback_agent,
      },
    );
  }
}

export function admit(s: BreakerState, now: number): { state: BreakerStateName; probe: boolean } {
  checkAdmit(s, now);
  if (s.state === 'HALF_OPEN') {
    s.half_open_calls += 1;
    s.updated_at = iso(now);
    return { state: s.state, probe: true };
  }
  return { state: s.state, probe: false };
}
export type BreakerStatus = z.infer<typeof BreakerStatusSchema>;

export function statusOf(s: BreakerState, now: number): BreakerStatus {
  const from = now - s.config.window_seconds * 1000;
  const inWindow = s.failures.filter((f) => Date.parse(f.at) > from);
  const end = cooldownEndsAt(s);
  return {
    agent_id: s.agent_id,
    state: s.state,
    failures_in_window: inWindow.length,
    window_seconds: s.config.window_seconds,
    total_failures: s.total_failures,
    total_successes: s.total_successes,
    cooldown_remaining_seconds: end === undefined ? null : Math.max(0, Math.ceil((end - now) / 1000)),
    half_open_calls: s.half_open_calls,
    half_open_successes: s.half_open_successes,
    config: s.config,
    recent_failures: inWindow.slice(-10),
    transitions: s.transitions.slice(-10),
    updated_at: s.updated_at,
  };
}

export function renderBreakerDetails(s: BreakerState, now: number): string {
  const v = statusOf(s, now);
  const icon = s.state === 'CLOSED' ? '🟢' : s.state === 'OPEN' ? '🔴' : '🟡';
  return forPanel([
    `### ${icon} ${s.agent_id}: ${s.state}`,
    `failures in window ${v.failures_in_window} of ${s.config.failure_threshold} (${s.config.window_seconds} s) · cooldown ${s.config.cooldown_seconds} s${cooldownEndsAt(s) !== undefined ? ` (until ${utc(new Date(cooldownEndsAt(s) as number).toISOString())} UTC)` : ''} · fallback ${s.config.fallback_agent}`,
    '',
    ...(v.transitions.length > 0
      ? [
          '| at | from | to | reason |',
          '| --- | --- | --- | --- |',
          ...v.transitions.map((t) => `| ${t.at} | ${t.from} | ${t.to} | ${t.reason.replace(/\|/g, '\\|')} |`),
        ]
      : ['No transitions yet.']),
  ]);
}
