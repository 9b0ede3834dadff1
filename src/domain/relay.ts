/**
 * Relay pipelines as plain functions over plain data (DESIGN §3): a baton handed from agent to agent through
 * quality gates.
 *
 *   running → completed                         every step passed its gate
 *   running → awaiting_retry                    a step failed its gate (not terminal)
 *   awaiting_retry → running                    retry_relay_step reopens the step (at most max_retries times)
 *   running | awaiting_retry → failed           retries exhausted, or the token budget exceeded
 */
import type { z } from 'zod';
import { sharedSchemas } from './shared';
import { fail } from './errors';
import { forPanel } from './text';
import { AgentIdSchema, LIMITS } from './schemas';

export const L_SCORE_THRESHOLD = 0.3;
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_TOKEN_BUDGET = 100_000;
export const MAX_RELAY_STEPS = 64;
export const DEFAULT_THRESHOLDS: Record<string, number> = {
  researcher: 0.6,
  analyzer: 0.7,
  synthesizer: 0.7,
  validator: 0.8,
  formatter: 0.6,
};
const DEFAULT_THRESHOLD = 0.6;

const TASK_BY_TYPE: Record<string, string> = {
  researcher: 'Research and gather the information needed for',
  analyzer: 'Analyze the research findings for',
  synthesizer: 'Synthesize the analysis into a coherent result for',
  validator: 'Validate the synthesized result for',
  formatter: 'Format the validated result as the final deliverable for',
};

export const RELAY_STATUSES = ['running', 'awaiting_retry', 'completed', 'failed'] as const;
export type RelayStatus = (typeof RELAY_STATUSES)[number];
export const STEP_STATUSES = ['pending', 'active', 'passed', 'failed_gate'] as const;

// Built once per workflow thread (see ./shared); the names below are those objects.
const schemas = sharedSchemas('domain/relay', (z) => {
  const Score = z.number().min(0).max(1);

  const CreateRelayInputSchema = z.object({
    pipelineId: z
      .string()
      .min(1)
      .max(LIMITS.idLength)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
    name: z.string().trim().min(1).max(LIMITS.nameLength),
    goal: z.string().trim().min(1).max(LIMITS.descriptionLength),
    description: z.string().max(LIMITS.descriptionLength).optional(),
    agentTypes: z.array(z.string().trim().min(1).max(64)).min(1).max(MAX_RELAY_STEPS),
    tokenBudget: z.int().min(1).max(100_000_000).optional(),
    qualityThresholds: z.record(z.string(), Score).optional(),
    maxRetries: z.int().min(0).max(20).optional(),
    goalTaskId: z.string().optional(),
    goalAgentId: z.string().optional(),
  });

  const AdvanceInputSchema = z.object({
    qualityScore: Score,
    lScore: Score,
    tokensUsed: z.int().min(0).max(100_000_000),
    outputEntityId: z.string().min(1).max(LIMITS.fileLength).optional(),
    outputSummary: z.string().max(LIMITS.resultLength).optional(),
    agentId: AgentIdSchema.optional(),
    leaseToken: z.int().min(1).optional(),
    /** The step this advance finishes (step_index, or the index in a baton_id); a finished step is not advanced twice. */
    stepIndex: z.int().min(0).optional(),
  });

  const RetryStepInputSchema = z.object({ stepIndex: z.int().min(0) });
  const ClaimStepInputSchema = z.object({
    agentId: AgentIdSchema,
    leaseSeconds: z.int().min(0).max(LIMITS.leaseSecondsMax).optional(),
  });

  const RelayStepSchema = z.object({
    index: z.number(),
    agent_type: z.string(),
    status: z.enum(STEP_STATUSES),
    quality_threshold: z.number(),
    quality_score: z.number().nullable(),
    l_score: z.number().nullable(),
    tokens_used: z.number(),
    output_summary: z.string().nullable(),
    output_entity_id: z.string().nullable(),
    retries: z.number(),
    agent_id: z.string().nullable(),
    lease_token: z.number().nullable(),
    lease_expires_at: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
    gate_failures: z.array(z.object({ quality_score: z.number(), l_score: z.number(), at: z.string() })),
  });

  const BatonSchema = z.object({
    baton_id: z.string(),
    pipeline_id: z.string(),
    sequence_position: z.number(),
    total_agents: z.number(),
    agent_type: z.string(),
    task_description: z.string(),
    input_summary: z.string().nullable(),
    input_entity_id: z.string().nullable(),
    output_key: z.string(),
    expected_output_type: z.string(),
    quality_threshold: z.number(),
    l_score_threshold: z.number(),
    max_output_tokens: z.number(),
    remaining_budget: z.number(),
    tokens_used: z.number(),
    source_chain: z.array(z.string()),
    l_score_chain: z.array(z.number()),
    retry_count: z.number(),
    max_retries: z.number(),
    fallback_agent: z.string().nullable(),
    claimed_by: z.string().nullable(),
    lease_token: z.number().nullable(),
    lease_expires_at: z.string().nullable(),
    prompt: z.string(),
  });

  // ------------------------------------------------------------------------------------------------ views

  const RelayStatusViewSchema = z.object({
    pipeline_id: z.string(),
    name: z.string(),
    goal: z.string(),
    status: z.enum(RELAY_STATUSES),
    progress_percent: z.number(),
    current_step: z.number().nullable(),
    current_agent_type: z.string().nullable(),
    total_agents: z.number(),
    quality_chain: z.array(z.number()),
    l_score_chain: z.array(z.number()),
    average_quality: z.number().nullable(),
    average_l_score: z.number().nullable(),
    tokens_used: z.number(),
    tokens_remaining: z.number(),
    token_budget: z.number(),
    total_retries: z.number(),
    max_retries: z.number(),
    failure_reason: z.string().nullable(),
    goal_task_id: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    steps: z.array(RelayStepSchema),
  });

  return {
    CreateRelayInputSchema,
    AdvanceInputSchema,
    RetryStepInputSchema,
    ClaimStepInputSchema,
    RelayStepSchema,
    BatonSchema,
    RelayStatusViewSchema,
  };
});
export const {
  CreateRelayInputSchema,
  AdvanceInputSchema,
  RetryStepInputSchema,
  ClaimStepInputSchema,
  RelayStepSchema,
  BatonSchema,
  RelayStatusViewSchema,
} = schemas;

export type CreateRelayInput = z.infer<typeof CreateRelayInputSchema>;
export type AdvanceInput = z.infer<typeof AdvanceInputSchema>;

/** The step index inside a baton id (`<pipeline>:<index>:<retries>`), or undefined when it is not one. */
export function stepOfBaton(batonId: string): number | undefined {
  const parts = batonId.split(':');
  const index = parts.length >= 3 ? Number(parts[parts.length - 2]) : NaN;
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}
export type ClaimStepInput = z.infer<typeof ClaimStepInputSchema>;
export type RelayStep = z.infer<typeof RelayStepSchema>;

export interface RelayState {
  id: string;
  name: string;
  goal: string;
  description: string;
  status: RelayStatus;
  token_budget: number;
  tokens_used: number;
  max_retries: number;
  current: number;
  steps: RelayStep[];
  failure_reason: string | null;
  goal_task_id: string | null;
  goal_agent_id: string | null;
  lease_epoch: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}
export type Baton = z.infer<typeof BatonSchema>;

const iso = (ms: number): string => new Date(ms).toISOString();

export function thresholdFor(agentType: string, index: number, overrides: Record<string, number> = {}): number {
  return overrides[String(index)] ?? overrides[agentType] ?? DEFAULT_THRESHOLDS[agentType] ?? DEFAULT_THRESHOLD;
}

export function newRelayState(input: CreateRelayInput, now: number): RelayState {
  const at = iso(now);
  return {
    id: input.pipelineId,
    name: input.name,
    goal: input.goal,
    description: input.description ?? '',
    status: 'running',
    token_budget: input.tokenBudget ?? DEFAULT_TOKEN_BUDGET,
    tokens_used: 0,
    max_retries: input.maxRetries ?? DEFAULT_MAX_RETRIES,
    current: 0,
    steps: input.agentTypes.map((agentType, index) => ({
      index,
      agent_type: agentType,
      status: index === 0 ? 'active' : 'pending',
      quality_threshold: thresholdFor(agentType, index, input.qualityThresholds),
      quality_score: null,
      l_score: null,
      tokens_used: 0,
      output_summary: null,
      output_entity_id: null,
      retries: 0,
      agent_id: null,
      lease_token: null,
      lease_expires_at: null,
      started_at: index === 0 ? at : null,
      completed_at: null,
      duration_ms: null,
      gate_failures: [],
    })),
    failure_reason: null,
    goal_task_id: input.goalTaskId ?? null,
    goal_agent_id: input.goalAgentId ?? null,
    lease_epoch: 0,
    created_at: at,
    updated_at: at,
    completed_at: null,
  };
}

function currentStep(state: RelayState): RelayStep {
  return state.steps[state.current] as RelayStep;
}

function isHeld(step: RelayStep, now: number): boolean {
  return step.agent_id !== null && (step.lease_expires_at === null || Date.parse(step.lease_expires_at) > now);
}

// ------------------------------------------------------------------------------------------------ baton

export function batonOf(state: RelayState, fallbackAgent: string | null = null): Baton | null {
  if (state.status === 'completed' || state.status === 'failed') return null;
  const step = currentStep(state);
  const previous = state.steps.slice(0, state.current);
  const last = previous[previous.length - 1];
  const remaining = Math.max(0, state.token_budget - state.tokens_used);
  const stepsLeft = state.steps.length - state.current;
  const maxOutput = Math.floor(remaining / stepsLeft);
  const outputKey = `${state.id}/step-${step.index}`;
  const task = `${TASK_BY_TYPE[step.agent_type] ?? `Do the ${step.agent_type} work for`}: ${state.goal}`;
  const baton: Baton = {
    baton_id: `${state.id}:${step.index}:${step.retries}`,
    pipeline_id: state.id,
    sequence_position: step.index + 1,
    total_agents: state.steps.length,
    agent_type: step.agent_type,
    task_description: task,
    input_summary: last?.output_summary ?? null,
    input_entity_id: last?.output_entity_id ?? null,
    output_key: outputKey,
    expected_output_type: step.index === state.steps.length - 1 ? 'final_output' : `${step.agent_type}_output`,
    quality_threshold: step.quality_threshold,
    l_score_threshold: L_SCORE_THRESHOLD,
    max_output_tokens: maxOutput,
    remaining_budget: remaining,
    tokens_used: state.tokens_used,
    source_chain: previous.map((s) => s.output_entity_id ?? `${state.id}/step-${s.index}`),
    l_score_chain: previous.map((s) => s.l_score ?? 0),
    retry_count: step.retries,
    max_retries: state.max_retries,
    fallback_agent: fallbackAgent,
    claimed_by: step.agent_id,
    lease_token: step.lease_token,
    lease_expires_at: step.lease_expires_at,
    prompt: '',
  };
  baton.prompt = renderPrompt(state, baton, fallbackAgent);
  return baton;
}

function renderPrompt(state: RelayState, b: Baton, fallbackAgent: string | null): string {
  const who = fallbackAgent
    ? `${fallbackAgent} (standing in for the ${b.agent_type}, whose circuit breaker is open)`
    : b.agent_type;
  const lines = [
    `You are the ${who}, agent ${b.sequence_position} of ${b.total_agents} in the relay pipeline "${state.name}".`,
    `Pipeline goal: ${state.goal}`,
    `Your task: ${b.task_description}`,
    b.input_summary
      ? `Input from the previous agent (${state.steps[state.current - 1]?.agent_type ?? 'previous'}): ${b.input_summary}${b.input_entity_id ? ` [entity ${b.input_entity_id}]` : ''}`
      : 'You are first: there is no input from a previous agent.',
    b.source_chain.length > 0 ? `Source chain so far: ${b.source_chain.join(' → ')}` : '',
    b.retry_count > 0
      ? `This is retry ${b.retry_count} of ${b.max_retries}: the previous attempt did not clear the quality gate.`
      : '',
    `Quality gate: quality_score ≥ ${b.quality_threshold} and l_score ≥ ${b.l_score_threshold}. Use at most ${b.max_output_tokens} tokens (${b.remaining_budget} left in the pipeline).`,
    `When done, call advance_relay(pipeline_id="${b.pipeline_id}", quality_score, l_score, tokens_used, output_summary, output_entity_id="${b.output_key}").`,
  ];
  return lines.filter(Boolean).join('\n');
}

// ------------------------------------------------------------------------------------------------ transitions

function requireOpen(state: RelayState): void {
  if (state.status === 'completed')
    fail('CONFLICT', `Pipeline ${state.id} is already completed; nothing is left to advance.`);
  if (state.status === 'failed')
    fail(
      'CONFLICT',
      `Pipeline ${state.id} has failed (${state.failure_reason ?? 'no reason'}); create a new pipeline.`,
    );
}

export function checkClaimStep(state: RelayState, input: ClaimStepInput, now: number): RelayStep {
  requireOpen(state);
  if (state.status === 'awaiting_retry') {
    fail(
      'CONFLICT',
      `Step ${state.current} of pipeline ${state.id} failed its gate; call retry_relay_step(${state.current}) first.`,
    );
  }
  const step = currentStep(state);
  if (isHeld(step, now) && step.agent_id !== input.agentId) {
    fail(
      'CONFLICT',
      `Step ${step.index} (${step.agent_type}) of pipeline ${state.id} is held by ${step.agent_id}; wait for its baton to move on.`,
    );
  }
  return step;
}

export function claimStep(state: RelayState, input: ClaimStepInput, now: number): RelayStep {
  const step = checkClaimStep(state, input, now);
  if (step.agent_id === input.agentId && isHeld(step, now)) return step; // the holder asking again
  state.lease_epoch += 1;
  const seconds = input.leaseSeconds ?? 0;
  step.agent_id = input.agentId;
  step.lease_token = state.lease_epoch;
  step.lease_expires_at = seconds > 0 ? iso(now + seconds * 1000) : null;
  state.updated_at = iso(now);
  return step;
}

export function checkAdvance(state: RelayState, input: AdvanceInput, now: number): RelayStep {
  requireOpen(state);
  if (input.stepIndex !== undefined && input.stepIndex !== state.current) {
    fail(
      'CONFLICT',
      input.stepIndex < state.current
        ? `Step ${input.stepIndex} of pipeline ${state.id} is already advanced; the current step is ${state.current}. Retrying? Send the same request_id to get the first answer.`
        : `Step ${input.stepIndex} of pipeline ${state.id} is not reached yet; the current step is ${state.current}.`,
      { current_step: state.current },
    );
  }
  if (state.status === 'awaiting_retry') {
    fail(
      'CONFLICT',
      `Step ${state.current} of pipeline ${state.id} failed its gate; call retry_relay_step(${state.current}) before advancing.`,
    );
  }
  const step = currentStep(state);
  // A caller with no identity at all (no agent_id, no lease_token) acts for the holder; an identified one is fenced.
  const anonymous = input.agentId === undefined && input.leaseToken === undefined;
  if (isHeld(step, now) && !anonymous && input.agentId !== undefined && step.agent_id !== input.agentId) {
    fail(
      'LEASE_LOST',
      `Step ${step.index} (${step.agent_type}) of pipeline ${state.id} is held by ${step.agent_id}, not ${input.agentId ?? 'you'}; only its holder may advance it.`,
    );
  }
  if (input.leaseToken !== undefined && (!isHeld(step, now) || input.leaseToken !== step.lease_token)) {
    fail(
      'LEASE_LOST',
      `Lease token ${input.leaseToken} is not the claim on step ${step.index} of pipeline ${state.id}${isHeld(step, now) ? '' : ' (nobody holds that step)'}.`,
    );
  }
  return step;
}

export interface AdvanceResult {
  outcome: 'advanced' | 'pipeline_completed' | 'gate_failed' | 'pipeline_failed';
  step_index: number;
  agent_type: string;
  gate: {
    passed: boolean;
    quality_score: number;
    quality_threshold: number;
    l_score: number;
    l_score_threshold: number;
  };
  status: RelayStatus;
  reason: string | null;
  total_steps: number;
}

export function advance(state: RelayState, input: AdvanceInput, now: number): AdvanceResult {
  const step = checkAdvance(state, input, now);
  const at = iso(now);
  step.quality_score = input.qualityScore;
  step.l_score = input.lScore;
  step.tokens_used += input.tokensUsed;
  step.output_summary = input.outputSummary ?? null;
  step.output_entity_id = input.outputEntityId ?? null;
  step.completed_at = at;
  step.duration_ms = step.started_at ? now - Date.parse(step.started_at) : null;
  state.tokens_used += input.tokensUsed;
  state.updated_at = at;
  const passed = input.qualityScore >= step.quality_threshold && input.lScore >= L_SCORE_THRESHOLD;
  const gate = {
    passed,
    quality_score: input.qualityScore,
    quality_threshold: step.quality_threshold,
    l_score: input.lScore,
    l_score_threshold: L_SCORE_THRESHOLD,
  };
  const result = (outcome: AdvanceResult['outcome'], reason: string | null): AdvanceResult => ({
    outcome,
    step_index: step.index,
    agent_type: step.agent_type,
    gate,
    status: state.status,
    reason,
    total_steps: state.steps.length,
  });

  if (state.tokens_used > state.token_budget) {
    step.status = passed ? 'passed' : 'failed_gate';
    state.status = 'failed';
    state.failure_reason = `token budget exceeded: ${state.tokens_used} tokens used of ${state.token_budget} (step ${step.index}, ${step.agent_type})`;
    state.completed_at = at;
    return result('pipeline_failed', state.failure_reason);
  }
  if (!passed) {
    step.status = 'failed_gate';
    step.gate_failures.push({ quality_score: input.qualityScore, l_score: input.lScore, at });
    const why =
      input.qualityScore < step.quality_threshold
        ? `quality_score ${input.qualityScore} is below the ${step.agent_type} threshold ${step.quality_threshold}`
        : `l_score ${input.lScore} is below ${L_SCORE_THRESHOLD}`;
    if (step.retries >= state.max_retries) {
      state.status = 'failed';
      state.failure_reason = `step ${step.index} (${step.agent_type}) failed its gate after ${step.retries} retries: ${why}`;
      state.completed_at = at;
      return result('pipeline_failed', state.failure_reason);
    }
    state.status = 'awaiting_retry';
    return result(
      'gate_failed',
      `${why}; call retry_relay_step(${step.index}) to try again (${state.max_retries - step.retries} retries left).`,
    );
  }
  step.status = 'passed';
  step.agent_id = step.agent_id ?? input.agentId ?? null;
  step.lease_expires_at = null;
  if (state.current === state.steps.length - 1) {
    state.status = 'completed';
    state.completed_at = at;
    return result('pipeline_completed', null);
  }
  state.current += 1;
  const next = currentStep(state);
  next.status = 'active';
  next.started_at = at;
  return result('advanced', null);
}

export function checkRetry(state: RelayState, stepIndex: number): RelayStep {
  const step = state.steps[stepIndex];
  if (!step) {
    fail(
      'INVALID_ARGUMENT',
      `step_index ${stepIndex} is out of range: pipeline ${state.id} has steps 0-${state.steps.length - 1}.`,
    );
  }
  if (step.retries >= state.max_retries && (step.status === 'failed_gate' || state.status === 'failed')) {
    fail(
      'RETRY_EXHAUSTED',
      `Step ${stepIndex} (${step.agent_type}) has been retried ${step.retries} times, the limit of ${state.max_retries}.`,
    );
  }
  requireOpen(state);
  if (stepIndex !== state.current || step.status !== 'failed_gate') {
    fail(
      'CONFLICT',
      `Only the step that failed its gate can be retried; pipeline ${state.id} is ${state.status} at step ${state.current} (${currentStep(state).status}).`,
    );
  }
  return step;
}

export function retryStep(state: RelayState, stepIndex: number, now: number): RelayStep {
  const step = checkRetry(state, stepIndex);
  step.retries += 1;
  step.status = 'active';
  step.quality_score = null;
  step.l_score = null;
  step.output_summary = null;
  step.output_entity_id = null;
  step.completed_at = null;
  step.duration_ms = null;
  step.agent_id = null;
  step.lease_token = null;
  step.lease_expires_at = null;
  step.started_at = iso(now);
  state.status = 'running';
  state.updated_at = iso(now);
  return step;
}

/** A claim whose lease ran out frees the step for another agent. Returns whether anything changed. */
export function expireClaim(state: RelayState, now: number): boolean {
  const step = state.steps[state.current];
  if (!step || step.agent_id === null || step.lease_expires_at === null || Date.parse(step.lease_expires_at) > now)
    return false;
  step.agent_id = null;
  step.lease_token = null;
  step.lease_expires_at = null;
  return true;
}

export function claimExpiry(state: RelayState): number | undefined {
  const step = state.steps[state.current];
  return step?.agent_id && step.lease_expires_at ? Date.parse(step.lease_expires_at) : undefined;
}
export type RelayStatusView = z.infer<typeof RelayStatusViewSchema>;

const avg = (xs: number[]): number | null =>
  xs.length === 0 ? null : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;

/**
 * What a baton's reader needs of a pipeline besides the baton: its state, and its first step (agent-runtime-mcp calls a
 * pipeline nobody has touched yet "pending"). Kept in the workflow's memo with the baton.
 */
export interface RelayHead {
  status: RelayStatus;
  steps: Array<Pick<RelayStep, 'status' | 'agent_id' | 'gate_failures'>>;
}

export function headOf(state: RelayState): RelayHead {
  return {
    status: state.status,
    steps: state.steps
      .slice(0, 1)
      .map((s) => ({ status: s.status, agent_id: s.agent_id, gate_failures: s.gate_failures })),
  };
}

export function statusView(state: RelayState): RelayStatusView {
  const passed = state.steps.filter((s) => s.status === 'passed');
  const done = state.status === 'completed' || state.status === 'failed';
  return {
    pipeline_id: state.id,
    name: state.name,
    goal: state.goal,
    status: state.status,
    progress_percent: Math.round((passed.length / state.steps.length) * 1000) / 10,
    current_step: done ? null : state.current,
    current_agent_type: done ? null : (state.steps[state.current]?.agent_type ?? null),
    total_agents: state.steps.length,
    quality_chain: passed.map((s) => s.quality_score ?? 0),
    l_score_chain: passed.map((s) => s.l_score ?? 0),
    average_quality: avg(passed.map((s) => s.quality_score ?? 0)),
    average_l_score: avg(passed.map((s) => s.l_score ?? 0)),
    tokens_used: state.tokens_used,
    tokens_remaining: Math.max(0, state.token_budget - state.tokens_used),
    token_budget: state.token_budget,
    total_retries: state.steps.reduce((n, s) => n + s.retries, 0),
    max_retries: state.max_retries,
    failure_reason: state.failure_reason,
    goal_task_id: state.goal_task_id,
    created_at: state.created_at,
    completed_at: state.completed_at,
    steps: state.steps,
  };
}

const ICON: Record<RelayStep['status'], string> = { pending: '⏳', active: '🏃', passed: '✅', failed_gate: '❌' };

export function renderRelayDetails(state: RelayState): string {
  const v = statusView(state);
  const lines = [
    `### ${state.name.replace(/\|/g, '\\|')}`,
    `**${state.status}** · ${v.progress_percent}% · current step_index ${state.current} of steps 0–${state.steps.length - 1} · tokens ${state.tokens_used} of ${state.token_budget} · retries ${v.total_retries}`,
    '',
    '| step_index | agent type | status | quality | l-score | holder |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of state.steps.slice(0, 48)) {
    lines.push(
      `| ${s.index} | ${s.agent_type} | ${ICON[s.status]} ${s.status} | ${s.quality_score ?? ''} | ${s.l_score ?? ''} | ${s.agent_id ?? ''} |`,
    );
  }
  if (state.failure_reason) lines.push('', `Failed: ${state.failure_reason}`);
  lines.push('', 'step_index is what retry_relay_step takes.');
  return forPanel(lines);
}

/** What a relay keeps in its memo for get_relay_baton: the current baton and the pipeline's head. */
export function batonMemoOf(state: RelayState): { baton: Baton | null; head: RelayHead } {
  return { baton: batonOf(state), head: headOf(state) };
}
