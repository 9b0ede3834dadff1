/**
 * Toolset `task-graph` (task-graph-mcp 0.2.2's 35 tools, same names and arguments; DESIGN §7): a workspace of tasks
 * with typed dependencies, phases, tags, gates, file marks bound to claims, metrics and read-only SQL. `worker_id`,
 * `agent` and `agent_id` name the caller on every tool. `claim` without `task` takes the best ready task atomically.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { createAgentsClient } from '../../client/agents';
import { AppError } from '../../client/errors';
import { createWorkspacesClient, DEFAULT_WORKSPACE, type TaskDetail } from '../../client/workspaces';
import { DEP_TYPES, TG_SKILLS, TG_WORKFLOWS, workflowNamed } from '../../domain/tg-config';
import { normalizePath, type WsTask } from '../../domain/workspace';
import * as S from '../../domain/workspace-schemas';
import * as M from '../../workflows/workspace-messages';
import { runSql, schema, SQL_ROWS_MAX, toTables } from '../../taskgraph/sql';
import {
  callerIdentity,
  defineTool,
  reasonBy,
  RequestIdArg,
  type ToolContext,
  type ToolDef,
  type ToolDeps,
} from './common';

const toolsets = ['task-graph'];
const Out = z.looseObject({});
const mutating = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;
const reading = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const WorkspaceArg = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
  .optional();
const Who = {
  worker_id: S.WorkerIdSchema.optional().describe('You (or: agent, agent_id).'),
  agent: S.WorkerIdSchema.optional(),
  agent_id: S.WorkerIdSchema.optional(),
};
const TaskArg = z.union([S.WsIdSchema, z.number().int().nonnegative()]).transform(String);
const OneOrMany = z.union([z.string().min(1).max(1024), z.array(z.string().min(1).max(1024)).min(1).max(1000)]);
const many = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
const Status = z.union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(20)]);
const DepType = z.enum(Object.keys(DEP_TYPES) as [string, ...string[]]);
const Seconds = z
  .number()
  .int()
  .min(1)
  .max(7 * 24 * 3600);
const LeaseSecondsArg = Seconds.optional().describe('How long your claim lives without a call from you (default 300).');
const TagList = z.array(z.string().trim().min(1).max(64)).max(32);
/** The task fields create and update share (upstream's names; priority also as a word). */
const TaskFields = {
  priority: z.union([z.number().int().min(0).max(10), z.enum(['low', 'medium', 'high', 'critical'])]).optional(),
  points: z.number().int().min(0).max(1000).optional(),
  time_estimate_ms: z.number().int().min(0).optional(),
  tags: TagList.optional(),
  needed_tags: TagList.optional(),
  wanted_tags: TagList.optional(),
};
/** Seconds as the milliseconds the workspace takes. */
const ms = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : seconds * 1000);

interface WhoArgs {
  worker_id?: string;
  agent?: string;
  agent_id?: string;
  workspace?: string;
}

/** The one worker named by worker_id, agent or agent_id, else the caller's identity. */
function named(a: WhoArgs, ctx: ToolContext): string | undefined {
  const given = [a.worker_id, a.agent, a.agent_id].filter((x): x is string => x !== undefined);
  if (new Set(given).size > 1)
    throw new AppError('INVALID_ARGUMENT', 'worker_id, agent and agent_id name the same worker; give one.');
  return callerIdentity(given[0], ctx);
}
function required(a: WhoArgs, ctx: ToolContext): string {
  const w = named(a, ctx);
  if (!w)
    throw new AppError(
      'INVALID_ARGUMENT',
      'Name the worker: worker_id (or agent), as connect returned it, or set AGENT_ID.',
    );
  return w;
}

const ADJECTIVES = [
  'amber',
  'brisk',
  'calm',
  'deft',
  'eager',
  'fleet',
  'glad',
  'keen',
  'lucid',
  'nimble',
  'quiet',
  'swift',
];
const NOUNS = ['badger', 'crane', 'falcon', 'heron', 'lynx', 'otter', 'panda', 'raven', 'seal', 'tiger', 'wren', 'yak'];
const readableId = (): string =>
  `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(100, 1000)}`;

/** A task row as task-graph-mcp shows it. */
function row(t: WsTask) {
  return {
    id: t.id,
    title: t.title,
    status: t.status,
    phase: t.phase,
    priority: t.priority,
    points: t.points,
    parent_id: t.parent,
    worker_id: t.worker_id,
    assignee: t.assignee,
    claimed_at: t.claimed_at,
    started_at: t.started_at,
    completed_at: t.completed_at,
    created_at: t.created_at,
    updated_at: t.updated_at,
    tags: t.tags,
    needed_tags: t.needed_tags,
    wanted_tags: t.wanted_tags,
    time_estimate_ms: t.time_estimate_ms,
    time_actual_ms: t.time_actual_ms,
    cost_usd: t.cost_usd,
    attachment_counts: t.att,
  };
}

function withDetail(t: WsTask, d: TaskDetail | undefined) {
  return {
    ...row(t),
    description: d?.description ?? null,
    attachments: (d?.attachments ?? []).map((a, n) => ({
      sequence: n + 1,
      type: a.type,
      name: a.name,
      mime: a.mime,
      created_at: a.at,
    })),
  };
}

export function taskGraphTools(
  deps: ToolDeps,
  defaultWorkspace = process.env.AGENT_RUNTIME_WORKSPACE || DEFAULT_WORKSPACE,
): ToolDef[] {
  const wsc = createWorkspacesClient(deps.goals);
  const agents = createAgentsClient(deps.goals);
  const wsOf = (a: { workspace?: string }): string => a.workspace ?? defaultWorkspace;
  // Any call of a worker keeps it online in the agent registry (its liveness timer), like every other toolset's.
  const who = (a: WhoArgs, ctx: ToolContext): string | undefined => {
    const w = named(a, ctx);
    if (w !== undefined) void agents.touch(w);
    return w;
  };
  const need = (a: WhoArgs, ctx: ToolContext): string => {
    const w = required(a, ctx);
    void agents.touch(w);
    return w;
  };
  const up = <R>(
    a: { workspace?: string; request_id?: string },
    def: Parameters<typeof wsc.update<R>>[1],
    arg: Record<string, unknown>,
  ) => wsc.update<R>(wsOf(a), def, arg, a.request_id);
  const one = async (ws: string, id: string) => {
    const [v] = await wsc.getTasks(ws, [id]);
    if (!v)
      throw new AppError('NOT_FOUND', `No task "${id}" in workspace ${ws}. list_tasks() shows the tasks there are.`);
    return v;
  };
  const common = { workspace: WorkspaceArg };
  const changing = { ...common, request_id: RequestIdArg };

  const tools: ToolDef[] = [
    // ---------------------------------------------------------------- workers
    defineTool({
      name: 'connect',
      title: 'Connect as a worker',
      description:
        'Join the workspace as a worker (same registry as register_agent). Returns your worker_id (a readable one is made if you give none) and the workflow: states, phases, dependency types and role guidance. Reconnecting with the same worker_id resumes.',
      toolsets,
      input: z.object({
        ...changing,
        worker_id: S.WorkerIdSchema.optional(),
        agent: S.WorkerIdSchema.optional(),
        tags: TagList.optional().describe('What you can do; tasks need_tags/want_tags match these.'),
        workflow: z
          .string()
          .min(1)
          .max(64)
          .optional()
          .describe(`One of ${Object.keys(TG_WORKFLOWS).join(', ')} (default "default").`),
        force: z.boolean().optional().describe('Take over a worker id that is still connected elsewhere.'),
      }),
      output: Out,
      annotations: { ...mutating, idempotentHint: true },
      async run(a, ctx) {
        if (a.workflow !== undefined && !TG_WORKFLOWS[a.workflow]) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `Unknown workflow "${a.workflow}"; list_workflows shows ${Object.keys(TG_WORKFLOWS).join(', ')}.`,
          );
        }
        const workerId = a.worker_id ?? a.agent ?? ctx.agentId ?? readableId();
        const tags = a.tags ?? [];
        await agents.register(
          {
            agentId: workerId,
            name: workerId,
            capabilities: tags.length > 0 ? tags : ['task-graph'],
            tags,
            force: true,
          },
          a.request_id ? `${a.request_id}:agent` : undefined,
        );
        const w = await up<M.WsWorkerResult>(a, M.wsConnectUpdate, { worker_id: workerId, tags, workflow: a.workflow });
        const wf = workflowNamed(w.workflow);
        return {
          worker_id: w.id,
          workspace: wsOf(a),
          tags: w.tags,
          workflow: wf.name,
          states: Object.fromEntries(
            Object.entries(wf.states).map(([n, d]) => [n, { exits: d.exits, timed: d.timed }]),
          ),
          initial_state: wf.initial_state,
          phases: wf.phases,
          dependency_types: Object.fromEntries(Object.entries(DEP_TYPES).map(([n, d]) => [n, d.description])),
          roles: wf.roles,
        };
      },
    }),
    defineTool({
      name: 'disconnect',
      title: 'Disconnect a worker',
      description:
        'Leave the workspace: your claims go to final_status (default: the workflow\'s release state, "pending") and your file marks are released, in one step.',
      toolsets,
      input: z.object({ ...changing, ...Who, final_status: z.string().min(1).max(64).optional() }),
      output: Out,
      annotations: { ...mutating, destructiveHint: true },
      async run(a, ctx) {
        const workerId = need(a, ctx);
        const r = await up<Record<string, unknown>>(a, M.wsDisconnectUpdate, {
          worker_id: workerId,
          final_status: a.final_status,
        });
        await agents.unregister(workerId, reasonBy('disconnected', workerId, ctx)).catch(() => undefined);
        return { success: true, ...r };
      },
    }),
    defineTool({
      name: 'list_agents',
      title: 'List workers',
      description:
        'Who is connected, what each holds and thinks. Filters: tags (has all), file (holds a mark on it), task (holds it). Read-only: stale workers are released by a timer, never by this call.',
      toolsets,
      input: z.object({
        ...common,
        tags: z.array(z.string()).max(32).optional(),
        file: z.string().max(1024).optional(),
        task: TaskArg.optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const snap = await wsc.snapshot(wsOf(a));
        const fileHolders =
          a.file !== undefined
            ? new Set(snap.marks.filter((m) => m.file === normalizePath(a.file as string).file).map((m) => m.agent))
            : undefined;
        const agentsOut = snap.workers
          .filter((w) => w.status === 'connected')
          .filter((w) => !a.tags || a.tags.every((t) => w.tags.includes(t)))
          .filter((w) => !fileHolders || fileHolders.has(w.id))
          .filter((w) => a.task === undefined || snap.tasks.some((t) => t.id === a.task && t.worker_id === w.id))
          .map((w) => ({
            id: w.id,
            tags: w.tags,
            workflow: w.workflow,
            registered_at: w.connected_at,
            last_heartbeat: w.last_seen,
            current_thought: w.thought,
            claimed_tasks: snap.tasks.filter((t) => t.worker_id === w.id).map((t) => t.id),
            marks: snap.marks.filter((m) => m.agent === w.id).map((m) => m.file),
          }));
        return { agents: agentsOut, count: agentsOut.length };
      },
    }),
    defineTool({
      name: 'cleanup_stale',
      title: 'Release stale workers',
      description:
        'Disconnect workers not heard from for `timeout` seconds (default 300), releasing their claims (to final_status) and marks. Leases already do this on their own; this is the explicit sweep.',
      toolsets,
      input: z.object({
        ...changing,
        timeout: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * 3600)
          .optional(),
        final_status: z.string().min(1).max(64).optional(),
      }),
      output: Out,
      annotations: { ...mutating, destructiveHint: true },
      run: (a) => up(a, M.wsCleanupUpdate, { timeout_ms: (a.timeout ?? 300) * 1000, final_status: a.final_status }),
    }),
    // ---------------------------------------------------------------- tasks
    defineTool({
      name: 'create',
      title: 'Create a task',
      description: 'Create one task (use parent for a subtask; link for dependencies). Priority 0-10, higher first.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        id: S.WsIdSchema.optional().describe('Your own id (default: a short generated one).'),
        title: z.string().trim().min(1).max(500).optional(),
        description: z.string().max(20_000).optional(),
        parent: TaskArg.optional(),
        ...TaskFields,
        phase: z.string().min(1).max(64).optional(),
      }),
      output: Out,
      annotations: mutating,
      async run(a, ctx) {
        if (a.title === undefined && a.description === undefined) {
          throw new AppError('INVALID_ARGUMENT', 'Give the task a title or a description.');
        }
        const { workspace: _w, request_id: _r, worker_id: _a, agent: _b, agent_id: _c, ...spec } = a;
        const t = await up<WsTask>(a, M.wsCreateUpdate, {
          ...spec,
          priority: priorityOf(a.priority),
          agent: who(a, ctx),
        });
        return { ...row(t), description: a.description ?? null };
      },
    }),
    defineTool({
      name: 'create_tree',
      title: 'Create a task tree',
      description:
        'Create a nested plan in one atomic step: tree = {title, children[], join_mode "then" (sequential, default) or "also" (parallel), ...}; "ref" points at an existing task. child_type (default contains) links parents to children, sibling_type overrides the sibling link.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        tree: S.TreeNodeSchema,
        parent: TaskArg.optional(),
        child_type: DepType.optional(),
        sibling_type: DepType.optional(),
      }),
      output: Out,
      annotations: mutating,
      async run(a, ctx) {
        const r = await up<{ root: WsTask; all_ids: string[]; count: number }>(a, M.wsCreateTreeUpdate, {
          tree: a.tree,
          parent: a.parent,
          child_type: a.child_type,
          sibling_type: a.sibling_type,
          agent: who(a, ctx),
        });
        return { root: row(r.root), all_ids: r.all_ids, count: r.count };
      },
    }),
    defineTool({
      name: 'get',
      title: 'Get a task',
      description:
        'One task with its description, attachment list and counts by type, dependencies and what blocks it.',
      toolsets,
      input: z.object({ ...common, task: TaskArg }),
      output: Out,
      annotations: reading,
      async run(a) {
        const v = await one(wsOf(a), a.task);
        return {
          ...withDetail(v.task, v.detail),
          blocked_by: v.blocked_by,
          dependencies: v.dependencies,
          metrics: wsc.metricsOf(v.task).metrics,
        };
      },
    }),
    defineTool({
      name: 'list_tasks',
      title: 'List tasks',
      description:
        'Query tasks. ready=true: claimable now (initial state, unclaimed, dependencies done; with agent, also fits its tags). Also status, blocked, claimed, owner, parent ("null" for roots; recursive), tags_any, tags_all, sort_by, sort_order, limit (max 1000), offset.',
      toolsets,
      input: z.object({
        ...common,
        status: Status.optional(),
        ready: z.boolean().optional(),
        blocked: z.boolean().optional(),
        claimed: z.boolean().optional(),
        owner: z.string().max(128).optional(),
        parent: z.union([TaskArg, z.literal('null')]).optional(),
        recursive: z.boolean().optional(),
        agent: z.string().max(128).optional(),
        worker_id: z.string().max(128).optional(),
        tags_any: z.array(z.string()).max(32).optional(),
        tags_all: z.array(z.string()).max(32).optional(),
        sort_by: z.enum(['priority', 'created_at', 'updated_at']).optional(),
        sort_order: z.enum(['asc', 'desc']).optional(),
        limit: z.number().int().min(1).optional(),
        offset: z.number().int().min(0).optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a, ctx) {
        const { workspace: _w, status, worker_id, agent, ...q } = a;
        const who = agent ?? worker_id ?? (a.ready ? ctx.agentId : undefined);
        const limit = Math.min(a.limit ?? 100, 1000);
        const r = await wsc.query(wsOf(a), M.wsListQuery, {
          ...q,
          limit,
          agent: who,
          status: status === undefined ? undefined : many(status),
        });
        const next = (a.offset ?? 0) + r.tasks.length;
        const notes = [
          ...((a.limit ?? 0) > limit ? ['limit is capped at 1000.'] : []),
          ...(r.total > next ? [`${r.total - next} more: call again with offset=${next}.`] : []),
        ];
        return {
          tasks: r.tasks.map(row),
          count: r.tasks.length,
          total: r.total,
          ...(r.total > next ? { next_offset: next } : {}),
          ...(notes.length > 0 ? { note: notes.join(' ') } : {}),
        };
      },
    }),
    defineTool({
      name: 'update',
      title: 'Update a task',
      description:
        'Change a task. status drives ownership: working claims, pending releases, completed/failed/cancelled finish (its file marks go with the claim); completing waits for open children and reject gates. assignee pushes it to a worker; attachments=[{type, content}] attach inline. Only the holder changes a claimed task unless force.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        task: TaskArg,
        status: z.string().min(1).max(64).optional(),
        state: z.string().min(1).max(64).optional().describe('Same as status.'),
        phase: z.string().min(1).max(64).optional(),
        title: z.string().trim().min(1).max(500).optional(),
        description: z.string().max(20_000).optional(),
        ...TaskFields,
        reason: z.string().max(2000).optional(),
        force: z.boolean().optional(),
        assignee: S.WorkerIdSchema.optional(),
        attachments: z
          .array(
            z.object({
              type: z.string().trim().min(1).max(64),
              content: z.string().max(100_000),
              name: z.string().max(200).optional(),
              mime: z.string().max(100).optional(),
            }),
          )
          .max(20)
          .optional(),
        lease_seconds: LeaseSecondsArg,
      }),
      output: Out,
      annotations: mutating,
      async run(a, ctx) {
        if (a.status !== undefined && a.state !== undefined && a.status !== a.state) {
          throw new AppError('INVALID_ARGUMENT', 'status and state are the same argument; give one.');
        }
        const {
          workspace: _w,
          request_id: _r,
          worker_id: _a,
          agent: _b,
          agent_id: _c,
          state,
          lease_seconds,
          ...rest
        } = a;
        const r = await up<{ task: WsTask } & Record<string, unknown>>(a, M.wsUpdateUpdate, {
          ...rest,
          status: a.status ?? state,
          priority: priorityOf(a.priority),
          worker_id: who(a, ctx),
          lease_ms: ms(lease_seconds),
        });
        const wf = workflowNamed(undefined);
        return {
          ...r,
          task: row(r.task),
          prompts: wf.states[r.task.status]?.guidance ? [wf.states[r.task.status]?.guidance] : [],
        };
      },
    }),
    defineTool({
      name: 'delete',
      title: 'Delete a task',
      description:
        'Soft-delete a task (obliterate=true removes it for good); cascade=true takes its children too. A task claimed by another worker needs force.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        task: TaskArg,
        cascade: z.boolean().optional(),
        obliterate: z.boolean().optional(),
        force: z.boolean().optional(),
        reason: z.string().max(2000).optional(),
      }),
      output: Out,
      annotations: { ...mutating, destructiveHint: true },
      run: (a, ctx) =>
        up(a, M.wsDeleteUpdate, {
          worker_id: who(a, ctx),
          task: a.task,
          cascade: a.cascade,
          obliterate: a.obliterate,
          force: a.force,
          reason: a.reason,
        }),
    }),
    defineTool({
      name: 'rename',
      title: 'Rename a task id',
      description: 'Give a task a new id; dependencies, children and marks follow it.',
      toolsets,
      input: z.object({ ...changing, ...Who, task: TaskArg, new_id: S.WsIdSchema }),
      output: Out,
      annotations: mutating,
      async run(a) {
        const r = await up<{ task: WsTask } & Record<string, unknown>>(a, M.wsRenameUpdate, {
          task: a.task,
          new_id: a.new_id,
        });
        return { ...r, task: row(r.task) };
      },
    }),
    defineTool({
      name: 'scan',
      title: 'Scan around a task',
      description:
        'Tasks related to one: before (what blocks it), after (what it blocks), above (ancestors), below (descendants). Depth per direction: 0 none, N levels, -1 all.',
      toolsets,
      input: z.object({
        ...common,
        task: TaskArg,
        before: z.number().int().min(-1).max(1000).optional(),
        after: z.number().int().min(-1).max(1000).optional(),
        above: z.number().int().min(-1).max(1000).optional(),
        below: z.number().int().min(-1).max(1000).optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const { workspace: _w, ...q } = a;
        const r = (await wsc.query(wsOf(a), M.wsScanQuery, q)) as {
          root: WsTask;
          before: WsTask[];
          after: WsTask[];
          above: WsTask[];
          below: WsTask[];
        };
        return {
          root: row(r.root),
          before: r.before.map(row),
          after: r.after.map(row),
          above: r.above.map(row),
          below: r.below.map(row),
        };
      },
    }),
    // ---------------------------------------------------------------- claim
    defineTool({
      name: 'claim',
      title: 'Claim a task',
      description:
        'Take a task atomically (status working) with a lease, renewed by any call of yours, and a fencing token. Refused with blocked_by (open dependencies) or when your tags do not fit needed_tags (all) / wanted_tags (any). Without task: the best ready task that fits you, in one step; success=false when none. files: marked for the task.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        task: TaskArg.optional(),
        force: z.boolean().optional(),
        files: z.array(z.string().min(1).max(1024)).max(200).optional(),
        lease_seconds: LeaseSecondsArg,
      }),
      output: Out,
      annotations: mutating,
      async run(a, ctx) {
        const workerId = need(a, ctx);
        const r = await up<M.ClaimOut>(a, M.wsClaimUpdate, {
          worker_id: workerId,
          task: a.task,
          force: a.force,
          files: a.files,
          lease_ms: ms(a.lease_seconds),
        });
        if (!r.task) return { success: false, task: null, message: r.message ?? 'No ready task.' };
        const wf = workflowNamed(undefined);
        return {
          success: true,
          task: {
            id: r.task.id,
            title: r.task.title,
            status: r.task.status,
            worker_id: r.task.worker_id,
            claimed_at: r.task.claimed_at,
            priority: r.task.priority,
          },
          lease_token: r.lease_token,
          lease_expires_at: r.lease_expires_at,
          prompts: wf.states[r.task.status]?.guidance ? [wf.states[r.task.status]?.guidance] : [],
        };
      },
    }),
    // ---------------------------------------------------------------- dependencies
    defineTool({
      name: 'link',
      title: 'Link tasks',
      description: `Add dependencies from → to (each side a task or a list). Types: ${Object.entries(DEP_TYPES)
        .map(([n, d]) => `${n} (${d.description})`)
        .join('; ')}. Cycles are refused.`,
      toolsets,
      input: z.object({ ...changing, ...Who, from: OneOrMany, to: OneOrMany, type: DepType.optional() }),
      output: Out,
      annotations: mutating,
      run: (a) => up(a, M.wsLinkUpdate, { from: many(a.from), to: many(a.to), type: a.type ?? 'blocks' }),
    }),
    defineTool({
      name: 'unlink',
      title: 'Unlink tasks',
      description: "Remove dependencies from → to; '*' on one side removes all of that task's links of the type.",
      toolsets,
      input: z.object({ ...changing, ...Who, from: OneOrMany, to: OneOrMany, type: DepType.optional() }),
      output: Out,
      annotations: { ...mutating, destructiveHint: true },
      run: (a) => up(a, M.wsUnlinkUpdate, { from: many(a.from), to: many(a.to), type: a.type ?? 'blocks' }),
    }),
    defineTool({
      name: 'relink',
      title: 'Move dependencies',
      description:
        'Atomically unlink prev_from → prev_to and link from → to (default type contains: move children to another parent). All or nothing.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        prev_from: OneOrMany,
        prev_to: OneOrMany,
        from: OneOrMany,
        to: OneOrMany,
        type: DepType.optional(),
      }),
      output: Out,
      annotations: mutating,
      run: (a) =>
        up(a, M.wsRelinkUpdate, {
          prev_from: many(a.prev_from),
          prev_to: many(a.prev_to),
          from: many(a.from),
          to: many(a.to),
          type: a.type ?? 'contains',
        }),
    }),
    // ---------------------------------------------------------------- tracking
    defineTool({
      name: 'thinking',
      title: 'Say what you are doing',
      description:
        'Broadcast your current thought (list_agents shows it). Also a heartbeat: it renews the leases of every task you hold.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        thought: z.string().max(10_000),
        tasks: z.array(TaskArg).max(100).optional(),
      }),
      output: Out,
      annotations: mutating,
      run: (a, ctx) => up(a, M.wsThinkingUpdate, { agent: need(a, ctx), thought: a.thought }),
    }),
    defineTool({
      name: 'task_history',
      title: 'History of a task',
      description:
        'Every state a task went through, who held it, why, and how long each lasted (the task_sequence rows).',
      toolsets,
      input: z.object({ ...common, task: TaskArg, states: z.array(z.string()).max(20).optional() }),
      output: Out,
      annotations: reading,
      async run(a) {
        const v = await one(wsOf(a), a.task);
        const history = v.detail.events
          .filter((e) => !a.states || (e.status !== null && a.states.includes(e.status)))
          .map((e) => ({ ...e, duration_ms: e.end_timestamp === null ? null : e.end_timestamp - e.timestamp }));
        return { task_id: v.task.id, history, count: history.length };
      },
    }),
    defineTool({
      name: 'project_history',
      title: 'History of the workspace',
      description:
        'State changes across all tasks, newest first; filter by time (from/to, ms since epoch), states, limit.',
      toolsets,
      input: z.object({
        ...common,
        from: z.number().int().optional(),
        to: z.number().int().optional(),
        states: z.array(z.string()).max(20).optional(),
        limit: z.number().int().min(1).max(1000).optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const all = await wsc.everything(wsOf(a));
        const events = Object.values(all.recs)
          .flatMap((r) => r.events)
          .filter((e) => (a.from === undefined || e.timestamp >= a.from) && (a.to === undefined || e.timestamp <= a.to))
          .filter((e) => !a.states || (e.status !== null && a.states.includes(e.status)))
          .sort((x, y) => y.timestamp - x.timestamp);
        const limit = a.limit ?? 100;
        return { events: events.slice(0, limit), count: Math.min(limit, events.length), total: events.length };
      },
    }),
    defineTool({
      name: 'log_metrics',
      title: 'Log metrics',
      description: 'Add cost and up to 8 metric values to a task (summed with what was logged before).',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        task: TaskArg,
        cost_usd: z.number().min(0).max(1e9).optional(),
        values: z.array(z.number().finite()).max(8).optional(),
      }),
      output: Out,
      annotations: mutating,
      run: (a, ctx) =>
        up(a, M.wsLogMetricsUpdate, { agent: who(a, ctx), task: a.task, cost_usd: a.cost_usd, values: a.values }),
    }),
    defineTool({
      name: 'get_metrics',
      title: 'Get metrics',
      description: 'The summed cost and metric values of one or more tasks.',
      toolsets,
      input: z.object({ ...common, task: TaskArg.optional(), tasks: z.array(TaskArg).max(1000).optional() }),
      output: Out,
      annotations: reading,
      async run(a) {
        const ids = [...(a.task ? [a.task] : []), ...(a.tasks ?? [])];
        if (ids.length === 0) throw new AppError('INVALID_ARGUMENT', 'Name a task (task) or several (tasks).');
        const views = await wsc.query(wsOf(a), M.wsTasksQuery, { ids });
        const metrics = views.map((v) => wsc.metricsOf(v.task));
        if (a.task && !a.tasks) {
          if (!metrics[0]) throw new AppError('NOT_FOUND', `No task "${a.task}" in workspace ${wsOf(a)}.`);
          return metrics[0];
        }
        return { metrics, count: metrics.length };
      },
    }),
    defineTool({
      name: 'search',
      title: 'Search tasks',
      description:
        'Full-text search over titles, descriptions and (include_attachments) attachment contents, best matches first.',
      toolsets,
      input: z.object({
        ...common,
        query: z.string().trim().min(1).max(500),
        limit: z.number().int().min(1).max(200).optional(),
        include_attachments: z.boolean().optional(),
        status_filter: z.string().max(64).optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const all = await wsc.everything(wsOf(a));
        const terms = a.query.toLowerCase().split(/\s+/).filter(Boolean);
        const count = (text: string | null | undefined): number => {
          const s = (text ?? '').toLowerCase();
          return terms.reduce((n, t) => n + (s.includes(t) ? s.split(t).length - 1 : 0), 0);
        };
        const hits = all.tasks
          .filter((t) => t.deleted_at === null && (!a.status_filter || t.status === a.status_filter))
          .map((t) => {
            const rec = all.recs[t.k];
            const inTitle = count(t.title);
            const inDesc = count(rec?.description);
            const inAtt = a.include_attachments
              ? (rec?.attachments ?? []).reduce((n, x) => n + count(x.content), 0)
              : 0;
            const allTerms = terms.every((term) =>
              `${t.title} ${rec?.description ?? ''} ${a.include_attachments ? (rec?.attachments ?? []).map((x) => x.content).join(' ') : ''}`
                .toLowerCase()
                .includes(term),
            );
            return { t, score: (allTerms ? 10 : 0) + inTitle * 3 + inDesc + inAtt * 0.5 };
          })
          .filter((h) => h.score > 0)
          .sort((x, y) => y.score - x.score || x.t.seq - y.t.seq)
          .slice(0, a.limit ?? 20);
        return { results: hits.map((h) => ({ ...row(h.t), score: h.score })), count: hits.length };
      },
    }),
    // ---------------------------------------------------------------- files
    defineTool({
      name: 'mark_file',
      title: 'Mark files',
      description:
        'Say you are editing files. Advisory marks warn about other holders; a "lock:" prefix (lock:src/a.ts) makes the mark exclusive and a conflicting one an error. With task (one you hold) the mark lives exactly as long as your claim; without, it lasts ttl_seconds (default 3600; mark again to renew).',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        file: OneOrMany.optional(),
        files: z.array(z.string().min(1).max(1024)).max(200).optional(),
        task: TaskArg.optional(),
        reason: z.string().max(2000).optional(),
        ttl_seconds: Seconds.optional(),
      }),
      output: Out,
      annotations: mutating,
      async run(a, ctx) {
        const files = [...(a.file ? many(a.file) : []), ...(a.files ?? [])];
        if (files.length === 0) throw new AppError('INVALID_ARGUMENT', 'Name the file (file) or files to mark.');
        return up(a, M.wsMarkUpdate, {
          agent: need(a, ctx),
          files,
          task: a.task,
          reason: a.reason,
          ttl_ms: ms(a.ttl_seconds),
        });
      },
    }),
    defineTool({
      name: 'unmark_file',
      title: 'Unmark files',
      description: 'Release your marks on files ("*" or no file: all of yours; with task: only those made for it).',
      toolsets,
      input: z.object({ ...changing, ...Who, file: OneOrMany.optional(), task: TaskArg.optional() }),
      output: Out,
      annotations: mutating,
      run: (a, ctx) =>
        up(a, M.wsUnmarkUpdate, {
          agent: need(a, ctx),
          files: a.file === undefined ? undefined : many(a.file),
          task: a.task,
        }),
    }),
    defineTool({
      name: 'list_marks',
      title: 'List file marks',
      description: 'Current file marks, filtered by files, agent or task.',
      toolsets,
      input: z.object({
        ...common,
        files: z.array(z.string().max(1024)).max(200).optional(),
        agent: z.string().max(128).optional(),
        task: TaskArg.optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const marks = await wsc.query(wsOf(a), M.wsMarksQuery, { files: a.files, agent: a.agent, task: a.task });
        return {
          marks: marks.map((m) => ({
            file_path: m.file,
            worker_id: m.agent,
            task_id: m.task,
            reason: m.reason,
            exclusive: m.exclusive,
            locked_at: m.at,
            expires_at: m.expires_at,
          })),
          count: marks.length,
        };
      },
    }),
    defineTool({
      name: 'mark_updates',
      title: 'File mark changes',
      description:
        'Marks other agents made or released since your last call. wait_seconds (up to 60) waits for the first change instead of answering empty.',
      toolsets,
      input: z.object({ ...common, ...Who, wait_seconds: z.number().min(0).max(60).optional() }),
      output: Out,
      annotations: mutating,
      async run(a, ctx) {
        const agent = need(a, ctx);
        const ws = wsOf(a);
        const waitMs = (a.wait_seconds ?? 0) * 1000;
        // With a wait and nothing to answer, the workspace notes the agent as watching and signals its own workflow at
        // the next change by someone else; the wait is an Update there (docs/DECISIONS.md, "mark_updates waits").
        const first = await wsc.update(ws, M.wsMarkUpdatesUpdate, { agent, ...(waitMs > 0 ? { watch: true } : {}) });
        if (waitMs === 0 || first.count > 0 || first.missed !== undefined) return first;
        const until = Date.now() + waitMs;
        const woken = await agents.waitMarks(agent, { workspace: ws, after: first.cursor, waitMs }).catch((err) => {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
          throw err;
        });
        // An agent never registered has no workflow to wait in: it reads a Query on the workspace until a change.
        if (woken === undefined) {
          while (Date.now() < until) {
            const n = await wsc.query(ws, M.wsPendingMarksQuery, { agent }).catch(() => 0);
            if (n > 0) break;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        return wsc.update(ws, M.wsMarkUpdatesUpdate, { agent });
      },
    }),
    // ---------------------------------------------------------------- attachments and gates
    defineTool({
      name: 'attach',
      title: 'Attach to a task',
      description:
        'Attach text to a task: type (note, result, gate/tests, …), content, optional name and mime. Gate types satisfy gates.',
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        task: TaskArg,
        type: z.string().trim().min(1).max(64),
        content: z.string().max(100_000),
        name: z.string().max(200).optional(),
        mime: z.string().max(100).optional(),
      }),
      output: Out,
      annotations: mutating,
      run: (a, ctx) =>
        up(a, M.wsAttachUpdate, {
          agent: who(a, ctx),
          task: a.task,
          type: a.type,
          content: a.content,
          name: a.name,
          mime: a.mime,
        }),
    }),
    defineTool({
      name: 'attachments',
      title: 'Read attachments',
      description: "A task's attachments (type filter optional); content included unless content=false.",
      toolsets,
      input: z.object({
        ...common,
        task: TaskArg,
        type: z.string().max(64).optional(),
        content: z.boolean().optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const v = await one(wsOf(a), a.task);
        const list = v.detail.attachments
          .map((x, n) => ({
            sequence: n + 1,
            type: x.type,
            name: x.name,
            mime: x.mime,
            created_at: x.at,
            worker_id: x.agent,
            ...(a.content === false ? {} : { content: x.content }),
          }))
          .filter((x) => !a.type || x.type === a.type);
        return { task_id: v.task.id, attachments: list, count: list.length };
      },
    }),
    defineTool({
      name: 'detach',
      title: 'Remove attachments',
      description: "Remove a task's attachments of a type (or by name; neither: all).",
      toolsets,
      input: z.object({
        ...changing,
        ...Who,
        task: TaskArg,
        type: z.string().max(64).optional(),
        name: z.string().max(200).optional(),
      }),
      output: Out,
      annotations: { ...mutating, destructiveHint: true },
      run: (a, ctx) => up(a, M.wsDetachUpdate, { agent: who(a, ctx), task: a.task, type: a.type, name: a.name }),
    }),
    defineTool({
      name: 'check_gates',
      title: 'Check gates',
      description:
        'What a task needs attached before it may leave its state or phase: each gate with allow / warn / reject and whether it is satisfied.',
      toolsets,
      input: z.object({ ...common, ...Who, task: TaskArg }),
      output: Out,
      annotations: reading,
      run: async (a, ctx) => ({
        task_id: a.task,
        ...(await wsc.query(wsOf(a), M.wsGatesQuery, { task: a.task, agent: who(a, ctx) })),
      }),
    }),
    // ---------------------------------------------------------------- configuration
    defineTool({
      name: 'list_workflows',
      title: 'List workflows',
      description: 'The workflows a worker can connect with (states, phases, gates, roles).',
      toolsets,
      input: z.object({ ...common }),
      output: Out,
      annotations: reading,
      run: () =>
        Promise.resolve({
          workflows: Object.values(TG_WORKFLOWS).map((w) => ({
            name: w.name,
            description: w.description,
            states: Object.keys(w.states),
            roles: Object.keys(w.roles),
            gates: w.gates,
          })),
        }),
    }),
    defineTool({
      name: 'list_skills',
      title: 'List skills',
      description: 'Short guides for working in a workspace; read one with get_skill.',
      toolsets,
      input: z.object({ ...common }),
      output: Out,
      annotations: reading,
      run: () => Promise.resolve({ skills: TG_SKILLS.map((s) => ({ name: s.name, description: s.description })) }),
    }),
    defineTool({
      name: 'get_skill',
      title: 'Read a skill',
      description: 'One skill guide by name (list_skills shows the names).',
      toolsets,
      input: z.object({ name: z.string().min(1).max(100) }),
      output: Out,
      annotations: reading,
      run(a) {
        const s = TG_SKILLS.find((x) => x.name === a.name);
        if (!s) {
          return Promise.reject(
            new AppError('NOT_FOUND', `No skill "${a.name}"; skills: ${TG_SKILLS.map((x) => x.name).join(', ')}.`),
          );
        }
        return Promise.resolve({ ...s });
      },
    }),
    // ---------------------------------------------------------------- SQL
    defineTool({
      name: 'query',
      title: 'Read-only SQL',
      description:
        'Run one read-only SQL statement over a snapshot of the workspace (tables tasks, task_sequence, dependencies, attachments, file_locks, workers, task_tags; times in ms since epoch). Writes are refused; a query is stopped after 5 s. params bind ?; limit default 100, max 1000; format json (rows as objects), csv or markdown.',
      toolsets,
      input: z.object({
        ...common,
        sql: z.string().trim().min(1).max(20_000),
        params: z
          .array(z.union([z.string(), z.number(), z.null()]))
          .max(100)
          .optional(),
        limit: z.number().int().min(1).max(SQL_ROWS_MAX).optional(),
        format: z.enum(['json', 'csv', 'markdown']).optional(),
      }),
      output: Out,
      annotations: reading,
      async run(a) {
        const all = await wsc.everything(wsOf(a));
        const r = await runSql(toTables(all, all.recs), a.sql, a.params, a.limit ?? 100);
        const base = {
          columns: r.columns,
          row_count: r.rows.length,
          truncated: r.truncated,
          ...(r.truncated
            ? { note: `Stopped at ${a.limit ?? 100} rows; raise limit (max ${SQL_ROWS_MAX}) or narrow the query.` }
            : {}),
        };
        if (a.format === 'csv')
          return { ...base, csv: [r.columns, ...r.rows].map((x) => x.map(csvCell).join(',')).join('\n') };
        if (a.format === 'markdown') {
          return {
            ...base,
            markdown: [
              `| ${r.columns.join(' | ')} |`,
              `| ${r.columns.map(() => '---').join(' | ')} |`,
              ...r.rows.map((x) => `| ${x.map((c) => String(c ?? '')).join(' | ')} |`),
            ].join('\n'),
          };
        }
        return { ...base, rows: r.rows.map((x) => Object.fromEntries(r.columns.map((c, n) => [c, x[n] ?? null]))) };
      },
    }),
    defineTool({
      name: 'get_schema',
      title: 'SQL schema',
      description: 'The tables and columns query can read (optionally one table).',
      toolsets,
      input: z.object({ table: z.string().max(64).optional(), include_sql: z.boolean().optional() }),
      output: Out,
      annotations: reading,
      run: (a) => schema(a.table),
    }),
  ];
  return tools;
}

const csvCell = (c: string | number | null): string => {
  const s = c === null ? '' : String(c);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function priorityOf(p: number | string | undefined): number | undefined {
  if (p === undefined || typeof p === 'number') return p;
  return { low: 2, medium: 5, high: 8, critical: 10 }[p];
}
