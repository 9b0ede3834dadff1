/**
 * Task references by intent: a task id (`<goal_id>/<n>`) passes through; a bare number is a seed's task or step
 * number kept by `agent-runtime import` (resolved once through the registry workflow and remembered: an alias never
 * changes), else — inside a call that names a goal — task n of that goal.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { NUMERIC_REF, type AliasEntry, type RegisterAliasesResult } from '../domain/aliases';
import { TaskIdSchema } from '../domain/schemas';
import {
  aliasesWorkflowId,
  registerAliasesUpdate,
  resolveAliasQuery,
  type AliasesWorkflowInput,
} from '../workflows/messages';
import type { idAliasesWorkflow } from '../workflows/id-aliases';
import { AR_ENTITY, AR_NAME } from '../workflows/search-attributes';
import { AppError } from './errors';
import type { GoalsClient } from './goals';

const resolved = new WeakMap<GoalsClient, Map<string, string>>();

export function createAliasesClient(goals: GoalsClient) {
  let cache = resolved.get(goals);
  if (!cache) resolved.set(goals, (cache = new Map<string, string>()));
  const known = cache;
  const workflowId = aliasesWorkflowId(goals.taskQueue);

  async function lookup(alias: string): Promise<string | null> {
    const hit = known.get(alias);
    if (hit) return hit;
    try {
      const taskId = await goals.withClient(
        (client) => client.workflow.getHandle(workflowId).query(resolveAliasQuery, { alias }),
        'The registry of imported task numbers',
      );
      if (taskId) known.set(alias, taskId);
      return taskId;
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return null; // nothing was ever imported
      throw err;
    }
  }

  return {
    /** The task id a reference names; `goalId` is the goal named in the same call, if any. */
    async task(ref: string, goalId?: string): Promise<string> {
      if (!NUMERIC_REF.test(ref)) return ref;
      const aliased = await lookup(ref);
      if (aliased) return aliased;
      if (goalId !== undefined) return `${goalId}/${ref}`;
      throw new AppError(
        'NOT_FOUND',
        `No task is numbered ${ref}. Task ids look like "<goal_id>/<n>" (as get_next_task and list_tasks return them); a bare number names a task imported from agent-runtime-mcp or hq with \`agent-runtime import\`, or task n of the goal named in the same call.`,
      );
    },

    /** Resolves every reference of a list (dependencies), keeping task ids as they are. */
    async tasks(refs: readonly string[], goalId?: string): Promise<string[]> {
      return Promise.all(refs.map((r) => this.task(r, goalId)));
    },

    async register(entries: AliasEntry[], requestId?: string): Promise<RegisterAliasesResult> {
      for (const e of entries) TaskIdSchema.parse(e.taskId);
      const out: RegisterAliasesResult = { added: 0, unchanged: 0, conflicts: [] };
      for (let i = 0; i < entries.length; i += 5_000) {
        const chunk = entries.slice(i, i + 5_000);
        const r = await goals.withClient(async (client) => {
          const start = new WithStartWorkflowOperation<typeof idAliasesWorkflow>('idAliasesWorkflow', {
            workflowId,
            taskQueue: goals.taskQueue,
            workflowIdConflictPolicy: 'USE_EXISTING',
            args: [{ state: { tasks: {} } } satisfies AliasesWorkflowInput],
            typedSearchAttributes: [
              { key: AR_ENTITY, value: 'aliases' },
              { key: AR_NAME, value: 'imported task numbers' },
            ],
            staticSummary: 'Numeric ids of imported tasks and steps',
          });
          return client.workflow.executeUpdateWithStart(registerAliasesUpdate, {
            args: [{ entries: chunk }],
            updateId: requestId ? `${requestId}:${i}` : randomUUID(),
            startWorkflowOperation: start,
          });
        }, 'The registry of imported task numbers');
        out.added += r.added;
        out.unchanged += r.unchanged;
        out.conflicts.push(...r.conflicts);
      }
      return out;
    },
  };
}

export type AliasesClient = ReturnType<typeof createAliasesClient>;
