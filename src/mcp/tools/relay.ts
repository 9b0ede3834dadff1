/** Toolset `relay`: agent-runtime-mcp's six relay tools with its names and arguments. */
import { z } from 'zod';
import { createRelayClient } from '../../client/relay';
import { AppError } from '../../client/errors';
import { LIMITS } from '../../domain/schemas';
import {
  BatonSchema,
  MAX_RELAY_STEPS,
  RELAY_STATUSES,
  RelayStatusViewSchema,
  RelayStepSchema,
  stepOfBaton,
} from '../../domain/relay';
import {
  matchesFilter,
  RelayStatusFilterSchema,
  SeedRelayFields,
  seedRelayStatus,
  SeedRelayStatusSchema,
  seedRelayView,
  statesFor,
} from '../compat/agent-runtime-mcp';
import { AgentIdArg, EntityRefArg, GoalIdArg, idArg } from '../compat/ids';
import { callerIdentity, defineTool, RequestIdArg, type ToolDef, type ToolDeps } from './common';

const PipelineId = idArg(
  z
    .string()
    .min(1)
    .max(LIMITS.idLength)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a pipeline id from create_relay_pipeline'),
);
const RelayViewSchema = RelayStatusViewSchema.extend(SeedRelayFields);
const Score = z.number().min(0).max(1);

const AdvanceResultSchema = z.object({
  outcome: z.enum(['advanced', 'pipeline_completed', 'gate_failed', 'pipeline_failed']),
  step_index: z.number(),
  agent_type: z.string(),
  gate: z.object({
    passed: z.boolean(),
    quality_score: z.number(),
    quality_threshold: z.number(),
    l_score: z.number(),
    l_score_threshold: z.number(),
  }),
  success: z.boolean().describe('The gate passed.'),
  status: SeedRelayStatusSchema,
  state: z.enum(RELAY_STATUSES),
  reason: z.string().nullable(),
  next_baton: BatonSchema.nullable(),
  next_step: z.number().nullable().describe('sequence_position of the next baton.'),
  total_steps: z.number(),
});

/** The step an advance names: step_index, or the index inside baton_id (both given must agree). */
function stepIndexOf(stepIndex: number | undefined, batonId: string | undefined): number | undefined {
  if (batonId === undefined) return stepIndex;
  const fromBaton = stepOfBaton(batonId);
  if (fromBaton === undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `baton_id "${batonId}" is not a baton id; pass the baton_id get_relay_baton gave.`,
    );
  }
  if (stepIndex !== undefined && stepIndex !== fromBaton) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `step_index ${stepIndex} and baton_id (step ${fromBaton}) disagree; give one.`,
    );
  }
  return fromBaton;
}

export function relayTools(deps: ToolDeps): ToolDef[] {
  const relays = createRelayClient(deps.goals, { breakerAutoRecord: deps.breakerAutoRecord });
  const toolsets = ['relay'];
  return [
    defineTool({
      name: 'create_relay_pipeline',
      title: 'Create relay pipeline',
      description:
        'Create a pipeline of specialised agents (e.g. researcher → analyzer → synthesizer → validator → formatter, up to 48+) that pass a structured baton. The first baton is ready at once. Each step must clear its quality gate (quality_score ≥ the agent type’s threshold, l_score ≥ 0.3). With goal_id, the pipeline is a task of that goal, completed when the pipeline completes.',
      toolsets,
      input: z.object({
        name: z.string().trim().min(1).max(LIMITS.nameLength),
        goal: z.string().trim().min(1).max(LIMITS.descriptionLength),
        agent_types: z.array(z.string().trim().min(1).max(64)).min(1).max(MAX_RELAY_STEPS),
        description: z.string().max(LIMITS.descriptionLength).optional(),
        token_budget: z.int().min(1).max(100_000_000).default(100_000),
        quality_thresholds: z
          .record(z.string(), Score)
          .optional()
          .describe('Overrides by agent type ("validator": 0.9) or by step index ("2": 0.75).'),
        max_retries: z.int().min(0).max(20).optional().describe('Retries allowed per step (default 3).'),
        goal_id: GoalIdArg.optional(),
        request_id: RequestIdArg,
      }),
      output: z.object({
        success: z.literal(true),
        pipeline_id: z.string(),
        name: z.string(),
        goal: z.string(),
        agent_count: z.number(),
        agents: z.array(z.string()),
        token_budget: z.number(),
        status: RelayViewSchema,
        baton: BatonSchema,
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a) {
        const created = await relays.create({
          name: a.name,
          goal: a.goal,
          agentTypes: a.agent_types,
          description: a.description,
          tokenBudget: a.token_budget,
          qualityThresholds: a.quality_thresholds,
          maxRetries: a.max_retries,
          goalId: a.goal_id,
          requestId: a.request_id,
        });
        return {
          success: true as const,
          pipeline_id: created.pipeline_id,
          name: a.name,
          goal: a.goal,
          agent_count: a.agent_types.length,
          agents: a.agent_types,
          token_budget: a.token_budget,
          status: seedRelayView(created.status),
          baton: created.baton,
        };
      },
    }),
    defineTool({
      name: 'get_relay_status',
      title: 'Relay status',
      description:
        'Progress %, current step, quality and L-score chains with averages, tokens used and left, retries, and per-step timings of a pipeline.',
      toolsets,
      input: z.object({ pipeline_id: PipelineId }),
      output: RelayViewSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        return seedRelayView(await relays.status(a.pipeline_id));
      },
    }),
    defineTool({
      name: 'get_relay_baton',
      title: 'Get the baton',
      description:
        'The current baton: your agent type, task, the previous agent’s output, the quality bar, the token budget and a ready-to-use prompt. With agent_id it also claims the step for you, so no other agent works it; then call advance_relay when done.',
      toolsets,
      input: z.object({
        pipeline_id: PipelineId,
        agent_id: AgentIdArg.optional(),
        lease_seconds: z
          .int()
          .min(0)
          .max(LIMITS.leaseSecondsMax)
          .optional()
          .describe('Claim lease; 0 (default) = none.'),
        request_id: RequestIdArg,
      }),
      output: z.object({
        success: z.boolean().describe('A baton is there to take.'),
        baton: BatonSchema.nullable(),
        prompt: z.string().nullable().describe('The baton’s ready-to-use prompt for the agent taking the step.'),
        status: SeedRelayStatusSchema,
        state: z.enum(RELAY_STATUSES),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a) {
        const { baton, head } = await relays.batonAndHead(a.pipeline_id, a.agent_id, a.lease_seconds, a.request_id);
        return {
          success: baton !== null,
          baton,
          prompt: baton?.prompt ?? null,
          status: seedRelayStatus(head),
          state: head.status,
        };
      },
    }),
    defineTool({
      name: 'advance_relay',
      title: 'Advance the relay',
      description:
        'Hand the baton on: record your step’s quality_score and l_score (0-1), tokens_used, output_summary and output_entity_id. If the gate passes the next agent’s baton is returned; if not the pipeline waits in awaiting_retry for retry_relay_step. A claimed step can be advanced only by its holder.',
      toolsets,
      input: z.object({
        pipeline_id: PipelineId,
        quality_score: Score,
        l_score: Score,
        tokens_used: z.int().min(0).max(100_000_000),
        output_entity_id: EntityRefArg.optional().describe('Where your output is stored (a key, or a number).'),
        output_summary: z.string().max(LIMITS.resultLength).optional(),
        agent_id: AgentIdArg.optional(),
        lease_token: z.int().min(1).optional(),
        step_index: z.int().min(0).optional().describe('The step you finish (0-based); refused if already advanced.'),
        baton_id: z.string().min(1).max(300).optional().describe('Or the baton_id you were given.'),
        request_id: RequestIdArg,
      }),
      output: AdvanceResultSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a, ctx) {
        const r = await relays.advance(
          a.pipeline_id,
          {
            qualityScore: a.quality_score,
            lScore: a.l_score,
            tokensUsed: a.tokens_used,
            outputEntityId: a.output_entity_id,
            outputSummary: a.output_summary,
            agentId: callerIdentity(a.agent_id, ctx),
            leaseToken: a.lease_token,
            stepIndex: stepIndexOf(a.step_index, a.baton_id),
          },
          a.request_id,
        );
        return {
          ...r,
          success: r.gate.passed,
          // After an advance something has happened, so a running pipeline is in_progress.
          status: r.status === 'running' ? ('in_progress' as const) : seedRelayStatus({ status: r.status, steps: [] }),
          state: r.status,
          next_step: r.next_baton?.sequence_position ?? null,
          total_steps: r.total_steps ?? r.next_baton?.total_agents ?? 0,
        };
      },
    }),
    defineTool({
      name: 'retry_relay_step',
      title: 'Retry a relay step',
      description:
        'Reopen the step that failed its quality gate (at most max_retries times, default 3) without restarting the pipeline.',
      toolsets,
      input: z.object({
        pipeline_id: PipelineId,
        step_index: z.int().min(0).max(MAX_RELAY_STEPS),
        request_id: RequestIdArg,
      }),
      output: z.object({
        success: z.literal(true),
        step: RelayStepSchema,
        baton: BatonSchema.nullable(),
        retry_count: z.number(),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a) {
        const r = await relays.retry(a.pipeline_id, a.step_index, a.request_id);
        return { success: true as const, ...r, retry_count: r.step.retries };
      },
    }),
    defineTool({
      name: 'list_relay_pipelines',
      title: 'List relay pipelines',
      description:
        'List pipelines with their progress; filter by status: pending, in_progress, completed, failed (a failed gate counts as failed until retried), or by the finer state running or awaiting_retry.',
      toolsets,
      input: z.object({
        status: RelayStatusFilterSchema.optional(),
        limit: z.int().min(1).max(LIMITS.listLimitMax).default(50),
      }),
      output: z.object({ success: z.literal(true), count: z.number(), pipelines: z.array(RelayViewSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const filter = a.status;
        const found = await relays.list(filter === undefined ? undefined : statesFor(filter), a.limit);
        const pipelines = found
          .filter((v) => filter === undefined || matchesFilter(v, filter))
          .sort((x, y) => y.created_at.localeCompare(x.created_at))
          .slice(0, a.limit)
          .map(seedRelayView);
        return { success: true as const, count: pipelines.length, pipelines };
      },
    }),
  ];
}
