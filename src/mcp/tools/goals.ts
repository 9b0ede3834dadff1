/**
 * Toolset `goals`: agent-runtime-mcp's nine tools with its names and arguments, plus `heartbeat` (DESIGN §4).
 * Each handler maps its arguments to one client call and the answer to structuredContent.
 */
import { z } from 'zod';
import { AppError } from '../../client/errors';
import { createAgentsClient } from '../../client/agents';
import { createAssigner } from '../../client/assign';
import { createBreakersClient } from '../../client/breakers';
import { SETTABLE_STATUSES } from '../../client/goals';
import {
  DecomposeStrategySchema,
  GoalStatusSchema,
  GoalSummarySchema,
  HeartbeatResultSchema,
  LIMITS,
  TaskSchema,
  TaskSpecSchema,
  TASK_STATUSES,
  TaskStatusSchema,
  type Task,
  type TaskSpec,
} from '../../domain/schemas';
import { AgentAliasArgs, AgentIdArg, GoalIdArg, namedAgent, TaskRefArg } from '../compat/ids';
import {
  callerIdentity,
  defineTool,
  holderOnly,
  RequestIdArg,
  resolveAgent,
  type ToolDef,
  type ToolDeps,
} from './common';

/** Where create_task puts a task given no goal_id. */
export const INBOX_GOAL_ID = 'inbox';

const AgentArg = AgentIdArg.optional().describe(
  'Your agent identity. Defaults to AGENT_ID of this MCP server (stdio) or your HTTP identity.',
);

/** agent-runtime-mcp answers with the task's own fields at the top level; the nested `task` stays for our users. */
const TaskResultSchema = TaskSchema.extend({ task: TaskSchema });
const withTask = (task: z.infer<typeof TaskSchema>) => ({ ...task, task });

/** Whom an owner action of a caller without identity was done for (null when the caller named itself). */
const ActedAsField = z
  .string()
  .nullable()
  .describe('You gave no identity, so the action was done for this holder of the task.');

const ClaimOutcomeSchema = z.object({
  claimed: z.boolean(),
  task: TaskSchema.nullable(),
  lease_token: z.number().nullable().describe('Fencing token of this claim; pass it back with update_task_status.'),
  lease_expires_at: z.string().nullable().describe('When the lease ends unless you heartbeat; null = no expiry.'),
  goal_id: z.string().nullable(),
  reason: z.string().nullable().describe('Why nothing was claimed, when claimed is false.'),
});
/** The claimed task's fields at the top level (as agent-runtime-mcp returns them), or `message` when none. */
const ClaimResultSchema = TaskSchema.partial()
  .extend(ClaimOutcomeSchema.shape)
  .extend({
    message: z.string().optional().describe('"No tasks available in queue" and why, when nothing was claimed.'),
  });

/** AgentCoordinator's priority words as numbers on our 0-100 scale. */
export const PRIORITY_WORDS = { low: 2, normal: 5, high: 8, urgent: 10 } as const;
export const PriorityArg = z
  .union([
    z.int().min(LIMITS.priorityMin).max(LIMITS.priorityMax),
    z.enum(Object.keys(PRIORITY_WORDS) as [keyof typeof PRIORITY_WORDS]),
  ])
  .default(5)
  .transform((p) => (typeof p === 'number' ? p : PRIORITY_WORDS[p]))
  .describe('0-100 (higher first), or low | normal | high | urgent.');

/**
 * Creates tasks in a goal; a goal named by default (the inbox, a codebase's goal) is created on first use, tolerating a
 * concurrent creator.
 */
export async function createInGoal(
  goals: ToolDeps['goals'],
  goalId: string,
  specs: TaskSpec[],
  requestId: string | undefined,
  source: string,
  createIfMissing: boolean,
): Promise<Task[]> {
  const create = () => goals.createTasks(goalId, specs, requestId, source);
  try {
    return await create();
  } catch (err) {
    if (!createIfMissing || !(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
    const inbox = goalId === INBOX_GOAL_ID;
    await goals
      .createGoal({
        goalId,
        name: inbox ? 'Inbox' : `Codebase ${goalId}`,
        description: inbox ? 'Tasks created without a goal.' : `Tasks of codebase ${goalId} created without a goal.`,
      })
      .catch((e: unknown) => {
        if (!(e instanceof AppError && e.code === 'CONFLICT')) throw e;
      });
    return create();
  }
}

export function goalTools(deps: ToolDeps): ToolDef[] {
  const { goals } = deps;
  const breakers = createBreakersClient(goals);
  const agents = createAgentsClient(goals);
  const assigner = createAssigner(goals, agents);
  const autoRecord = deps.breakerAutoRecord !== false;
  const toolsets = ['goals'];
  return [
    defineTool({
      name: 'create_goal',
      title: 'Create goal',
      description:
        'Create a durable goal: a container of tasks that survives restarts and sessions. Then break it into tasks with decompose_goal or create_task. lease_seconds > 0 makes every claim expire unless its agent heartbeats; 0 (default) lets a task stay in progress until its agent comes back.',
      toolsets,
      input: z.object({
        name: z.string().trim().min(1).max(LIMITS.nameLength).describe('Short name of the goal.'),
        description: z.string().max(LIMITS.descriptionLength).default('').describe('What done looks like.'),
        metadata: z.record(z.string(), z.unknown()).optional().describe('Free-form JSON kept with the goal.'),
        lease_seconds: z
          .int()
          .min(0)
          .max(LIMITS.leaseSecondsMax)
          .optional()
          .describe('Default claim lease; 0 = no expiry.'),
        goal_id: GoalIdArg.optional().describe('Choose the id yourself (letters, digits, . _ -); generated otherwise.'),
        request_id: RequestIdArg,
      }),
      output: GoalSummarySchema.extend({ goal_id: z.string(), goal: GoalSummarySchema }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a) {
        if (a.metadata && JSON.stringify(a.metadata).length > LIMITS.metadataBytes) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `metadata must serialise to at most ${LIMITS.metadataBytes} bytes of JSON.`,
          );
        }
        const goal = await goals.createGoal({
          name: a.name,
          description: a.description,
          metadata: a.metadata,
          leaseSeconds: a.lease_seconds,
          goalId: a.goal_id,
          requestId: a.request_id,
        });
        return { ...goal, goal_id: goal.id, goal };
      },
    }),
    defineTool({
      name: 'decompose_goal',
      title: 'Decompose goal into tasks',
      description:
        'Break a goal into tasks in one atomic step. Either pick a template strategy — sequential (research → plan → implement → test → document, each after the previous), parallel (backend, frontend, testing at once) or hierarchical (four phases) — or submit your own plan in `tasks`, with dependencies given as indexes into that list. The prompt plan_goal helps write a plan.',
      toolsets,
      input: z.object({
        goal_id: GoalIdArg,
        strategy: DecomposeStrategySchema.default('sequential'),
        tasks: z
          .array(TaskSpecSchema)
          .max(LIMITS.tasksPerCall)
          .optional()
          .describe('Your own plan; `dependencies` are indexes into this list (or existing task ids).'),
        request_id: RequestIdArg,
      }),
      output: z.object({
        goal_id: z.string(),
        strategy: z.string(),
        tasks_created: z.array(z.string()).describe('The new task ids, in plan order.'),
        count: z.number(),
        tasks: z.array(TaskSchema),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a) {
        const tasks = await goals.decomposeGoal(a.goal_id, a.strategy, a.tasks, a.request_id);
        return {
          goal_id: a.goal_id,
          strategy: a.tasks?.length ? 'plan' : a.strategy,
          tasks_created: tasks.map((t) => t.id),
          count: tasks.length,
          tasks,
        };
      },
    }),
    defineTool({
      name: 'create_task',
      title: 'Create task',
      description:
        'Add one task to a goal (or to the shared "inbox" goal when goal_id is omitted). It becomes ready when its dependencies (task ids of the same goal) are completed. Higher priority (0-100, default 5) is claimed first.',
      toolsets,
      input: z.object({
        title: z.string().trim().min(1).max(LIMITS.titleLength),
        goal_id: GoalIdArg.optional(),
        description: z.string().max(LIMITS.descriptionLength).optional(),
        priority: PriorityArg,
        dependencies: z
          .array(TaskRefArg)
          .max(LIMITS.dependenciesPerTask)
          .optional()
          .describe('Tasks of the same goal that must complete first: task ids, or task numbers.'),
        scope: z.string().min(1).max(LIMITS.fileLength).optional().describe('Area of the codebase, e.g. "src/api".'),
        tags: z
          .array(z.string().min(1).max(LIMITS.tagLength))
          .max(LIMITS.tagsPerTask)
          .optional()
          .describe('Capabilities an agent needs to take it.'),
        files: z.array(z.string().min(1).max(LIMITS.fileLength)).max(LIMITS.filesPerTask).optional(),
        agent_id: AgentArg.describe('Who creates the task (AgentCoordinator).'),
        codebase_id: GoalIdArg.optional().describe(
          'The codebase: without goal_id the task goes to the goal of that id, and it is pushed to a fitting agent of it.',
        ),
        file_paths: z.array(z.string().min(1).max(LIMITS.fileLength)).max(LIMITS.filesPerTask).optional(),
        required_capabilities: z
          .array(z.string().min(1).max(LIMITS.tagLength))
          .max(LIMITS.tagsPerTask)
          .optional()
          .describe('Every one of these an agent must have; the task is pushed to an idle agent that has them.'),
        request_id: RequestIdArg,
      }),
      output: TaskResultSchema.extend({
        status: z.enum([...TASK_STATUSES, 'assigned', 'queued']),
        task_status: TaskStatusSchema.optional().describe('The task’s own state when status speaks of its push.'),
        assigned_to: z.string().nullable().optional().describe('The agent the task was pushed to.'),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a, ctx) {
        const goalId = a.goal_id ?? a.codebase_id ?? INBOX_GOAL_ID;
        const required = a.required_capabilities ?? [];
        const creator = callerIdentity(a.agent_id, ctx);
        // AgentCoordinator's call (a codebase or required capabilities) is pushed to a fitting agent, else queued.
        const pushing = a.codebase_id !== undefined || a.required_capabilities !== undefined;
        const candidates = pushing ? await assigner.candidates({ codebaseId: a.codebase_id, required }) : [];
        const first = candidates[0]?.agent_id;
        const spec = {
          title: a.title,
          description: a.description,
          priority: a.priority,
          dependencies: a.dependencies && (await deps.refs.tasks(a.dependencies, goalId)),
          scope: a.scope,
          tags: a.tags || required.length > 0 ? [...new Set([...(a.tags ?? []), ...required])] : undefined,
          files: a.files || a.file_paths ? [...new Set([...(a.files ?? []), ...(a.file_paths ?? [])])] : undefined,
          metadata:
            creator || first
              ? { ...(creator ? { created_by: creator } : {}), ...(first ? { assigned_to: first } : {}) }
              : undefined,
        };
        const [task] = await createInGoal(goals, goalId, [spec], a.request_id, 'create_task', a.goal_id === undefined);
        const created = task as z.infer<typeof TaskSchema>;
        if (!pushing) return withTask(created);
        // A retried request_id answers the task it created first, assigned to whom it was then: deliver to that agent.
        const assignee = typeof created.metadata.assigned_to === 'string' ? created.metadata.assigned_to : undefined;
        const order = [
          ...(assignee ? [{ agent_id: assignee }] : []),
          ...candidates.filter((c) => c.agent_id !== assignee),
        ];
        // Handed to its agent's waiting claim in the workflow task that created it: the agent holds it already, so
        // it does not go into the agent's inbox as well.
        const heldByAssignee = created.agent_id === assignee && created.status === 'claimed';
        const assignedTo = !assignee
          ? null
          : heldByAssignee
            ? assignee
            : await assigner.deliver(created, order, { codebaseId: a.codebase_id, required });
        return {
          ...withTask(created),
          status: assignedTo ? ('assigned' as const) : ('queued' as const),
          task_status: created.status,
          assigned_to: assignedTo,
        };
      },
    }),
    defineTool({
      name: 'get_next_task',
      title: 'Claim the next task',
      description:
        'Atomically claim the best ready task for you: highest priority first, then oldest; from one goal or from any goal. Returns the task with a lease_token (pass it back when you update the task) and lease_expires_at (heartbeat before then). claimed=false with a reason when there is no work; wait_seconds waits for work to become ready. Next: update_task_status(task_id, "in_progress").',
      toolsets,
      input: z.object({
        agent_id: AgentArg,
        ...AgentAliasArgs,
        goal_id: GoalIdArg.optional(),
        scope: z.string().min(1).max(LIMITS.fileLength).optional().describe('Only tasks in this scope (or below it).'),
        tags: z
          .array(z.string().min(1).max(LIMITS.tagLength))
          .max(LIMITS.tagsPerTask)
          .optional()
          .describe('Your capabilities: tasks asking for other tags are skipped.'),
        wait_seconds: z.number().min(0).max(LIMITS.waitSecondsMax).optional(),
        lease_seconds: z
          .int()
          .min(0)
          .max(LIMITS.leaseSecondsMax)
          .optional()
          .describe('Override the goal’s lease for this claim.'),
        request_id: RequestIdArg,
      }),
      output: ClaimResultSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a, ctx) {
        const agentId = resolveAgent(namedAgent(a), ctx);
        // BREAKER_OPEN (with time left and fallback) while the agent is out of rotation. A claim that can be undone
        // (on one goal, with no wait and no request_id) does not wait for the breaker's read: it goes out beside it,
        // and is sent back if the read keeps the agent from work. A registered agent's row notes only the claim kept.
        const undoable = a.goal_id !== undefined && a.wait_seconds === undefined && a.request_id === undefined;
        const beside = undoable ? breakers.admitsBeside(agentId) : undefined;
        if (!beside) await breakers.admit(agentId);
        // A registered agent takes only tasks whose required capabilities it has.
        const tags = a.tags ?? (agents.seemsRegistered(agentId) ? await agents.capabilities(agentId) : undefined);
        if (a.goal_id === undefined && agents.seemsRegistered(agentId)) {
          // A registered agent takes what was pushed to it first (the goal only lets it claim its own).
          for (const ref of await agents.inbox(agentId)) {
            try {
              const r = await goals.claimTask(ref.task_id, agentId, a.lease_seconds, a.request_id);
              if (r.task) {
                await agents.noteTask(agentId, { took: { id: r.task.id, title: r.task.title } });
                return { ...r.task, ...r, claimed: true, goal_id: ref.goal_id, reason: null };
              }
            } catch (err) {
              if (!(err instanceof AppError)) throw err;
            }
            // Not claimable now: still waiting on its dependencies (keep it), or taken or gone (drop it).
            const now = await goals.getTask(ref.task_id).catch(() => undefined);
            if (now && (now.status === 'pending' || now.status === 'blocked')) continue;
            await agents.pop(agentId, ref.task_id).catch(() => undefined);
          }
        }
        const claim = () =>
          goals.claimNextTask({
            agentId,
            goalId: a.goal_id,
            scope: a.scope,
            tags,
            waitSeconds: a.wait_seconds,
            leaseSeconds: a.lease_seconds,
            requestId: a.request_id,
            signal: ctx.signal,
          });
        let outcome = await claim();
        if (beside && !(await beside)) {
          await goals.undoClaim(agentId, outcome);
          await breakers.admit(agentId);
          outcome = await claim();
        }
        // A registered agent is alive, and busy with what it took (a Signal the claim waits for the server to take).
        // A claim made ahead by the agent's last completion was noted with that completion (assign.ts, noteFinished).
        if (goals.wasReserved(outcome)) void agents.touch(agentId);
        else if (outcome.task)
          await agents.noteTask(agentId, { took: { id: outcome.task.id, title: outcome.task.title } });
        else void agents.touch(agentId);
        return outcome.task
          ? { ...outcome.task, ...outcome }
          : { ...outcome, message: `No tasks available in queue: ${outcome.reason}` };
      },
    }),
    defineTool({
      name: 'update_task_status',
      title: 'Update task status',
      description:
        'Move your task along: "in_progress" when you start (claims it if it is ready), "completed" with a result, "failed" with an error, "cancelled", or "pending" to hand it back to the queue (a failed or cancelled task is retried). Only the agent holding the task may start, complete, fail or release it.',
      toolsets,
      input: z.object({
        task_id: TaskRefArg,
        status: z.enum(SETTABLE_STATUSES),
        result: z.string().max(LIMITS.resultLength).optional(),
        error: z.string().max(LIMITS.resultLength).optional(),
        agent_id: AgentArg,
        ...AgentAliasArgs,
        lease_token: z.int().min(1).optional().describe('The lease_token of your claim; a stale one is refused.'),
        request_id: RequestIdArg,
      }),
      output: TaskResultSchema.extend({ acted_as: ActedAsField }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        const taskId = await deps.refs.task(a.task_id);
        const identity = callerIdentity(namedAgent(a), ctx);
        // A completion records a success on the agent's breaker when it has one: that read goes out beside the Update.
        if (autoRecord && a.status === 'completed' && identity !== undefined) breakers.readAhead(identity);
        // A caller without identity acts for the holder; a release clears the holder, so read it first.
        const holderBefore =
          identity === undefined && a.lease_token === undefined && (a.status === 'pending' || a.status === 'ready')
            ? (await goals.getTask(taskId)).agent_id
            : null;
        const task = await goals.setTaskStatus({
          taskId,
          status: a.status,
          agentId: identity,
          result: a.result,
          error: a.error,
          leaseToken: a.lease_token,
          requestId: a.request_id,
          holderOnly: holderOnly(ctx),
        });
        const actedAs = identity === undefined ? (task.agent_id ?? holderBefore) : null;
        const agentId = identity ?? actedAs ?? resolveAgent(undefined, ctx);
        if (a.status !== 'in_progress') await assigner.noteFinished(agentId, task.id, a.status === 'completed');
        if (autoRecord && a.status === 'failed') {
          await breakers.recordOnTheSide(
            agentId,
            { failureType: 'exception', errorMessage: `${task.id}: ${a.error ?? a.result ?? 'failed'}` },
            a.request_id && `${a.request_id}:breaker`,
          );
        } else if (autoRecord && a.status === 'completed') {
          await breakers.recordOnTheSide(agentId, 'success', a.request_id && `${a.request_id}:breaker`);
        }
        return { ...withTask(task), acted_as: actedAs };
      },
    }),
    defineTool({
      name: 'heartbeat',
      title: 'Heartbeat',
      description:
        'Tell the runtime you are still working: extends the lease on one task (task_id or step_id) or on every task you hold. Call it well before lease_expires_at; a task whose lease runs out goes back to the queue and your later updates on it are refused with LEASE_LOST.',
      toolsets: ['goals', 'projects'],
      input: z.object({
        agent_id: AgentArg,
        ...AgentAliasArgs,
        task_id: TaskRefArg.optional(),
        step_id: TaskRefArg.optional().describe('Same as task_id (hq’s name).'),
        request_id: RequestIdArg,
      }),
      output: HeartbeatResultSchema.extend({ ok: z.literal(true) }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        if (a.task_id && a.step_id && a.task_id !== a.step_id) {
          throw new AppError('INVALID_ARGUMENT', 'task_id and step_id name the same thing; give one of them.');
        }
        const ref = a.task_id ?? a.step_id;
        const identity = callerIdentity(namedAgent(a), ctx);
        if (ref === undefined && identity === undefined) {
          throw new AppError(
            'INVALID_ARGUMENT',
            'heartbeat needs the task (task_id or step_id) or your agent_id (to extend every task you hold).',
          );
        }
        if (identity !== undefined) void agents.touch(identity); // a heartbeat keeps a registered agent online
        const beat = await goals.heartbeat(
          identity,
          ref === undefined ? undefined : await deps.refs.task(ref),
          a.request_id,
        );
        return { ok: true as const, ...beat };
      },
    }),
    defineTool({
      name: 'list_goals',
      title: 'List goals',
      description: 'List goals with their progress and task counts, newest first; filter by status.',
      toolsets,
      input: z.object({
        status: GoalStatusSchema.optional(),
        limit: z.int().min(1).max(LIMITS.listLimitMax).default(50),
      }),
      output: z.object({ count: z.number(), goals: z.array(GoalSummarySchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const list = await goals.listGoals(a.status, a.limit);
        return { count: list.length, goals: list };
      },
    }),
    defineTool({
      name: 'list_tasks',
      title: 'List tasks',
      description:
        'List the tasks of a goal (or of all running goals), in creation order; filter by status. A page holds up to limit (50, at most 1,000); next_cursor fetches the next.',
      toolsets,
      input: z.object({
        goal_id: GoalIdArg.optional(),
        status: TaskStatusSchema.optional(),
        limit: z.int().min(1).default(50),
        cursor: z.string().min(1).max(500).optional().describe('next_cursor of the previous page.'),
      }),
      output: z.object({
        count: z.number(),
        tasks: z.array(TaskSchema),
        next_cursor: z.string().nullable(),
        note: z.string().optional(),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const limit = Math.min(a.limit, LIMITS.listLimitMax);
        const page = await goals.listTasksPage(a.goal_id, a.status, limit, a.cursor);
        const notes = [
          ...(a.limit > limit ? [`limit is capped at ${LIMITS.listLimitMax}.`] : []),
          ...(page.nextCursor ? [`More tasks follow: call again with cursor="${page.nextCursor}".`] : []),
        ];
        return {
          count: page.tasks.length,
          tasks: page.tasks,
          next_cursor: page.nextCursor,
          ...(notes.length > 0 ? { note: notes.join(' ') } : {}),
        };
      },
    }),
    defineTool({
      name: 'get_goal',
      title: 'Get goal',
      description: 'Read a goal with its progress, task counts and every task.',
      toolsets,
      input: z.object({ goal_id: GoalIdArg }),
      output: GoalSummarySchema.extend({ goal: GoalSummarySchema, tasks: z.array(TaskSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const view = await goals.getGoal(a.goal_id);
        return { ...view.goal, ...view };
      },
    }),
    defineTool({
      name: 'get_task',
      title: 'Get task',
      description: 'Read one task: status, holder, lease, dependencies, attempts, result or error.',
      toolsets,
      input: z.object({ task_id: TaskRefArg }),
      output: TaskResultSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        return withTask(await goals.getTask(await deps.refs.task(a.task_id)));
      },
    }),
  ];
}
