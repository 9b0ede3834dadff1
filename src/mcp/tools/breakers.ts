/** Toolset `breakers`: agent-runtime-mcp's seven circuit-breaker tools with its names and arguments. */
import { z } from 'zod';
import { createBreakersClient } from '../../client/breakers';
import { AgentIdSchema, LIMITS } from '../../domain/schemas';
import { BreakerConfigSchema, BreakerStatusSchema, FAILURE_TYPES } from '../../domain/breaker';
import { SeedBreakerFields, seedBreakerView } from '../compat/agent-runtime-mcp';
import { idArg } from '../compat/ids';
import { defineTool, reasonBy, RequestIdArg, type ToolDef, type ToolDeps } from './common';

const AgentId = idArg(AgentIdSchema).describe('The agent (or agent type) the breaker protects.');
/** Our status with the seed's field names (failure_count, success_count, cooldown_until, can_execute) added. */
const StatusOut = BreakerStatusSchema.extend(SeedBreakerFields);

export function breakerTools(deps: ToolDeps): ToolDef[] {
  const breakers = createBreakersClient(deps.goals);
  const toolsets = ['breakers'];
  const mutating = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
  return [
    defineTool({
      name: 'circuit_breaker_status',
      title: 'Circuit breaker status',
      description:
        'State (CLOSED, OPEN, HALF_OPEN), failures in the window, configuration, time left in the cooldown and recent transitions of an agent’s breaker.',
      toolsets,
      input: z.object({ agent_id: AgentId }),
      output: StatusOut,
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        return seedBreakerView(await breakers.status(a.agent_id));
      },
    }),
    defineTool({
      name: 'circuit_breaker_list',
      title: 'List circuit breakers',
      description: 'Every breaker with totals, grouped into open, half-open and closed.',
      toolsets,
      input: z.object({}),
      output: z.object({
        total_breakers: z.number(),
        open_circuits: z.array(z.string()).describe('Agents whose breaker is OPEN.'),
        half_open_circuits: z.array(z.string()).describe('Agents whose breaker is HALF_OPEN.'),
        breakers: z.array(StatusOut),
        total: z.number(),
        open: z.array(StatusOut),
        half_open: z.array(StatusOut),
        closed: z.array(StatusOut),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run() {
        const all = await breakers.list();
        const view = (xs: typeof all.open) => xs.map((b) => seedBreakerView(b));
        const [open, halfOpen, closed] = [view(all.open), view(all.half_open), view(all.closed)];
        return {
          total_breakers: all.total,
          open_circuits: open.map((b) => b.agent_id),
          half_open_circuits: halfOpen.map((b) => b.agent_id),
          breakers: [...open, ...halfOpen, ...closed],
          total: all.total,
          open,
          half_open: halfOpen,
          closed,
        };
      },
    }),
    defineTool({
      name: 'circuit_breaker_trip',
      title: 'Trip a circuit breaker',
      description: 'Open an agent’s breaker now (take it out of rotation); it turns HALF_OPEN after its cooldown.',
      toolsets,
      input: z.object({
        agent_id: AgentId,
        reason: z.string().max(LIMITS.resultLength).optional(),
        request_id: RequestIdArg,
      }),
      output: StatusOut,
      annotations: { ...mutating, destructiveHint: true, idempotentHint: false },
      async run(a, ctx) {
        return seedBreakerView(await breakers.trip(a.agent_id, reasonBy(a.reason, a.agent_id, ctx), a.request_id));
      },
    }),
    defineTool({
      name: 'circuit_breaker_reset',
      title: 'Reset a circuit breaker',
      description: 'Close an agent’s breaker now and forget the failures in its window.',
      toolsets,
      input: z.object({ agent_id: AgentId, request_id: RequestIdArg }),
      output: StatusOut,
      annotations: mutating,
      async run(a) {
        return seedBreakerView(await breakers.reset(a.agent_id, a.request_id));
      },
    }),
    defineTool({
      name: 'circuit_breaker_configure',
      title: 'Configure a circuit breaker',
      description:
        'Change an agent’s breaker: failure_threshold failures within window_seconds open it; cooldown_seconds later it admits half_open_max_calls probes and closes after success_threshold successes; fallback_agent takes its work meanwhile.',
      toolsets,
      input: BreakerConfigSchema.partial().extend({ agent_id: AgentId, request_id: RequestIdArg }),
      output: StatusOut,
      annotations: mutating,
      async run({ agent_id, request_id, ...patch }) {
        return seedBreakerView(await breakers.configure(agent_id, patch, request_id));
      },
    }),
    defineTool({
      name: 'circuit_breaker_record_failure',
      title: 'Record a failure',
      description: `Record a failure of an agent: failure_type is one of ${FAILURE_TYPES.join(', ')}. Enough failures inside the window open the breaker; one failure while HALF_OPEN reopens it.`,
      toolsets,
      input: z.object({
        agent_id: AgentId,
        failure_type: z.enum(FAILURE_TYPES),
        error_message: z.string().max(LIMITS.resultLength).default(''),
        request_id: RequestIdArg,
      }),
      output: StatusOut,
      annotations: { ...mutating, idempotentHint: false },
      async run(a) {
        return seedBreakerView(
          await breakers.recordFailure(
            a.agent_id,
            { failureType: a.failure_type, errorMessage: a.error_message },
            a.request_id,
          ),
        );
      },
    }),
    defineTool({
      name: 'circuit_breaker_record_success',
      title: 'Record a success',
      description: 'Record a success of an agent; while HALF_OPEN, success_threshold successes close the breaker.',
      toolsets,
      input: z.object({ agent_id: AgentId, request_id: RequestIdArg }),
      output: StatusOut,
      annotations: { ...mutating, idempotentHint: false },
      async run(a) {
        return seedBreakerView(await breakers.recordSuccess(a.agent_id, a.request_id));
      },
    }),
  ];
}
