/**
 * Numeric aliases of task ids. The systems agent-runtime replaces number their tasks and steps with one global
 * integer (task 101, step 7); `agent-runtime import` keeps those numbers as aliases of the tasks it recreates
 * (`<goal_id>/<n>`), so a prompt or script that says `task_id: 101` still names the same task. Plain data, pure
 * functions: the registry workflow adds only durability.
 */
import type { z } from 'zod';
import { sharedSchemas } from './shared';
import { TaskIdSchema } from './schemas';

/** A bare positive integer written as a string: what a seed's numeric id becomes. */
export const NUMERIC_REF = /^[1-9][0-9]{0,15}$/;

// Built once per workflow thread (see ./shared); the names below are those objects.
const schemas = sharedSchemas('domain/aliases', (z) => {
  const AliasEntrySchema = z.object({
    alias: z.string().regex(NUMERIC_REF, 'an alias is a positive integer'),
    taskId: TaskIdSchema,
    /** Where the number came from, e.g. "agent-runtime-mcp task" or "hq step". */
    source: z.string().max(200),
  });

  const RegisterAliasesInputSchema = z.object({ entries: z.array(AliasEntrySchema).min(1).max(5_000) });

  /** resolveAlias Query input: the number as a string or an integer. */
  const ResolveAliasQuerySchema = z.object({ alias: z.union([z.string().min(1), z.number().int()]).transform(String) });

  return { AliasEntrySchema, RegisterAliasesInputSchema, ResolveAliasQuerySchema };
});
export const { AliasEntrySchema, RegisterAliasesInputSchema, ResolveAliasQuerySchema } = schemas;

export type AliasEntry = z.infer<typeof AliasEntrySchema>;
export type RegisterAliasesInput = z.infer<typeof RegisterAliasesInputSchema>;

export interface AliasState {
  /** alias → [task id, source] */
  tasks: Record<string, [string, string]>;
}

export interface RegisterAliasesResult {
  added: number;
  unchanged: number;
  /** Numbers already naming another task: the first mapping is kept. */
  conflicts: Array<{ alias: string; kept: string; refused: string }>;
}

/** Adds the entries; a number that already names another task keeps its first meaning. */
export function registerAliases(state: AliasState, input: RegisterAliasesInput): RegisterAliasesResult {
  const result: RegisterAliasesResult = { added: 0, unchanged: 0, conflicts: [] };
  for (const e of input.entries) {
    const known = state.tasks[e.alias];
    if (!known) {
      state.tasks[e.alias] = [e.taskId, e.source];
      result.added += 1;
    } else if (known[0] === e.taskId) result.unchanged += 1;
    else result.conflicts.push({ alias: e.alias, kept: known[0], refused: e.taskId });
  }
  return result;
}

export function resolveAlias(state: AliasState, alias: string): string | null {
  return state.tasks[alias]?.[0] ?? null;
}
