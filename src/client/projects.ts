/**
 * hq's projects and steps by intent, on the goals API: a project is a goal whose id is its name, a step a task.
 */
import { type GoalEvent, type GoalStatus, type Task, type GoalSummary } from '../domain/schemas';
import {
  computeMetrics,
  stepCountsOf,
  staleSteps,
  stepsToPlan,
  toStep,
  type Metrics,
  type StaleStep,
  type Step,
  type StepSpec,
} from '../domain/projects';
import { getEventsQuery } from '../workflows/messages';
import { AppError } from './errors';
import type { ClaimOutcome, GoalsClient } from './goals';

export const PROJECT_LEASE_SECONDS = 900;

export interface ProjectView {
  id: string;
  name: string;
  base_commit: string | null;
  status: GoalStatus;
  priority: number;
  lease_seconds: number;
  created_at: string;
  updated_at: string;
  progress: number;
  step_counts: Metrics['counts'];
}

function projectView(goal: GoalSummary, tasks?: readonly Task[]): ProjectView {
  return {
    id: goal.id,
    name: goal.name,
    base_commit: typeof goal.metadata.base_commit === 'string' ? goal.metadata.base_commit : null,
    status: goal.status,
    priority: goal.priority,
    lease_seconds: goal.lease_seconds,
    created_at: goal.created_at,
    updated_at: goal.updated_at,
    progress: goal.progress,
    step_counts: tasks ? computeMetrics(tasks).counts : stepCountsOf(goal.task_counts),
  };
}

export type StepClaim =
  | { claimed: true; step: Step; lease_token: number | null; lease_expires_at: string | null; reason: null }
  | { claimed: false; step: null; lease_token: null; lease_expires_at: null; reason: string };

function toStepClaim(c: ClaimOutcome): StepClaim {
  return c.claimed && c.task
    ? {
        claimed: true,
        step: toStep(c.task),
        lease_token: c.lease_token,
        lease_expires_at: c.lease_expires_at,
        reason: null,
      }
    : {
        claimed: false,
        step: null,
        lease_token: null,
        lease_expires_at: null,
        reason: c.reason ?? 'No step is ready.',
      };
}

const isProject = (g: GoalSummary): boolean => g.metadata.kind === 'project';

export function createProjectsClient(goals: GoalsClient) {
  /** Every running project with all its tasks (for cross-project reads). */
  async function allProjects(limit = 500): Promise<Array<{ goal: GoalSummary; tasks: Task[] }>> {
    const ids = await goals.runningGoalIds(limit);
    const views = await goals.mapLimited(ids, 16, (id) => goals.getGoal(id).catch(() => undefined));
    return views.filter((v): v is NonNullable<typeof v> => v !== undefined && isProject(v.goal));
  }

  async function project(name: string): Promise<{ goal: GoalSummary; tasks: Task[] }> {
    try {
      return await goals.getGoal(name);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') {
        throw new AppError('NOT_FOUND', `Project ${name} does not exist. Call list_projects to see the projects.`);
      }
      throw err;
    }
  }

  const api = {
    async createProject(input: {
      name: string;
      baseCommit: string;
      steps: StepSpec[];
      priority?: number;
      leaseSeconds?: number;
      requestId?: string;
    }): Promise<{ project: ProjectView; steps: Step[] }> {
      const plan = stepsToPlan(input.steps);
      await goals.createGoal({
        goalId: input.name,
        name: input.name,
        description: `Project ${input.name} from ${input.baseCommit}`,
        metadata: { kind: 'project', base_commit: input.baseCommit },
        leaseSeconds: input.leaseSeconds ?? PROJECT_LEASE_SECONDS,
        priority: input.priority,
        tasks: plan,
        source: 'create_project',
        requestId: input.requestId,
      });
      return api.getProject(input.name);
    },

    async getProject(name: string): Promise<{ project: ProjectView; steps: Step[] }> {
      const view = await project(name);
      return { project: projectView(view.goal, view.tasks), steps: view.tasks.map(toStep) };
    },

    async listProjects(status?: GoalStatus): Promise<ProjectView[]> {
      const list = await goals.listGoals(status, 1000);
      // One Visibility call: each row's step counts come from its goal's task counts.
      const views = list.filter(isProject).map((g) => projectView(g));
      return views.sort((a, b) => b.priority - a.priority || a.created_at.localeCompare(b.created_at));
    },

    async claimStep(projectName: string, agentId: string, requestId?: string): Promise<StepClaim> {
      return toStepClaim(await goals.claimNextTask({ goalId: goals.checkGoalId(projectName), agentId, requestId }));
    },

    async startStep(stepId: string, agentId: string | undefined, worktree?: string, requestId?: string): Promise<Step> {
      const metadata = worktree ? { worktree } : undefined;
      return toStep(await goals.setTaskStatus({ taskId: stepId, status: 'in_progress', agentId, metadata, requestId }));
    },

    async completeStep(input: {
      stepId: string;
      agentId?: string;
      commitHash: string;
      filesModified?: string[];
      notes?: string;
      leaseToken?: number;
      requestId?: string;
    }): Promise<Step> {
      const task = await goals.setTaskStatus({
        taskId: input.stepId,
        status: 'completed',
        agentId: input.agentId,
        leaseToken: input.leaseToken,
        result: input.notes ?? `commit ${input.commitHash}`,
        metadata: {
          commit_hash: input.commitHash,
          files_modified: input.filesModified ?? [],
          notes: input.notes ?? null,
        },
        requestId: input.requestId,
      });
      return toStep(task);
    },

    async failStep(stepId: string, agentId: string | undefined, reason: string, requestId?: string): Promise<Step> {
      return toStep(await goals.setTaskStatus({ taskId: stepId, status: 'failed', agentId, error: reason, requestId }));
    },

    async getStep(stepId: string): Promise<Step> {
      return toStep(await goals.getTask(stepId));
    },

    /** Ready steps: of one project, or across projects in claim order (project priority, then step order). */
    async getAvailableSteps(projectName?: string, scope?: string): Promise<Step[]> {
      const sources = projectName ? [await project(goals.checkGoalId(projectName))] : await allProjects();
      sources.sort((a, b) => b.goal.priority - a.goal.priority || a.goal.created_at.localeCompare(b.goal.created_at));
      const inScope = (t: Task) =>
        scope === undefined ||
        (t.scope !== null && (t.scope === scope || t.scope.startsWith(scope.endsWith('/') ? scope : `${scope}/`)));
      return sources.flatMap((p) => p.tasks.filter((t) => t.status === 'ready' && inScope(t)).map(toStep));
    },

    async detectStaleWork(timeoutMinutes: number): Promise<StaleStep[]> {
      const now = Date.now();
      return (await allProjects()).flatMap((p) => staleSteps(p.tasks, now, timeoutMinutes));
    },

    async recoverStep(
      stepId: string,
      requestId?: string,
      acting: { by?: string; holderOnly?: boolean } = {},
    ): Promise<Step> {
      return toStep(await goals.recoverTask(stepId, 'recover_step', requestId, acting));
    },

    async recoverFailedStep(stepId: string, requestId?: string): Promise<Step> {
      return toStep(await goals.retryTask(stepId, requestId, true));
    },

    async getMetrics(projectName?: string, agentId?: string): Promise<Metrics & { projects: number }> {
      const sources = projectName ? [await project(goals.checkGoalId(projectName))] : await allProjects();
      const tasks = sources.flatMap((p) => p.tasks).filter((t) => agentId === undefined || t.agent_id === agentId);
      return { projects: sources.length, ...computeMetrics(tasks) };
    },

    async getAgentEvents(
      agentId?: string,
      projectName?: string,
      limit = 100,
    ): Promise<Array<GoalEvent & { project_id: string }>> {
      const names = projectName ? [goals.checkGoalId(projectName)] : (await allProjects()).map((p) => p.goal.id);
      const perProject = await goals.mapLimited(names, 16, async (name) => {
        const events = await goals.queryGoal(name, getEventsQuery, { limit: 500 });
        return events
          .filter((e) => agentId === undefined || e.agent_id === agentId)
          .map((e) => ({ ...e, project_id: name }));
      });
      return perProject
        .flat()
        .sort((a, b) => b.at.localeCompare(a.at) || b.seq - a.seq)
        .slice(0, limit);
    },
  };
  return api;
}

export type ProjectsClient = ReturnType<typeof createProjectsClient>;
