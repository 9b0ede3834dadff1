/**
 * Every Update, Signal and Query of the project's workflows, typed once and shared by the workflows, the client
 * and the tests. The names are what `temporal workflow update execute --name …` and `query --name …` take.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { GoalState } from '../domain/goal';
import type {
  ClaimInput,
  ClaimResult,
  CompleteInput,
  CreateTasksInput,
  FailInput,
  GoalEvent,
  GoalView,
  HeartbeatInput,
  HeartbeatResult,
  HolderInput,
  ListTasksInput,
  Task,
  TaskRefInput,
} from '../domain/schemas';

export const TASK_QUEUE = 'agent-runtime';

export const goalWorkflowId = (goalId: string): string => `goal-${goalId}`;

/** What a goal workflow starts with and carries across continue-as-new. */
export interface GoalWorkflowInput {
  state: GoalState;
  /** Update ids already applied, with their results, so a retry after continue-as-new is answered, not re-applied. */
  applied?: Array<[string, unknown]>;
}

export const createTasksUpdate = defineUpdate<Task[], [CreateTasksInput]>('createTasks');
export const claimTaskUpdate = defineUpdate<ClaimResult, [ClaimInput]>('claimTask');
export const startTaskUpdate = defineUpdate<ClaimResult, [HolderInput]>('startTask');
export const heartbeatUpdate = defineUpdate<HeartbeatResult, [HeartbeatInput]>('heartbeat');
export const completeTaskUpdate = defineUpdate<Task, [CompleteInput]>('completeTask');
export const failTaskUpdate = defineUpdate<Task, [FailInput]>('failTask');
export const releaseTaskUpdate = defineUpdate<Task, [HolderInput]>('releaseTask');
export const retryTaskUpdate = defineUpdate<Task, [TaskRefInput]>('retryTask');
export const cancelTaskUpdate = defineUpdate<Task, [TaskRefInput]>('cancelTask');

export const getGoalQuery = defineQuery<GoalView>('getGoal');
export const getTaskQuery = defineQuery<Task | null, [{ taskId: string }]>('getTask');
export const listTasksQuery = defineQuery<Task[], [ListTasksInput]>('listTasks');
export const getEventsQuery = defineQuery<GoalEvent[], [{ limit?: number }]>('getEvents');
