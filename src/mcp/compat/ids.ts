/**
 * Numbers where ids go. The seeds pass integers (`goal_id: 1`, `task_id: 101`, `step_id: 1`,
 * `output_entity_id: 456`); every id or entity reference argument accepts a number and treats it as its decimal
 * string, so whatever one call returned is accepted verbatim by the next, whatever its JSON type.
 */
import { z } from 'zod';
import { AppError } from '../../client/errors';
import { NUMERIC_REF } from '../../domain/aliases';
import { safeId } from '../../domain/ids';
import { AgentIdSchema, GoalIdSchema, LIMITS, TaskIdSchema } from '../../domain/schemas';

/** `schema` on strings, also accepting an integer as its decimal string. */
export function idArg<S extends z.ZodType<string, string>>(schema: S) {
  return z
    .union([z.string(), z.int()])
    .transform((v) => (typeof v === 'number' ? String(v) : v))
    .pipe(schema);
}

/** A task id (`<goal_id>/<n>`) or a bare task number (an imported seed id, or n of the goal named in the call). */
export const TaskRefSchema = z
  .string()
  .max(LIMITS.idLength + 12)
  .refine((v) => NUMERIC_REF.test(v) || TaskIdSchema.safeParse(v).success, {
    message: 'a task id looks like "<goal_id>/<n>", e.g. "auth-k3f9/2" (or a task number such as 101)',
  });

export const GoalIdArg = idArg(GoalIdSchema);
export const TaskRefArg = idArg(TaskRefSchema);
export const AgentIdArg = idArg(AgentIdSchema);
/** An entity reference such as `output_entity_id` (where an agent stored its output). */
export const EntityRefArg = idArg(safeId(LIMITS.fileLength));

/** AgentCoordinator and task-graph-mcp name the calling agent `agent` or `worker_id`: one argument, three names. */
export const AgentAliasArgs = {
  agent: AgentIdArg.optional(),
  worker_id: AgentIdArg.optional(),
};

/** The one agent named by agent_id, agent or worker_id (undefined if none); naming two different ones is an error. */
export function namedAgent(a: { agent_id?: string; agent?: string; worker_id?: string }): string | undefined {
  const given = [a.agent_id, a.agent, a.worker_id].filter((x): x is string => x !== undefined);
  if (new Set(given).size > 1) {
    throw new AppError('INVALID_ARGUMENT', 'agent_id, agent and worker_id name the same agent; give one of them.');
  }
  return given[0];
}
