/**
 * Toolset `agents` (AgentCoordinator's names and arguments; DESIGN §7): agents registered as durable workflows, kept
 * online by their calls and taken offline by a timer, with durable mailboxes and a board. `agent_id`, `agent` and
 * `worker_id` name the same thing everywhere.
 */
import { z } from 'zod';
import { createAgentsClient } from '../../client/agents';
import { AppError } from '../../client/errors';
import { AgentRowSchema, IMPORTANCE } from '../../domain/agents';
import { AgentIdSchema, LIMITS } from '../../domain/schemas';
import { AgentAliasArgs, AgentIdArg, namedAgent, TaskRefArg } from '../compat/ids';
import { createAssigner } from '../../client/assign';
import { createBreakersClient } from '../../client/breakers';
import type { TaskSpec } from '../../domain/schemas';
import { createInGoal, INBOX_GOAL_ID, PriorityArg } from './goals';
import {
  callerIdentity,
  defineTool,
  reasonBy,
  RequestIdArg,
  type ToolContext,
  type ToolDef,
  type ToolDeps,
} from './common';

/** The three names the seeds use for the calling agent. */
const WhoArgs = {
  agent_id: AgentIdArg.optional().describe('You (or: agent, worker_id).'),
  ...AgentAliasArgs,
};
function who(a: { agent_id?: string; agent?: string; worker_id?: string }, ctx: ToolContext): string {
  const agentId = callerIdentity(namedAgent(a), ctx);
  if (agentId === undefined) {
    throw new AppError('INVALID_ARGUMENT', 'Name the agent: agent_id (or agent, worker_id), or set AGENT_ID.');
  }
  return agentId;
}

/** An agent id from a name: the name itself when it is a valid id, else a readable slug of it. */
export function agentIdFor(name: string): string {
  const trimmed = name.trim();
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(trimmed)) return trimmed;
  return (
    trimmed
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'agent'
  );
}

const Capabilities = z.array(z.string().trim().min(1).max(LIMITS.tagLength)).max(LIMITS.tagsPerTask);
const MessageSchema = z.object({
  id: z.string(),
  seq: z.number(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  body: z.string(),
  thread_id: z.string().nullable(),
  importance: z.enum(IMPORTANCE),
  ack_required: z.boolean(),
  sent_at: z.string(),
  acked_at: z.string().nullable(),
  read_at: z.string().nullable().optional().describe('When a fetch first answered with it (null: this is the first).'),
});

const TaskInput = {
  title: z.string().trim().min(1).max(LIMITS.titleLength),
  description: z.string().max(LIMITS.descriptionLength).optional(),
  priority: PriorityArg,
  file_paths: z.array(z.string().min(1).max(LIMITS.fileLength)).max(LIMITS.filesPerTask).optional(),
  required_capabilities: z.array(z.string().min(1).max(LIMITS.tagLength)).max(LIMITS.tagsPerTask).optional(),
};
const taskSpec = (
  t: { title: string; description?: string; priority: number; file_paths?: string[]; required_capabilities?: string[] },
  agentId: string,
): TaskSpec => ({
  title: t.title,
  description: t.description,
  priority: t.priority,
  files: t.file_paths,
  tags: t.required_capabilities,
  metadata: { assigned_to: agentId },
});
const PlannedSchema = z.object({
  task_id: z.string(),
  goal_id: z.string(),
  title: z.string(),
  priority: z.number(),
  pushed_at: z.string(),
});
const HistorySchema = z.object({
  task_id: z.string(),
  title: z.string(),
  event: z.enum(['taken', 'completed', 'finished']),
  at: z.string(),
});
const PushedSchema = z.object({
  agent_id: z.string(),
  tasks: z.array(z.object({ id: z.string(), title: z.string(), priority: z.number(), status: z.string() })),
  pending_tasks: z.number(),
});

export function agentTools(deps: ToolDeps): ToolDef[] {
  const agents = createAgentsClient(deps.goals);
  const assigner = createAssigner(deps.goals, agents);
  const breakers = createBreakersClient(deps.goals);
  const autoRecord = deps.breakerAutoRecord !== false;
  /** Creates tasks already assigned to the agent (one atomic step in its codebase's goal), then fills its inbox. */
  const pushTasks = async (agentId: string, specs: TaskSpec[], requestId: string | undefined, source: string) => {
    const row = await agents.row(agentId); // NOT_FOUND before anything is created
    const goalId = row.codebase_id ?? INBOX_GOAL_ID;
    const tasks = await createInGoal(deps.goals, goalId, specs, requestId, source, true);
    for (const t of tasks) await assigner.pushTo(agentId, t);
    const after = await agents.row(agentId);
    return {
      agent_id: agentId,
      tasks: tasks.map((t) => ({ id: t.id, title: t.title, priority: t.priority, status: t.status })),
      pending_tasks: after.pending_tasks,
    };
  };
  const toolsets = ['agents'];
  const mutating = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
  return [
    defineTool({
      name: 'register_agent',
      title: 'Register an agent',
      description:
        'Register yourself as an agent with your capabilities. Registration is durable: re-registering after a crash resumes the same agent with its messages. You stay online while you call any tool (heartbeat when idle); after agent_ttl_seconds (60) without a call you are offline, and after offline_grace_seconds (300) more your claimed tasks go back to the pool.',
      toolsets,
      input: z.object({
        name: z.string().trim().min(1).max(LIMITS.nameLength).describe('Your name; the agent id is derived from it.'),
        capabilities: Capabilities.min(1).describe('What you can do, e.g. ["typescript", "testing"].'),
        codebase_id: z.string().trim().min(1).max(LIMITS.nameLength).optional(),
        workspace_path: z.string().min(1).max(LIMITS.fileLength).optional(),
        cross_codebase_capable: z.boolean().optional(),
        tags: Capabilities.optional(),
        force: z.boolean().optional().describe('Take over a registration that is still online.'),
        agent_ttl_seconds: z
          .int()
          .min(1)
          .max(24 * 3600)
          .optional(),
        offline_grace_seconds: z
          .int()
          .min(0)
          .max(7 * 24 * 3600)
          .optional(),
        request_id: RequestIdArg,
      }),
      output: AgentRowSchema.extend({ session_token: z.string() }),
      annotations: { ...mutating, idempotentHint: false },
      async run(a) {
        const agentId = agentIdFor(a.name);
        AgentIdSchema.parse(agentId);
        const row = await agents.register(
          {
            agentId,
            name: a.name,
            capabilities: a.capabilities,
            tags: a.tags,
            codebaseId: a.codebase_id,
            workspacePath: a.workspace_path,
            crossCodebaseCapable: a.cross_codebase_capable,
            force: a.force,
            ttlSeconds: a.agent_ttl_seconds,
            graceSeconds: a.offline_grace_seconds,
          },
          a.request_id,
        );
        // A new (or returning) idle agent is offered the best queued task of its codebase it is capable of.
        const offered = row.status === 'idle' ? await assigner.offer(row) : null;
        return offered ? { ...row, pending_tasks: offered.row.pending_tasks } : row;
      },
    }),
    defineTool({
      name: 'unregister_agent',
      title: 'Unregister an agent',
      description:
        'Leave: always succeeds for a registered agent, even with a task in hand — its claimed tasks go back to the pool for others.',
      toolsets,
      input: z.object({ ...WhoArgs, reason: z.string().max(LIMITS.resultLength).optional(), request_id: RequestIdArg }),
      output: AgentRowSchema,
      annotations: { ...mutating, destructiveHint: true },
      async run(a, ctx) {
        const target = who(a, ctx);
        return agents.unregister(target, reasonBy(a.reason, target, ctx), a.request_id);
      },
    }),
    defineTool({
      name: 'send_message',
      title: 'Send a message',
      description:
        'Send a durable message to other agents (to: their agent ids, or ["*"] for every online agent of your codebase). Each recipient gets it exactly once, even if you retry with the same request_id.',
      toolsets,
      input: z.object({
        sender: AgentIdArg.optional().describe('You (defaults to your identity; also accepted as agent_id).'),
        ...WhoArgs,
        to: z
          .array(z.union([AgentIdSchema, z.literal('*')]))
          .min(1)
          .max(500),
        subject: z.string().max(LIMITS.titleLength).default(''),
        body: z.string().max(LIMITS.resultLength * 5),
        thread_id: z.string().max(200).optional(),
        importance: z.enum(IMPORTANCE).optional(),
        ack_required: z.boolean().optional(),
        request_id: RequestIdArg,
      }),
      output: z.object({
        message_id: z.string(),
        delivered_to: z.array(z.string()),
        not_delivered: z.array(z.object({ agent_id: z.string(), reason: z.string() })),
      }),
      annotations: { ...mutating, idempotentHint: false },
      async run(a, ctx) {
        const from = a.sender ?? who(a, ctx);
        void agents.touch(from);
        return agents.send({
          from,
          to: a.to,
          subject: a.subject,
          body: a.body,
          threadId: a.thread_id,
          importance: a.importance,
          ackRequired: a.ack_required,
          requestId: a.request_id,
        });
      },
    }),
    defineTool({
      name: 'fetch_inbox',
      title: 'Fetch your messages',
      description:
        'Your messages, oldest first, after `since` (a seq number or an ISO time). With wait_seconds it waits and answers the moment a message arrives. Acknowledge with acknowledge_message.',
      toolsets,
      input: z.object({
        ...WhoArgs,
        since: z.union([z.int().min(0), z.iso.datetime()]).optional(),
        limit: z.int().min(1).max(LIMITS.listLimitMax).default(20),
        urgent_only: z.boolean().optional(),
        wait_seconds: z.number().min(0).max(LIMITS.waitSecondsMax).optional(),
      }),
      output: z.object({ agent_id: z.string(), count: z.number(), messages: z.array(MessageSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a, ctx) {
        const agentId = who(a, ctx);
        void agents.touch(agentId);
        const messages = await agents.fetch(agentId, {
          since: a.since,
          limit: a.limit,
          urgentOnly: a.urgent_only,
          waitMs: a.wait_seconds ? Math.round(a.wait_seconds * 1000) : undefined,
        });
        return { agent_id: agentId, count: messages.length, messages };
      },
    }),
    defineTool({
      name: 'acknowledge_message',
      title: 'Acknowledge a message',
      description: 'Mark a message of your mailbox as read and handled.',
      toolsets,
      input: z.object({ ...WhoArgs, message_id: z.string().min(1).max(200), request_id: RequestIdArg }),
      output: z.object({ message: MessageSchema }),
      annotations: mutating,
      async run(a, ctx) {
        return { message: await agents.acknowledge(who(a, ctx), a.message_id, a.request_id) };
      },
    }),
    defineTool({
      name: 'create_agent_task',
      title: 'Give an agent a task',
      description:
        'Create a task straight in one agent’s inbox (in the goal of its codebase): only that agent may take it; its get_next_task returns it first.',
      toolsets,
      input: z.object({ ...WhoArgs, ...TaskInput, request_id: RequestIdArg }),
      output: PushedSchema,
      annotations: { ...mutating, idempotentHint: false },
      async run(a, ctx) {
        const agentId = who(a, ctx);
        return pushTasks(agentId, [taskSpec(a, agentId)], a.request_id, 'create_agent_task');
      },
    }),
    defineTool({
      name: 'register_task_set',
      title: 'Give an agent a set of tasks',
      description: 'Create several tasks at once, all in one agent’s inbox (one atomic step in its codebase’s goal).',
      toolsets,
      input: z.object({
        ...WhoArgs,
        task_set: z.array(z.object(TaskInput)).min(1).max(LIMITS.tasksPerCall),
        request_id: RequestIdArg,
      }),
      output: PushedSchema,
      annotations: { ...mutating, idempotentHint: false },
      async run(a, ctx) {
        const agentId = who(a, ctx);
        return pushTasks(
          agentId,
          a.task_set.map((t) => taskSpec(t, agentId)),
          a.request_id,
          'register_task_set',
        );
      },
    }),
    defineTool({
      name: 'complete_task',
      title: 'Complete your task',
      description: 'Complete your current task (or the one named) with its result; you are idle again.',
      toolsets,
      input: z.object({
        ...WhoArgs,
        task_id: TaskRefArg.optional(),
        result: z.string().max(LIMITS.resultLength).optional(),
        request_id: RequestIdArg,
      }),
      output: z.object({
        agent_id: z.string(),
        task_id: z.string(),
        status: z.string(),
        result: z.string().nullable(),
      }),
      annotations: { ...mutating, destructiveHint: true, idempotentHint: false },
      async run(a, ctx) {
        const agentId = who(a, ctx);
        if (autoRecord) breakers.readAhead(agentId); // read beside the Update (see update_task_status)
        let taskId: string;
        if (a.task_id) taskId = await deps.refs.task(a.task_id);
        else {
          const current = (await agents.row(agentId)).current_task?.id;
          // Not a task claimed ahead for the agent that it has not asked for yet (noted as its current task).
          if (current === undefined || current === deps.goals.reservedFor(agentId)?.claim.task?.id) {
            throw new AppError('CONFLICT', `Agent ${agentId} has no current task; name it with task_id.`);
          }
          taskId = current;
        }
        const task = await deps.goals.setTaskStatus({
          taskId,
          status: 'completed',
          agentId,
          result: a.result,
          requestId: a.request_id,
        });
        await assigner.noteFinished(agentId, task.id, true);
        // Like update_task_status: a success on the agent's breaker when it is not CLOSED (a HALF_OPEN probe done
        // here closes it, instead of leaving every later claim refused while the probe counts as in use).
        if (autoRecord) await breakers.recordOnTheSide(agentId, 'success', a.request_id && `${a.request_id}:breaker`);
        return { agent_id: agentId, task_id: task.id, status: task.status, result: task.result };
      },
    }),
    defineTool({
      name: 'get_detailed_task_board',
      title: 'Detailed task board',
      description:
        'The task board with, per agent, the tasks pushed to it and not taken yet (planned, best first) and what it recently took and finished. One read however many agents.',
      toolsets,
      input: z.object({
        agent_id: AgentIdArg.optional(),
        codebase_id: z.string().min(1).max(LIMITS.nameLength).optional(),
        include_task_details: z.boolean().default(true),
      }),
      output: z.object({
        count: z.number(),
        online: z.number(),
        agents: z.array(
          AgentRowSchema.extend({
            planned: z.array(PlannedSchema).optional(),
            recent: z.array(HistorySchema).optional(),
          }),
        ),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const rows = await agents.boardDetails(a.agent_id, a.codebase_id);
        return {
          count: rows.length,
          online: rows.filter((r) => r.row.online).length,
          agents: rows.map((r) =>
            a.include_task_details ? { ...r.row, planned: r.planned, recent: r.recent } : r.row,
          ),
        };
      },
    }),
    defineTool({
      name: 'get_agent_task_history',
      title: 'Agent task history',
      description: 'What one agent has planned (its inbox), holds now, and took and finished, newest first.',
      toolsets,
      input: z.object({
        ...WhoArgs,
        include_planned: z.boolean().default(true),
        include_completed: z.boolean().default(true),
        limit: z.int().min(1).max(LIMITS.listLimitMax).default(50),
      }),
      output: z.object({
        agent_id: z.string(),
        current_task: z.object({ id: z.string(), title: z.string() }).nullable(),
        planned: z.array(PlannedSchema),
        history: z.array(HistorySchema),
        completed_tasks: z.number(),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a, ctx) {
        const agentId = who(a, ctx);
        const state = await agents.work(agentId);
        const history = [...state.history]
          .reverse()
          .filter((h) => a.include_completed || h.event === 'taken')
          .slice(0, a.limit);
        return {
          agent_id: agentId,
          current_task: state.current_task,
          planned: a.include_planned ? state.inbox.slice(0, a.limit) : [],
          history,
          completed_tasks: state.completed_tasks,
        };
      },
    }),
    defineTool({
      name: 'get_task_board',
      title: 'Task board',
      description:
        'One row per registered agent: status (idle, busy, offline), online, capabilities, codebase, current task and thought, unread messages, completed tasks, last call. One read however many agents.',
      toolsets,
      input: z.object({
        agent_id: AgentIdArg.optional(),
        codebase_id: z.string().min(1).max(LIMITS.nameLength).optional(),
      }),
      output: z.object({ count: z.number(), online: z.number(), agents: z.array(AgentRowSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const rows = await agents.board(a.agent_id, a.codebase_id);
        return { count: rows.length, online: rows.filter((r) => r.online).length, agents: rows };
      },
    }),
  ];
}
