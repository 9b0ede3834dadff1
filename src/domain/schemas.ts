/**
 * The single source of truth for every shape that crosses a boundary: MCP tool inputs and outputs, workflow
 * message payloads and the records kept in workflow state. Types are inferred from these schemas, never
 * written by hand. No Temporal or Node imports here: the workflow bundle and the MCP server both use it.
 */
import type { z } from 'zod';
import { safeId } from './ids';
import { sharedSchemas } from './shared';

export const LIMITS = {
  idLength: 64,
  nameLength: 200,
  titleLength: 500,
  descriptionLength: 10_000,
  resultLength: 20_000,
  metadataBytes: 16_384,
  tagLength: 64,
  tagsPerTask: 32,
  filesPerTask: 200,
  fileLength: 1_024,
  dependenciesPerTask: 100,
  tasksPerGoal: 1_500,
  tasksPerCall: 1_000,
  opsPerBatch: 256,
  priorityMin: 0,
  priorityMax: 100,
  leaseSecondsMax: 7 * 24 * 3600,
  waitSecondsMax: 300,
  listLimitMax: 1_000,
  maxAttemptsMax: 100,
} as const;

/** Who holds a claim made by a caller with no identity at all (no agent_id, AGENT_ID or bearer subject). */
export const ANONYMOUS_AGENT = 'anonymous';
export const TASK_STATUSES = [
  'pending',
  'ready',
  'claimed',
  'in_progress',
  'completed',
  'failed',
  'cancelled',
  'blocked',
] as const;
export const GOAL_STATUSES = ['active', 'completed', 'cancelled'] as const;
export const DECOMPOSE_STRATEGIES = ['sequential', 'parallel', 'hierarchical'] as const;

// Built once per workflow thread (see ./shared); the exports below are those objects.
export const {
  GoalIdSchema,
  TaskIdSchema,
  AgentIdSchema,
  TaskStatusSchema,
  GoalStatusSchema,
  TaskSchema,
  TaskCountsSchema,
  GoalSchema,
  GoalSummarySchema,
  GoalEventSchema,
  TaskSpecSchema,
  DecomposeStrategySchema,
  CreateTasksInputSchema,
  ClaimInputSchema,
  WaitClaimInputSchema,
  HolderInputSchema,
  ReserveNextSchema,
  CompleteInputSchema,
  ReleaseInputSchema,
  FailInputSchema,
  HeartbeatInputSchema,
  TaskRefInputSchema,
  SetPriorityInputSchema,
  AssignInputSchema,
  CreatedTasksSchema,
  ListTasksInputSchema,
  ClaimResultSchema,
  HeartbeatResultSchema,
  GoalViewSchema,
  TaskIdQuerySchema,
  TaskIdsQuerySchema,
  EventsQuerySchema,
} = sharedSchemas('domain/schemas', (z) => {
  /** Goal ids are short, URL-safe strings: they appear in workflow ids (`goal-<id>`) and task ids (`<id>/<n>`). */
  const GoalIdSchema = z
    .string()
    .min(1)
    .max(LIMITS.idLength)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a goal id is letters, digits, ".", "_" or "-" (no spaces or slashes)');

  const TaskIdSchema = z
    .string()
    .max(LIMITS.idLength + 12)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[1-9][0-9]*$/, 'a task id looks like "<goal_id>/<n>", e.g. "auth-k3f9/2"');

  const AgentIdSchema = safeId(128);

  const TaskStatusSchema = z.enum(TASK_STATUSES);

  const GoalStatusSchema = z.enum(GOAL_STATUSES);

  const Title = z.string().trim().min(1).max(LIMITS.titleLength);
  const Description = z.string().max(LIMITS.descriptionLength);
  const Priority = z.int().min(LIMITS.priorityMin).max(LIMITS.priorityMax);
  const Tag = z.string().min(1).max(LIMITS.tagLength);
  const Scope = z.string().min(1).max(LIMITS.fileLength);
  const Metadata = z.record(z.string(), z.unknown()).refine((m) => JSON.stringify(m).length <= LIMITS.metadataBytes, {
    message: `metadata must serialise to at most ${LIMITS.metadataBytes} bytes of JSON`,
  });

  /** A task as the workflow stores it and every tool returns it (snake_case, like the seeds). */
  const TaskSchema = z.object({
    id: z.string(),
    goal_id: z.string(),
    title: z.string(),
    description: z.string(),
    priority: z.number(),
    status: TaskStatusSchema,
    dependencies: z.array(z.string()),
    blocked_by: z.array(z.string()),
    scope: z.string().nullable(),
    tags: z.array(z.string()),
    files: z.array(z.string()),
    agent_id: z.string().nullable(),
    lease_token: z.number().nullable(),
    lease_expires_at: z.string().nullable(),
    claimed_at: z.string().nullable(),
    started_at: z.string().nullable(),
    last_heartbeat: z.string().nullable(),
    completed_at: z.string().nullable(),
    attempts: z.number(),
    max_attempts: z.number(),
    result: z.string().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    metadata: z.record(z.string(), z.unknown()),
  });

  const TaskCountsSchema = z.object({
    total: z.number(),
    pending: z.number(),
    ready: z.number(),
    claimed: z.number(),
    in_progress: z.number(),
    completed: z.number(),
    failed: z.number(),
    cancelled: z.number(),
    blocked: z.number(),
  });

  const GoalSchema = z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    status: GoalStatusSchema,
    metadata: z.record(z.string(), z.unknown()),
    lease_seconds: z.number(),
    max_attempts: z.number(),
    priority: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  });

  const GoalSummarySchema = GoalSchema.extend({
    task_counts: TaskCountsSchema,
    progress: z.number().describe('completed tasks / all tasks, 0..1'),
  });

  const GoalEventSchema = z.object({
    seq: z.number(),
    at: z.string(),
    type: z.string(),
    task_id: z.string().nullable(),
    agent_id: z.string().nullable(),
    detail: z.string().nullable(),
  });

  /** A task to create. `dependencies` name existing task ids, or (inside one plan) earlier or later plan entries by index. */
  const TaskSpecSchema = z.object({
    title: Title,
    description: Description.optional(),
    priority: Priority.optional(),
    dependencies: z
      .array(z.union([TaskIdSchema, z.int().min(0)]))
      .max(LIMITS.dependenciesPerTask)
      .optional(),
    scope: Scope.optional(),
    tags: z.array(Tag).max(LIMITS.tagsPerTask).optional(),
    files: z.array(z.string().min(1).max(LIMITS.fileLength)).max(LIMITS.filesPerTask).optional(),
    max_attempts: z.int().min(1).max(LIMITS.maxAttemptsMax).optional(),
    metadata: Metadata.optional(),
  });

  const DecomposeStrategySchema = z.enum(DECOMPOSE_STRATEGIES);

  // ---- workflow message payloads (camelCase, the Temporal convention; what `temporal workflow update -i` takes) ----

  const CreateTasksInputSchema = z.object({
    tasks: z.array(TaskSpecSchema).min(1).max(LIMITS.tasksPerCall),
    source: z.string().max(64).optional(),
  });

  const ClaimInputSchema = z.object({
    agentId: AgentIdSchema,
    scope: Scope.optional(),
    tags: z.array(Tag).max(LIMITS.tagsPerTask).optional(),
    leaseSeconds: z.int().min(0).max(LIMITS.leaseSecondsMax).optional(),
    /** Without a lease (0), how long the claim lasts until its holder follows it up (0 = until it does). */
    pickupSeconds: z.int().min(0).max(LIMITS.leaseSecondsMax).optional(),
    taskId: TaskIdSchema.optional(),
  });

  /** A claim that waits inside the goal workflow until a matching task is ready (a long-poll), at most waitMs. */
  const WaitClaimInputSchema = ClaimInputSchema.omit({ taskId: true }).extend({
    waitMs: z
      .int()
      .min(1)
      .max(LIMITS.waitSecondsMax * 1000),
  });

  /**
   * An owner action. Without `agentId` and `leaseToken` the caller has no identity at all and acts for the task's
   * current holder (hq's step id is the capability); with either, fencing applies.
   */
  const HolderInputSchema = z.object({
    taskId: TaskIdSchema,
    agentId: AgentIdSchema.optional(),
    leaseToken: z.int().min(1).optional(),
    /** Merged into the task's metadata (e.g. a step's worktree, commit_hash, files_modified). */
    metadata: Metadata.optional(),
  });

  /**
   * What a completing agent would ask get_next_task for next (its claim loop's filter): the goal claims that task for
   * it in the same step as the completion (a prefetch; see client/prefetch.ts).
   */
  const ReserveNextSchema = ClaimInputSchema.pick({
    scope: true,
    tags: true,
    leaseSeconds: true,
    pickupSeconds: true,
  });

  const CompleteInputSchema = HolderInputSchema.extend({
    result: z.string().max(LIMITS.resultLength).optional(),
    reserveNext: ReserveNextSchema.optional(),
  });

  /**
   * A release; `reservation`: a claim its agent never picked up goes back without counting an attempt — a prefetched
   * one, or (`undone: 'breaker'`) one made beside a breaker read that then kept the agent from work.
   */
  const ReleaseInputSchema = HolderInputSchema.extend({
    reservation: z.literal(true).optional(),
    undone: z.literal('breaker').optional(),
  });

  const FailInputSchema = HolderInputSchema.extend({
    error: z.string().max(LIMITS.resultLength).optional(),
  });

  const HeartbeatInputSchema = z
    .object({
      agentId: AgentIdSchema.optional(),
      taskId: TaskIdSchema.optional(),
    })
    .refine((h) => h.agentId !== undefined || h.taskId !== undefined, {
      message: 'a heartbeat names the task (taskId), the agent (agentId), or both',
    });

  const TaskRefInputSchema = z.object({
    taskId: TaskIdSchema,
    reason: z.string().max(LIMITS.resultLength).optional(),
    /** retryTask: an operator's recovery, past max_attempts. */
    force: z.boolean().optional(),
    /** cancelTask, recoverTask: who asks (recorded in the event log). */
    by: AgentIdSchema.optional(),
    /** cancelTask, recoverTask: the caller is neither an operator nor trusted (tokens): only the holder may act. */
    holderOnly: z.boolean().optional(),
  });

  const SetPriorityInputSchema = z.object({ priority: Priority });
  const AssignInputSchema = z.object({
    taskId: TaskIdSchema,
    agentId: AgentIdSchema.nullable(),
    /** Only if the task is still assigned to this agent (an offline agent's pushes going back to the pool). */
    ifAssignedTo: AgentIdSchema.optional(),
  });

  /** The created tasks ride on the answer when there are few (a read fewer per create_task); else only their ids. */
  const CreatedTasksSchema = z.object({
    goal_id: z.string(),
    ids: z.array(z.string()),
    tasks: z.array(TaskSchema).optional(),
  });

  const ListTasksInputSchema = z.object({
    status: TaskStatusSchema.optional(),
    limit: z
      .int()
      .min(1)
      .max(LIMITS.listLimitMax + 1)
      .optional(),
    offset: z.int().min(0).optional(),
  });

  const ClaimResultSchema = z.object({
    task: TaskSchema.nullable(),
    lease_token: z.number().nullable(),
    lease_expires_at: z.string().nullable(),
  });

  const HeartbeatResultSchema = z.object({
    agent_id: z.string(),
    tasks: z.array(z.object({ id: z.string(), status: TaskStatusSchema, lease_expires_at: z.string().nullable() })),
  });

  const GoalViewSchema = z.object({
    goal: GoalSummarySchema,
    tasks: z.array(TaskSchema),
  });

  /** Inputs of the goal workflow's Queries (`temporal workflow query … -i`). */
  const TaskIdQuerySchema = z.object({ taskId: z.string().min(1).max(200) });
  const TaskIdsQuerySchema = z.object({ taskIds: z.array(z.string().min(1).max(200)).max(LIMITS.listLimitMax) });
  const EventsQuerySchema = z.object({ limit: z.number().int().min(1).max(10_000).optional() });

  return {
    GoalIdSchema,
    TaskIdSchema,
    AgentIdSchema,
    TaskStatusSchema,
    GoalStatusSchema,
    TaskSchema,
    TaskCountsSchema,
    GoalSchema,
    GoalSummarySchema,
    GoalEventSchema,
    TaskSpecSchema,
    DecomposeStrategySchema,
    CreateTasksInputSchema,
    ClaimInputSchema,
    WaitClaimInputSchema,
    HolderInputSchema,
    ReserveNextSchema,
    CompleteInputSchema,
    ReleaseInputSchema,
    FailInputSchema,
    HeartbeatInputSchema,
    TaskRefInputSchema,
    SetPriorityInputSchema,
    AssignInputSchema,
    CreatedTasksSchema,
    ListTasksInputSchema,
    ClaimResultSchema,
    HeartbeatResultSchema,
    GoalViewSchema,
    TaskIdQuerySchema,
    TaskIdsQuerySchema,
    EventsQuerySchema,
  };
});

export type TaskStatus = z.infer<typeof TaskStatusSchema>;
export type GoalStatus = z.infer<typeof GoalStatusSchema>;
export type Task = z.infer<typeof TaskSchema>;
export type TaskCounts = z.infer<typeof TaskCountsSchema>;
export type Goal = z.infer<typeof GoalSchema>;
export type GoalSummary = z.infer<typeof GoalSummarySchema>;
export type GoalEvent = z.infer<typeof GoalEventSchema>;
export type TaskSpec = z.infer<typeof TaskSpecSchema>;
export type DecomposeStrategy = z.infer<typeof DecomposeStrategySchema>;
export type CreateTasksInput = z.infer<typeof CreateTasksInputSchema>;
export type ClaimInput = z.infer<typeof ClaimInputSchema>;
export type WaitClaimInput = z.infer<typeof WaitClaimInputSchema>;
export type HolderInput = z.infer<typeof HolderInputSchema>;
export type ReserveNext = z.infer<typeof ReserveNextSchema>;
export type CompleteInput = z.infer<typeof CompleteInputSchema>;
export type ReleaseInput = z.infer<typeof ReleaseInputSchema>;
export type FailInput = z.infer<typeof FailInputSchema>;
export type HeartbeatInput = z.infer<typeof HeartbeatInputSchema>;
export type AssignInput = z.infer<typeof AssignInputSchema>;
export type SetPriorityInput = z.infer<typeof SetPriorityInputSchema>;
export type CreatedTasks = z.infer<typeof CreatedTasksSchema>;
export type TaskRefInput = z.infer<typeof TaskRefInputSchema>;
export type ListTasksInput = z.infer<typeof ListTasksInputSchema>;
export type ClaimResult = z.infer<typeof ClaimResultSchema>;
export type HeartbeatResult = z.infer<typeof HeartbeatResultSchema>;
export type GoalView = z.infer<typeof GoalViewSchema>;
