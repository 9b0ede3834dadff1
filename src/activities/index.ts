/**
 * Activities: plain async functions built from their dependencies. Workflows reach other workflows' Updates only
 * through an activity (a workflow can signal, not update), so a relay completing its goal's task goes through here.
 */
import type { GoalsClient } from '../client/goals';
import { AppError } from '../client/errors';
import { ApplicationFailure } from '@temporalio/common';

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
