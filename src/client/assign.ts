/**
 * Push assignment (DESIGN §7): a new task goes to an online, idle agent of its codebase (or one that works across
 * codebases) that has every capability it needs — fewest queued tasks first, then the one idle longest. The goal
 * records the assignment first (only that agent may then claim the task), then the agent's workflow takes the
 * reference into its inbox; if it refuses (it went offline, it lacks a capability), the next agent is tried, and with
 * no one left the task stays in the pool, where the first fitting agent to ask for work takes it.
 */
import type { AgentRow } from '../domain/agents';
import type { Task } from '../domain/schemas';
import type { AgentsClient } from './agents';
import { AppError } from './errors';
import type { GoalsClient } from './goals';

export interface PushOptions {
  codebaseId?: string;
  required: string[];
}

/** Fitting agents, best first (pure: the board's rows and this process's recent pushes). */
export function rankCandidates(
  rows: AgentRow[],
  opts: PushOptions,
  recentPushes: (agentId: string) => number,
): AgentRow[] {
  return rows
    .filter(
      (a) =>
        a.online &&
        a.status === 'idle' &&
        (opts.codebaseId === undefined || a.codebase_id === opts.codebaseId || a.cross_codebase_capable) &&
        opts.required.every((c) => a.capabilities.includes(c)),
    )
    .map((a) => ({ a, queued: a.pending_tasks + recentPushes(a.agent_id) }))
    .sort(
      (x, y) =>
        x.queued - y.queued ||
        (x.a.idle_since ?? x.a.last_heartbeat).localeCompare(y.a.idle_since ?? y.a.last_heartbeat) ||
        x.a.agent_id.localeCompare(y.a.agent_id),
    )
    .map((x) => x.a);
}

export function createAssigner(goals: GoalsClient, agents: AgentsClient) {
  return {
    /** Pushes a created task to the best fitting agent; its id, or null when the task stays in the pool. */
    async push(task: Task, opts: PushOptions): Promise<string | null> {
      const rows = await agents.board(undefined, undefined);
      let assigned = false;
      for (const agent of rankCandidates(rows, opts, (id) => agents.recentPushes(id)).slice(0, 8)) {
        await goals.assignTask(task.id, agent.agent_id);
        assigned = true;
        try {
          await agents.push(agent.agent_id, {
            taskId: task.id,
            goalId: task.goal_id,
            title: task.title,
            priority: task.priority,
            required: opts.required,
          });
          return agent.agent_id;
        } catch (err) {
          if (!(err instanceof AppError) || (err.code !== 'CONFLICT' && err.code !== 'NOT_FOUND')) throw err;
        }
      }
      if (assigned) await goals.assignTask(task.id, null);
      return null;
    },

    /** Straight into one named agent's inbox (create_agent_task, register_task_set), even while it is offline. */
    async pushTo(agentId: string, task: Task): Promise<void> {
      await agents.push(agentId, {
        taskId: task.id,
        goalId: task.goal_id,
        title: task.title,
        priority: task.priority,
        direct: true,
      });
    },
  };
}
