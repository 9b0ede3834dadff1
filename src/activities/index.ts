/**
 * Activities: plain async functions built from their dependencies. Workflows reach other workflows' Updates only
 * through an activity (a workflow can signal, not update), so a relay completing its goal's task goes through here.
 */
import type { GoalsClient } from '../client/goals';
import type { Task } from '../domain/schemas';
import { AppError } from '../client/errors';
import { ApplicationFailure } from '@temporalio/common';
import { createWorkspacesClient } from '../client/workspaces';
import { wsDisconnectUpdate } from '../workflows/workspace-messages';
import { agentRowQuery, agentWorkflowId } from '../workflows/messages';
import { assigneeOf } from '../domain/goal';

export interface ActivityDeps {
  goals: GoalsClient;
}

export interface FinishGoalTaskInput {
  taskId: string;
  agentId: string;
  outcome: 'completed' | 'failed';
  result: string;
  /** One update id for all of this activity's retries. */
  requestId: string;
}

export function createActivities(deps: ActivityDeps) {
  return {
    /**
     * Puts every task an agent holds back in the queue (it went offline past its grace, or unregistered): first the
     * tasks its workflow saw it take lately (`held`), by id, since a goal may not list its new holder in Visibility yet
     * right after a claim; then those of the goals Visibility lists it in (ArAgents), each recovered inside its goal.
     * Returns how many.
     */
    async releaseAgentWork(input: {
      agentId: string;
      unassign?: string[];
      round?: number;
      held?: string[];
    }): Promise<number> {
      const unassign = (taskId: string): Promise<unknown> =>
        deps.goals
          .assignTask(taskId, null, `unassign:${input.agentId}:${input.round ?? 0}:${taskId}`, input.agentId)
          .catch((err: unknown) => {
            if (!(err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND'))) throw err;
          });
      // Tasks pushed to the agent and not taken (and still its own): anyone fitting may take them now.
      for (const taskId of input.unassign ?? []) await unassign(taskId);
      // So are tasks of its codebase assigned to it but never put into its inbox: a push or an offer of queued work
      // stopped between its two steps (the assignment in the goal, then the inbox) by a process that went away.
      const codebase = await deps.goals
        .withClient(
          (client) => client.workflow.getHandle(agentWorkflowId(input.agentId)).query(agentRowQuery),
          `Agent ${input.agentId}`,
          { workflowId: agentWorkflowId(input.agentId) },
        )
        .then(
          (row) => row.codebase_id,
          () => null,
        );
      if (codebase !== null) {
        const done = new Set(input.unassign ?? []);
        const notTaken = new Set<string>(['ready', 'pending', 'blocked']);
        let cursor: string | undefined;
        do {
          const page = await deps.goals
            .listTasksPage(codebase, undefined, 1000, cursor)
            .catch(() => ({ tasks: [] as Task[], nextCursor: null }));
          for (const t of page.tasks) {
            if (notTaken.has(t.status) && assigneeOf(t) === input.agentId && !done.has(t.id)) await unassign(t.id);
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
      }
      const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      let released = 0;
      const seen = new Set<string>();
      const release = async (t: Task): Promise<void> => {
        if (seen.has(t.id)) return;
        seen.add(t.id);
        if ((t.status !== 'claimed' && t.status !== 'in_progress') || t.agent_id !== input.agentId) return;
        await deps.goals
          .recoverTask(t.id, `agent ${input.agentId} offline`, `release:${input.agentId}:${t.id}:${t.lease_token}`)
          .then(() => (released += 1))
          .catch((err: unknown) => {
            if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err; // already moved on
          });
      };
      for (const taskId of input.held ?? []) {
        const task = await deps.goals.getTask(taskId).catch((err: unknown) => {
          if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT'))
            return undefined;
          throw err;
        });
        if (task) await release(task);
      }
      const goals = await deps.goals.listIndexed(
        `ExecutionStatus = 'Running' AND ArEntity = 'goal' AND ArAgents = ${quote(input.agentId)}`,
        500,
      );
      for (const g of goals) {
        for (const t of (await deps.goals.getGoal(g.id)).tasks) await release(t);
      }
      // Task-graph workspaces: its claims go back and its marks are released, in each workspace's own step.
      const workspaces = await deps.goals.listIndexed(
        `ExecutionStatus = 'Running' AND ArEntity = 'workspace' AND ArAgents = ${quote(input.agentId)}`,
        500,
      );
      for (const w of workspaces) {
        const r = await createWorkspacesClient(deps.goals).update(
          w.name,
          wsDisconnectUpdate,
          { worker_id: input.agentId },
          `release:${input.agentId}:${input.round ?? 0}:${w.name}`,
        );
        released += (r.released_tasks as string[] | undefined)?.length ?? 0;
      }
      return released;
    },
    /** Completes (or fails) the goal task a relay pipeline stands for. Permanent refusals are not retried. */
    async finishGoalTask(input: FinishGoalTaskInput): Promise<string> {
      try {
        const task = await deps.goals.setTaskStatus({
          taskId: input.taskId,
          status: input.outcome,
          agentId: input.agentId,
          result: input.outcome === 'completed' ? input.result : undefined,
          error: input.outcome === 'failed' ? input.result : undefined,
          requestId: input.requestId,
        });
        return task.status;
      } catch (err) {
        if (err instanceof AppError && err.code !== 'TEMPORAL_UNAVAILABLE' && err.code !== 'INTERNAL') {
          throw ApplicationFailure.nonRetryable(err.message, err.code);
        }
        throw err;
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
