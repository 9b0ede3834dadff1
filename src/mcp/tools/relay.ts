/** Toolset `relay`: agent-runtime-mcp's six relay tools with its names and arguments. */
import { z } from 'zod';
import { createRelayClient } from '../../client/relay';
import { AgentIdSchema, GoalIdSchema, LIMITS } from '../../domain/schemas';
import {
  BatonSchema,
  MAX_RELAY_STEPS,
  RELAY_STATUSES,
  RelayStatusViewSchema,
  RelayStepSchema,
} from '../../domain/relay';
import { defineTool, RequestIdArg, resolveAgent, type ToolDef, type ToolDeps } from './common';

const PipelineId = z
  .string()
  .min(1)
  .max(LIMITS.idLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a pipeline id from create_relay_pipeline');
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
  status: z.enum(RELAY_STATUSES),
  reason: z.string().nullable(),
  next_baton: BatonSchema.nullable(),
});

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
        goal_id: GoalIdSchema.optional(),
        request_id: RequestIdArg,
      }),
      output: z.object({ pipeline_id: z.string(), status: RelayStatusViewSchema, baton: BatonSchema }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a) {
        return relays.create({
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
      },
    }),
    defineTool({
      name: 'get_relay_status',
      title: 'Relay status',
      description:
        'Progress %, current step, quality and L-score chains with averages, tokens used and left, retries, and per-step timings of a pipeline.',
      toolsets,
      input: z.object({ pipeline_id: PipelineId }),
      output: RelayStatusViewSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        return relays.status(a.pipeline_id);
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
        agent_id: AgentIdSchema.optional(),
        lease_seconds: z
          .int()
          .min(0)
          .max(LIMITS.leaseSecondsMax)
          .optional()
          .describe('Claim lease; 0 (default) = none.'),
        request_id: RequestIdArg,
      }),
      output: z.object({ baton: BatonSchema.nullable(), status: z.enum(RELAY_STATUSES) }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a) {
        const baton = await relays.baton(a.pipeline_id, a.agent_id, a.lease_seconds, a.request_id);
        const status = baton ? 'running' : (await relays.status(a.pipeline_id)).status;
        return { baton, status };
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
        output_entity_id: z.string().min(1).max(LIMITS.fileLength).optional(),
        output_summary: z.string().max(LIMITS.resultLength).optional(),
        agent_id: AgentIdSchema.optional(),
        lease_token: z.int().min(1).optional(),
        request_id: RequestIdArg,
      }),
      output: AdvanceResultSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        return relays.advance(
          a.pipeline_id,
          {
            qualityScore: a.quality_score,
            lScore: a.l_score,
            tokensUsed: a.tokens_used,
            outputEntityId: a.output_entity_id,
            outputSummary: a.output_summary,
            agentId: a.agent_id ?? (ctx.agentId ? resolveAgent(undefined, ctx) : undefined),
            leaseToken: a.lease_token,
          },
          a.request_id,
        );
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
      output: z.object({ step: RelayStepSchema, baton: BatonSchema.nullable() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a) {
        return relays.retry(a.pipeline_id, a.step_index, a.request_id);
      },
    }),
    defineTool({
      name: 'list_relay_pipelines',
      title: 'List relay pipelines',
      description: 'List pipelines with their progress; filter by status (running, awaiting_retry, completed, failed).',
      toolsets,
      input: z.object({
        status: z.enum(RELAY_STATUSES).optional(),
        limit: z.int().min(1).max(LIMITS.listLimitMax).default(50),
      }),
      output: z.object({ count: z.number(), pipelines: z.array(RelayStatusViewSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const pipelines = await relays.list(a.status, a.limit);
        return { count: pipelines.length, pipelines };
      },
    }),
  ];
}
