/**
 * Toolset `projects`: hq's tools with its names and arguments, on the goal workflow (a project is a goal, a step a
 * task). `heartbeat` is the goals toolset's tool, listed in both.
 */
import { z } from 'zod';
import { createProjectsClient } from '../../client/projects';
import { GoalEventSchema, GoalIdSchema, GoalStatusSchema, LIMITS } from '../../domain/schemas';
import {
  MetricsSchema,
  parseSteps,
  parseStringList,
  StepSchema,
  StepSpecSchema,
  CountsSchema,
} from '../../domain/projects';
import { AgentIdArg, idArg, TaskRefArg } from '../compat/ids';
import {
  callerIdentity,
  defineTool,
  holderOnly,
  RequestIdArg,
  resolveAgent,
  type ToolDef,
  type ToolDeps,
} from './common';

const ProjectFields = {
  id: z.string(),
  name: z.string(),
  base_commit: z.string().nullable(),
  status: GoalStatusSchema,
  priority: z.number(),
  lease_seconds: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
  progress: z.number(),
  step_counts: CountsSchema,
};
const ProjectSchema = z.object(ProjectFields);
/** hq's get_project answers the project row; the steps ride along. */
const ProjectViewSchema = z.object({ ...ProjectFields, project: ProjectSchema, steps: z.array(StepSchema) });

/** hq answers owner actions with {"ok": true}; the step rides along. */
const StepActionSchema = z.object({
  ok: z.literal(true),
  step: StepSchema,
  acted_as: z.string().nullable().describe('You gave no identity, so the action was done for this holder of the step.'),
});
const stepAction = (step: z.infer<typeof StepSchema>, identity: string | undefined) => ({
  ok: true as const,
  step,
  acted_as: identity === undefined ? step.agent_id : null,
});

/** hq's claim_step answers the step's own fields (id, step_num, branch, scope, status, agent_id, claimed_at). */
const StepClaimSchema = StepSchema.partial().extend({
  claimed: z.boolean(),
  step: StepSchema.nullable(),
  lease_token: z.number().nullable(),
  lease_expires_at: z.string().nullable(),
  reason: z.string().nullable().describe('Why no step was claimed (hq answered null).'),
});

const AgentArg = AgentIdArg.optional().describe('Your agent identity (defaults to AGENT_ID / your HTTP identity).');
const ProjectName = idArg(GoalIdSchema).describe('The project name (its id).');
const StepId = TaskRefArg.describe(
  'The step id from create_project / claim_step, e.g. "api-v2/3" (or an imported hq step id).',
);
/** hq's project statuses: `aborted` is our `cancelled`. */
const ProjectStatusArg = z
  .enum([...GoalStatusSchema.options, 'aborted'])
  .transform((s) => (s === 'aborted' ? 'cancelled' : s));

export function projectTools(deps: ToolDeps): ToolDef[] {
  const projects = createProjectsClient(deps.goals);
  const step = (ref: string) => deps.refs.task(ref);
  const toolsets = ['projects'];
  return [
    defineTool({
      name: 'create_project',
      title: 'Create project',
      description:
        'Create a project of steps for parallel agents working in git worktrees. Each step has a step_num, a branch, a scope and depends_on (step numbers). Steps become claimable when their dependencies are completed. Claims are leased for 15 minutes (lease_seconds) and extended by heartbeat; a crashed agent’s step returns to the queue by itself.',
      toolsets,
      input: z.object({
        name: ProjectName,
        base_commit: z.string().min(1).max(200),
        steps: z
          .union([z.array(StepSpecSchema).max(LIMITS.tasksPerCall), z.string().max(2_000_000)])
          .describe('An array of {step_num, branch, scope, depends_on}, or the same as a JSON string.'),
        priority: z
          .int()
          .min(LIMITS.priorityMin)
          .max(LIMITS.priorityMax)
          .optional()
          .describe('Higher-priority projects are claimed from first.'),
        lease_seconds: z.int().min(0).max(LIMITS.leaseSecondsMax).optional(),
        request_id: RequestIdArg,
      }),
      output: ProjectViewSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a) {
        return withProject(
          await projects.createProject({
            name: a.name,
            baseCommit: a.base_commit,
            steps: parseSteps(a.steps),
            priority: a.priority,
            leaseSeconds: a.lease_seconds,
            requestId: a.request_id,
          }),
        );
      },
    }),
    defineTool({
      name: 'get_project',
      title: 'Get project',
      description: 'Read a project with all its steps: status, holder, branch, worktree, commit, heartbeats.',
      toolsets,
      input: z.object({ name: ProjectName }),
      output: ProjectViewSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        return withProject(await projects.getProject(a.name));
      },
    }),
    defineTool({
      name: 'list_projects',
      title: 'List projects',
      description:
        'List projects with their step counts, highest priority first; filter by status (active, completed).',
      toolsets,
      input: z.object({ status: ProjectStatusArg.optional() }),
      output: z.object({ count: z.number(), projects: z.array(ProjectSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const list = await projects.listProjects(a.status);
        return { count: list.length, projects: list };
      },
    }),
    defineTool({
      name: 'claim_step',
      title: 'Claim a step',
      description:
        'Atomically claim the next ready step of a project (lowest step first). Returns the step, its lease_token and lease_expires_at; claimed=false with the reason when none is ready. Then start_step, heartbeat while working, complete_step or fail_step.',
      toolsets,
      input: z.object({ project: ProjectName, agent_id: AgentArg, request_id: RequestIdArg }),
      output: StepClaimSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a, ctx) {
        const claim = await projects.claimStep(a.project, resolveAgent(a.agent_id, ctx), a.request_id);
        return claim.step ? { ...claim.step, ...claim } : claim;
      },
    }),
    defineTool({
      name: 'start_step',
      title: 'Start a step',
      description: 'Mark your claimed step in progress, recording the git worktree you work in. Extends your lease.',
      toolsets,
      input: z.object({
        step_id: StepId,
        worktree: z.string().min(1).max(LIMITS.fileLength).optional(),
        agent_id: AgentArg,
        request_id: RequestIdArg,
      }),
      output: StepActionSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        const identity = callerIdentity(a.agent_id, ctx);
        return stepAction(
          await projects.startStep(await step(a.step_id), identity, a.worktree, a.request_id),
          identity,
        );
      },
    }),
    defineTool({
      name: 'complete_step',
      title: 'Complete a step',
      description:
        'Complete your step with the commit that holds the work. Steps that depend on it become claimable. Refused with LEASE_LOST if your lease ran out and the step went back to the queue.',
      toolsets,
      input: z.object({
        step_id: StepId,
        commit_hash: z.string().min(4).max(100),
        files_modified: z
          .union([z.array(z.string().max(LIMITS.fileLength)).max(LIMITS.filesPerTask), z.string().max(200_000)])
          .optional()
          .describe('An array of paths, or the same as a JSON string.'),
        notes: z.string().max(LIMITS.resultLength).optional(),
        agent_id: AgentArg,
        lease_token: z.int().min(1).optional(),
        request_id: RequestIdArg,
      }),
      output: StepActionSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        const identity = callerIdentity(a.agent_id, ctx);
        const done = await projects.completeStep({
          stepId: await step(a.step_id),
          agentId: identity,
          commitHash: a.commit_hash,
          filesModified:
            a.files_modified === undefined ? undefined : parseStringList(a.files_modified, 'files_modified'),
          notes: a.notes,
          leaseToken: a.lease_token,
          requestId: a.request_id,
        });
        return stepAction(done, identity);
      },
    }),
    defineTool({
      name: 'fail_step',
      title: 'Fail a step',
      description: 'Give up on your step with the reason. Its dependents wait (blocked) until recover_failed_step.',
      toolsets,
      input: z.object({
        step_id: StepId,
        reason: z.string().min(1).max(LIMITS.resultLength),
        agent_id: AgentArg,
        request_id: RequestIdArg,
      }),
      output: StepActionSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        const identity = callerIdentity(a.agent_id, ctx);
        return stepAction(await projects.failStep(await step(a.step_id), identity, a.reason, a.request_id), identity);
      },
    }),
    defineTool({
      name: 'get_step',
      title: 'Get step',
      description: 'Read one step: its status, holder, dependencies, commit and result.',
      toolsets,
      input: z.object({ step_id: StepId }),
      output: StepSchema.extend({ step: StepSchema }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const found = await projects.getStep(await step(a.step_id));
        return { ...found, step: found };
      },
    }),
    defineTool({
      name: 'get_available_steps',
      title: 'Available steps',
      description:
        'Steps ready to claim now, across all projects (highest project priority first) or in one; filter by scope.',
      toolsets,
      input: z.object({ project: ProjectName.optional(), scope: z.string().min(1).max(LIMITS.fileLength).optional() }),
      output: z.object({ count: z.number(), steps: z.array(StepSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const steps = await projects.getAvailableSteps(a.project, a.scope);
        return { count: steps.length, steps };
      },
    }),
    defineTool({
      name: 'detect_stale_work',
      title: 'Detect stale work',
      description:
        'Steps held by agents that have not heartbeated for timeout_minutes (default 15). Leases already return such steps to the queue by themselves; use recover_step to force one back now.',
      toolsets,
      input: z.object({
        timeout_minutes: z
          .number()
          .min(0)
          .max(7 * 24 * 60)
          .default(15),
      }),
      output: z.object({
        count: z.number(),
        stale: z.array(z.object({ step: StepSchema, minutes_since_heartbeat: z.number() })),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const stale = await projects.detectStaleWork(a.timeout_minutes);
        return { count: stale.length, stale };
      },
    }),
    defineTool({
      name: 'recover_step',
      title: 'Recover a step',
      description:
        'Force a claimed or in-progress step back to the queue now, whoever holds it (its holder’s later calls get LEASE_LOST).',
      toolsets,
      input: z.object({ step_id: StepId, request_id: RequestIdArg }),
      output: StepActionSchema.omit({ acted_as: true }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async run(a, ctx) {
        const acting = { by: ctx.tokenSubject ?? ctx.agentId, holderOnly: holderOnly(ctx) };
        return { ok: true as const, step: await projects.recoverStep(await step(a.step_id), a.request_id, acting) };
      },
    }),
    defineTool({
      name: 'recover_failed_step',
      title: 'Recover a failed step',
      description:
        'Put a failed step back in the queue, archiving its failure in `failures`; its dependents are unblocked.',
      toolsets,
      input: z.object({ step_id: StepId, request_id: RequestIdArg }),
      output: StepActionSchema.omit({ acted_as: true }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      async run(a) {
        return { ok: true as const, step: await projects.recoverFailedStep(await step(a.step_id), a.request_id) };
      },
    }),
    defineTool({
      name: 'get_metrics',
      title: 'Metrics',
      description:
        'Step counts, average claim-to-complete and start-to-complete times, per scope and per agent; for one project or all, optionally one agent.',
      toolsets,
      input: z.object({ project: ProjectName.optional(), agent_id: AgentIdArg.optional() }),
      output: MetricsSchema.extend({
        projects: z.number(),
        total_steps: z.number(),
        completed: z.number(),
        steps_completed: z.number(),
        avg_time_hours: z.number().nullable().describe('Average claim-to-complete time of completed steps.'),
        scopes: z.record(z.string(), CountsSchema).describe('Step counts per scope (hq’s name for by_scope).'),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const m = await projects.getMetrics(a.project, a.agent_id);
        const seconds = m.avg_seconds_claim_to_complete;
        return {
          ...m,
          total_steps: m.counts.total,
          completed: m.counts.completed,
          steps_completed: m.counts.completed,
          avg_time_hours: seconds === null ? null : Math.round((seconds / 3600) * 1000) / 1000,
          scopes: m.by_scope,
        };
      },
    }),
    defineTool({
      name: 'get_agent_events',
      title: 'Agent events',
      description:
        'The durable event log (claims, starts, completions, failures, expiries, recoveries), newest first; filter by agent and project.',
      toolsets,
      input: z.object({
        agent_id: AgentIdArg.optional(),
        project: ProjectName.optional(),
        limit: z.int().min(1).max(LIMITS.listLimitMax).default(100),
      }),
      output: z.object({ count: z.number(), events: z.array(GoalEventSchema.extend({ project_id: z.string() })) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(a) {
        const events = await projects.getAgentEvents(a.agent_id, a.project, a.limit);
        return { count: events.length, events };
      },
    }),
  ];
}

function withProject(view: { project: z.infer<typeof ProjectSchema>; steps: Array<z.infer<typeof StepSchema>> }) {
  return { ...view.project, ...view };
}
