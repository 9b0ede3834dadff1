/**
 * Push assignment (DESIGN §7): a new task goes to an online, idle agent of its codebase (or one that works across
 * codebases) that has every capability it needs — fewest queued tasks first, then the one idle longest. The goal
 * records the assignment first (only that agent may then claim the task), then the agent's workflow takes the
 * reference into its inbox; if it refuses (it went offline, it lacks a capability), the next agent is tried, and with
 * no one left the task stays in the pool, where the first fitting agent to ask for work takes it.
 */
import type { AgentRow, TaskRef } from '../domain/agents';
import type { Task } from '../domain/schemas';
import type { AgentsClient } from './agents';
import { log } from '../logger';
import { AppError } from './errors';
import type { GoalsClient } from './goals';

/** A task offered to an agent, and the agent's row once the task is in its inbox. */
export interface Offered {
  taskId: string;
  row: AgentRow;
}

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

/** The reference an agent's inbox keeps for a task. */
function refOf(task: Task, extra: Partial<TaskRef> = {}): TaskRef {
  return { taskId: task.id, goalId: task.goal_id, title: task.title, priority: task.priority, ...extra };
}

/** How an agent's workflow refuses a push: offline or gone, not capable, or its state full (see state-size.ts). */
const REFUSALS: readonly string[] = ['CONFLICT', 'NOT_FOUND', 'INVALID_ARGUMENT'];

/** Connections whose reservations sent back are noted on their agents (see noteReturns). */
const returnsNoted = new WeakSet<GoalsClient>();

export function createAssigner(goals: GoalsClient, agents: AgentsClient) {
  /**
   * From the first claim made ahead that is noted on an agent (with the completion that made it), each one sent back
   * untaken is struck from its agent's record, and an agent of a codebase that is idle then is offered queued work,
   * as it would have been at that completion (once per connection, however many assigners are made on it).
   */
  const noteReturns = (): void => {
    if (returnsNoted.has(goals)) return;
    returnsNoted.add(goals);
    goals.onReservationReturned(({ agentId, claim }) => {
      if (!claim.task || !agents.seemsRegistered(agentId)) return;
      const taskId = claim.task.id;
      goals.background(agents.noteTask(agentId, { returned: { id: taskId } }).then(() => offerIfIdle(agentId, taskId)));
    });
  };

  /**
   * An offer not made: the task stays in the pool. A warning, unless the process is stopping (it cuts off what it left
   * going, and says nothing about the agent or the task).
   */
  const notOffered = (what: string, err: unknown): void => {
    const why = err instanceof Error ? err.message : String(err);
    (goals.draining() ? log.debug : log.warn)(`no queued task offered to ${what}; it stays in the pool`, { why });
  };

  /** After the agent's note (a query sees it): an agent of a codebase that is idle is offered queued work. */
  async function offerIfIdle(agentId: string, taskId: string): Promise<void> {
    if (agents.codebaseOf(agentId) === null) return;
    await agents
      .rowAside(agentId)
      .then((row) => (row.status === 'idle' ? api.offer(row) : null))
      .catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'NOT_FOUND') return; // unregistered meanwhile
        notOffered(`${agentId} after its task ${taskId}`, err);
      });
  }

  const api = {
    /** The fitting agents, best first; create the task assigned to the first (one Update), then deliver(). */
    async candidates(opts: PushOptions): Promise<AgentRow[]> {
      const rows = await agents.board(undefined, undefined);
      const ranked = rankCandidates(rows, opts, (id) => agents.recentPushes(id)).slice(0, 8);
      // Many calls ranked from one board read (it is shared while in flight) must not all pick the same agent.
      if (ranked[0]) agents.notePick(ranked[0].agent_id);
      return ranked;
    },

    /**
     * Puts a task created assigned to candidates[0] into that agent's inbox; if it refuses, reassigns to the next, and
     * with no one left clears the assignment (the task is queued). Returns the agent, or null.
     */
    async deliver(task: Task, candidates: Array<{ agent_id: string }>, opts: PushOptions): Promise<string | null> {
      for (const [i, agent] of candidates.entries()) {
        try {
          if (i > 0) await goals.assignTask(task.id, agent.agent_id);
          await agents.push(agent.agent_id, refOf(task, { required: opts.required }));
          return agent.agent_id;
        } catch (err) {
          if (!(err instanceof AppError) || !REFUSALS.includes(err.code)) throw err;
          // Refused (offline, not capable, its state full) — or, on reassigning, the task was taken meanwhile: then
          // it is done.
          const now = await goals.getTask(task.id);
          if (now.status !== 'ready' && now.status !== 'pending' && now.status !== 'blocked') return now.agent_id;
        }
      }
      if (candidates.length > 0) {
        await goals.assignTask(task.id, null).catch((err: unknown) => {
          if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err; // taken meanwhile
        });
      }
      return null;
    },

    /**
     * An agent that just registered or turned idle is offered the best queued task of its codebase that it is capable
     * of (ready, pushed to no one): assigned in the goal, then put in its inbox. Returns the task and the agent's row,
     * or null.
     *
     * It follows a call that has already done what it was asked (a registration, a completion), so it never fails
     * that call: an offer that cannot be made now leaves the task in the pool, where the agent's next claim (or the
     * next offer) finds it.
     */
    async offer(agent: AgentRow): Promise<Offered | null> {
      if (!agent.online || agent.codebase_id === null) return null;
      return offerFrom(agent.codebase_id, agent).catch((err: unknown) => {
        notOffered(`${agent.agent_id} this time`, err);
        return null;
      });
    },

    /**
     * An agent finished a task (completed, failed or handed back): its workflow is told (a Signal, awaited), then, in
     * the background, an agent of a codebase that is idle now is offered queued work. The call that finished the task
     * answers without waiting for the offer: its task is done either way, and an offer not made leaves the task in the
     * pool, where the agent's next claim finds it.
     */
    async noteFinished(agentId: string, taskId: string, completed: boolean): Promise<void> {
      // A completion that claimed the agent's next task ahead of its call (prefetch) says so in the same Signal: the
      // agent holds it from now, and its next claim answers with it without a note of its own.
      const next = goals.reservedFor(agentId)?.claim.task;
      const reserved = next ? { reserved: { id: next.id, title: next.title } } : {};
      if (next) noteReturns();
      await agents.noteTask(agentId, { finished: { id: taskId, completed }, ...reserved });
      if (!agents.seemsRegistered(agentId)) return;
      // Kept by the client until it settles, so a server shutting down lets an offer begun finish (drain()).
      goals.background(offerIfIdle(agentId, taskId));
    },

    /** Straight into one named agent's inbox (create_agent_task, register_task_set), even while it is offline. */
    async pushTo(agentId: string, task: Task): Promise<void> {
      await agents.push(agentId, refOf(task, { direct: true }));
    },
  };
  return api;

  async function offerFrom(codebaseId: string, agent: AgentRow): Promise<Offered | null> {
    const ready = await goals.listTasks(codebaseId, 'ready', 200).catch((err: unknown) => {
      if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) return [];
      throw err;
    });
    // A queued task already assigned to this agent (an offer made by this same call the first time, when it is
    // retried with its request_id, or one cut off before it reached the inbox) is put into its inbox again — a push is
    // idempotent — instead of a second task being offered.
    const mine = ready.find((t) => t.metadata.assigned_to === agent.agent_id);
    if (mine) {
      const row = await agents.push(agent.agent_id, refOf(mine, { required: mine.tags })).catch((err: unknown) => {
        if (err instanceof AppError && REFUSALS.includes(err.code)) return null;
        throw err;
      });
      return row && { taskId: mine.id, row };
    }
    const fitting = ready
      .filter((t) => typeof t.metadata.assigned_to !== 'string' && t.tags.every((c) => agent.capabilities.includes(c)))
      .sort((x, y) => y.priority - x.priority);
    for (const task of fitting.slice(0, 3)) {
      try {
        await goals.assignTask(task.id, agent.agent_id);
      } catch (err) {
        if (err instanceof AppError && err.code === 'CONFLICT') continue; // taken meanwhile
        throw err;
      }
      try {
        return { taskId: task.id, row: await agents.push(agent.agent_id, refOf(task, { required: task.tags })) };
      } catch (err) {
        await goals.assignTask(task.id, null).catch(() => undefined);
        if (err instanceof AppError && REFUSALS.includes(err.code)) return null;
        throw err;
      }
    }
    return null;
  }
}
