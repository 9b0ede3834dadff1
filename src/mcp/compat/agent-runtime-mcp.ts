/**
 * agent-runtime-mcp's result shapes where ours differ: relay statuses in its vocabulary (with our finer state
 * alongside), its relay and breaker field names. Applied by the relay and breaker tools to what the domain returns.
 */
import { z } from 'zod';
import type { BreakerStatus } from '../../domain/breaker';
import { RELAY_STATUSES, type RelayStatus, type RelayStatusView } from '../../domain/relay';

/** The seed's pipeline statuses. A failed gate is `failed` there too, and retry_relay_step reopens it. */
export const SEED_RELAY_STATUSES = ['pending', 'in_progress', 'completed', 'failed'] as const;
export type SeedRelayStatus = (typeof SEED_RELAY_STATUSES)[number];
export const SeedRelayStatusSchema = z.enum(SEED_RELAY_STATUSES);
/** list_relay_pipelines filters by either vocabulary. */
export const RelayStatusFilterSchema = z.enum([...SEED_RELAY_STATUSES, ...RELAY_STATUSES]);

interface RelayProgress {
  status: RelayStatus;
  steps: ReadonlyArray<{ status: string; agent_id: string | null; gate_failures: readonly unknown[] }>;
}

export function seedRelayStatus(v: RelayProgress): SeedRelayStatus {
  if (v.status === 'completed') return 'completed';
  if (v.status === 'failed' || v.status === 'awaiting_retry') return 'failed';
  const first = v.steps[0];
  const untouched =
    first !== undefined && first.status === 'active' && first.agent_id === null && first.gate_failures.length === 0;
  return untouched ? 'pending' : 'in_progress';
}

/** Which of our states a status filter (in either vocabulary) reads from Visibility. */
export function statesFor(filter: z.infer<typeof RelayStatusFilterSchema>): RelayStatus[] {
  switch (filter) {
    case 'pending':
    case 'in_progress':
      return ['running'];
    case 'failed':
      return ['failed', 'awaiting_retry'];
    default:
      return [filter];
  }
}

export function matchesFilter(v: RelayProgress, filter: z.infer<typeof RelayStatusFilterSchema>): boolean {
  return (SEED_RELAY_STATUSES as readonly string[]).includes(filter)
    ? seedRelayStatus(v) === filter
    : v.status === filter;
}

/** Fields get_relay_status adds to our view: the seed's status, total_steps and quality_scores. */
export const SeedRelayFields = {
  success: z.literal(true),
  status: SeedRelayStatusSchema.describe(
    'pending, in_progress, completed or failed (a failed gate is failed until retried).',
  ),
  state: z.enum(RELAY_STATUSES).describe('The finer state: running, awaiting_retry, completed, failed.'),
  total_steps: z.number(),
  quality_scores: z.array(z.number()).describe('The quality score of each passed step, in order.'),
};

export function seedRelayView(v: RelayStatusView) {
  return {
    ...v,
    success: true as const,
    status: seedRelayStatus(v),
    state: v.status,
    total_steps: v.total_agents,
    quality_scores: v.quality_chain,
  };
}

/** circuit_breaker_status in the seed's words: failure_count, success_count, cooldown_until, can_execute. */
export const SeedBreakerFields = {
  failure_count: z.number().describe('Failures inside the window.'),
  success_count: z.number().describe('Successes recorded.'),
  cooldown_until: z.string().nullable().describe('When an OPEN breaker turns HALF_OPEN.'),
  can_execute: z.boolean().describe('Whether a call to this agent would be admitted now.'),
  time_until_trial: z.number().nullable().describe('Seconds until HALF_OPEN, while OPEN.'),
};

export function seedBreakerView(s: BreakerStatus, now = Date.now()) {
  const cooldownUntil =
    s.cooldown_remaining_seconds === null ? null : new Date(now + s.cooldown_remaining_seconds * 1000).toISOString();
  return {
    ...s,
    failure_count: s.failures_in_window,
    success_count: s.total_successes,
    cooldown_until: cooldownUntil,
    can_execute: s.state === 'CLOSED' || (s.state === 'HALF_OPEN' && s.half_open_calls < s.config.half_open_max_calls),
    time_until_trial: s.state === 'OPEN' ? s.cooldown_remaining_seconds : null,
  };
}
