/** Agents by intent: register, keep alive, unregister, messages, the board. */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueryNotRegisteredError, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import {
  AgentRowSchema,
  fetchMessages,
  newAgentState,
  work,
  type AgentRow,
  type AgentWork,
  type FetchInput,
  type Message,
  type AgentState,
  type RegisterInput,
  type TaskRef,
  type TouchInput,
} from '../domain/agents';
import {
  acknowledgeMessageUpdate,
  agentMessagesQuery,
  agentRowQuery,
  agentStateQuery,
  agentWorkQuery,
  agentWorkflowId,
  deliverMessageUpdate,
  fetchMessagesUpdate,
  noteTaskUpdate,
  popTaskUpdate,
  pushTaskUpdate,
  registerAgentUpdate,
  touchAgentSignal,
  unregisterAgentUpdate,
  waitMarksUpdate,
  type AgentWorkflowInput,
} from '../workflows/messages';
import type { agentWorkflow } from '../workflows/agent';
import { agentSearchAttributes } from '../workflows/search-attributes';
import { AppError } from './errors';
import { askedUntil } from './query-gate';
import { RECENT_CHANGE_MS, RECENT_LIVE_MAX, recentlyTouched } from './recent';
import { callerKey, digestSuffix, refuseReusedKey } from '../domain/request-ids';
import type { GoalsClient, WorkflowTarget } from './goals';

const TOUCH_EVERY_MS = 2_000;
const NOT_AGENT_FOR_MS = 10_000;
const touches = new WeakMap<GoalsClient, Map<string, { at: number; registered: boolean }>>();
/** Per agent, how often a plain touch may go when that is more often than TOUCH_EVERY_MS (a short ttl). */
const touchPeriods = new WeakMap<GoalsClient, Map<string, number>>();

/**
 * How often a plain touch may be sent for an agent with this row: every TOUCH_EVERY_MS, or a third of its ttl when
 * that is shorter, so an agent calling steadily never runs out of its ttl between two touches.
 */
export function touchPeriod(row: Pick<AgentRow, 'expires_at' | 'last_heartbeat'>): number {
  const ttl = Date.parse(row.expires_at) - Date.parse(row.last_heartbeat);
  return Number.isFinite(ttl) && ttl > 0 ? Math.min(TOUCH_EVERY_MS, Math.floor(ttl / 3)) : TOUCH_EVERY_MS;
}
const RECENT_PUSH_MS = 5_000;
const CAPS_MS = 5_000;
const caps = new Map<string, { at: number; value: string[] | undefined }>();
const recent = new Map<string, number[]>();
/** Agents chosen for a push whose push has not been sent yet (see notePick). */
const picks = new Map<string, number[]>();
function fresh(times: number[] | undefined, now: number): number[] {
  return (times ?? []).filter((at) => now - at < RECENT_PUSH_MS);
}
function pushedRecently(agentId: string): void {
  const now = Date.now();
  const kept = fresh(recent.get(agentId), now);
  kept.push(now);
  recent.set(agentId, kept);
  // The push a pick announced has now been sent: it counts once, as a push.
  const pending = fresh(picks.get(agentId), now);
  pending.shift();
  picks.set(agentId, pending);
}

export interface SendRequest {
  from: string;
  to: string[];
  subject: string;
  body: string;
  threadId?: string;
  importance?: 'low' | 'normal' | 'high' | 'urgent';
  ackRequired?: boolean;
  requestId?: string;
}

/** How long an agent's codebase, once seen, is trusted here (it changes only with a new registration). */
const CODEBASE_MS = 60_000;
/** Each agent's codebase as last seen, per Temporal connection (see codebaseOf). */
const codebases = new WeakMap<GoalsClient, Map<string, { id: string | null; at: number }>>();

/** Agents registered through each Temporal connection a moment ago (see boardDetails). */
const registeredHere = new WeakMap<GoalsClient, ReturnType<typeof recentlyTouched>>();

/**
 * The agents a board read must add to what Visibility listed: those registered here a moment ago that it does not
 * list yet (and that the read asks for), the newest `max`.
 */
export function unlistedRegistrations(
  listed: readonly string[],
  registered: readonly string[],
  agentId?: string,
  max = RECENT_LIVE_MAX,
): string[] {
  const have = new Set(listed);
  return registered.filter((id) => !have.has(id) && (agentId === undefined || id === agentId)).slice(-max);
}

/** How long a side call on an agent's workflow may wait for the agent's worker (see sideCall). */
const SIDE_CALL_DEADLINE_MS = 10_000;

/** How long a claim waits for a side call on the agent's own workflow (its board note, its capabilities). */
const SIDE_CALL_MS = 2_000;

/**
 * A long-poll in the agent's workflow, asked again for what is left of its wait when it came back early with nothing:
 * the workflow answers a waiting Update at once when it is about to continue as new, and the wait goes on in the new
 * run (as get_next_task's does on a goal). Over once `done` holds or less than 50 ms of the wait is left. Asked again
 * at once the first time; after that with a growing pause (25 ms to 200 ms), so a run that cannot continue as new yet
 * (its release of work still going) is not asked in a tight loop. Nothing is missed meanwhile: a message or a mark
 * that came is found by the next ask.
 */
async function untilDeadline<T>(
  waitMs: number,
  ask: (waitMs: number) => Promise<T>,
  done: (r: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  let left = waitMs;
  for (let again = 0; ; again++) {
    if (again > 1) await sleep(Math.min(200, 25 * 2 ** (again - 2), left));
    const r = await ask(Math.max(1, Math.ceil(deadline - Date.now())));
    left = deadline - Date.now();
    if (done(r) || left <= 50) return r;
  }
}

/** `p`, or `fallback` when it has not settled within `ms` (it goes on in the background; its failure is dropped). */
function within<T>(ms: number, p: Promise<T>, fallback: T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    timer.unref?.();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** An agent's row on the board, with what it has planned (its inbox head) and recently done, from its memo. */
export interface BoardDetail {
  row: AgentRow;
  planned: AgentState['inbox'];
  recent: AgentState['history'];
}

/**
 * A read of part of an agent's state, picked in its workflow (a mailbox can hold a megabyte the read does not need).
 * A worker that predates the narrower query (a rolling upgrade) answers with the whole state, and the part is picked
 * here.
 */
export async function readPart<T>(
  h: WorkflowHandle,
  narrow: (h: WorkflowHandle) => Promise<T>,
  pick: (state: AgentState) => T,
): Promise<T> {
  try {
    return await narrow(h);
  } catch (err) {
    if (!(err instanceof QueryNotRegisteredError)) throw err;
    return pick(await h.query(agentStateQuery));
  }
}

export function createAgentsClient(goals: GoalsClient) {
  const boardReads = new Map<string, Promise<BoardDetail[]>>();
  let seen = touches.get(goals);
  if (!seen) touches.set(goals, (seen = new Map<string, { at: number; registered: boolean }>()));
  const lastTouch = seen;
  let periods = touchPeriods.get(goals);
  if (!periods) touchPeriods.set(goals, (periods = new Map<string, number>()));
  const period = periods;
  let known = codebases.get(goals);
  if (!known) codebases.set(goals, (known = new Map<string, { id: string | null; at: number }>()));
  const codebaseSeen = known;
  let mine = registeredHere.get(goals);
  if (!mine) registeredHere.set(goals, (mine = recentlyTouched(RECENT_CHANGE_MS)));
  const registeredRecently = mine;
  /** Learns the agent's ttl and codebase from a row it answered with. */
  const learn = <R extends AgentRow | undefined>(row: R): R => {
    if (row) {
      const every = touchPeriod(row);
      if (every < TOUCH_EVERY_MS) period.set(row.agent_id, every);
      else period.delete(row.agent_id);
      if (period.size > 10_000) period.delete(period.keys().next().value as string);
      codebaseSeen.delete(row.agent_id);
      codebaseSeen.set(row.agent_id, { id: row.codebase_id, at: Date.now() });
      if (codebaseSeen.size > 10_000) codebaseSeen.delete(codebaseSeen.keys().next().value as string);
    }
    return row;
  };
  const entity = (agentId: string) => `Agent ${agentId}`;
  const target = (agentId: string): WorkflowTarget => ({ workflowId: agentWorkflowId(agentId) });
  const handle = (client: Parameters<Parameters<GoalsClient['withClient']>[0]>[0], agentId: string) =>
    client.workflow.getHandle(agentWorkflowId(agentId));
  const notRegistered = (agentId: string) =>
    new AppError('NOT_FOUND', `No agent ${agentId} is registered. Call register_agent first.`);

  /**
   * `fn` on the agent's workflow; with `bound`, its calls to Temporal give up after `deadlineMs`, or when `signal`
   * aborts.
   */
  async function withAgent<T>(
    agentId: string,
    fn: (h: ReturnType<typeof handle>) => Promise<T>,
    bound?: { deadlineMs: number; signal: AbortSignal },
  ): Promise<T> {
    try {
      return await goals.withClient(
        (client) =>
          bound === undefined
            ? fn(handle(client, agentId))
            : client.withAbortSignal(bound.signal, () =>
                client.withDeadline(Date.now() + bound.deadlineMs, () =>
                  askedUntil(bound.signal, () => fn(handle(client, agentId))),
                ),
              ),
        entity(agentId),
        target(agentId),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND' && /does not exist/.test(err.message)) {
        throw notRegistered(agentId);
      }
      throw err;
    }
  }

  /**
   * A call on the agent's workflow made on the side of another (a note, a read of its capabilities), which may wait for
   * the agent's worker: with that worker gone (another deployment's agent) it must not stay open forever (an RPC per
   * claim left waiting, a connection that cannot close). It gives up after SIDE_CALL_DEADLINE_MS, or when the client
   * drains.
   */
  function sideCall<T>(agentId: string, fn: (h: ReturnType<typeof handle>) => Promise<T>): Promise<T> {
    const stop = new AbortController();
    const sent = withAgent(agentId, fn, { deadlineMs: SIDE_CALL_DEADLINE_MS, signal: stop.signal });
    goals.background(sent, () => stop.abort());
    return sent;
  }

  const narrowRead = <T>(
    agentId: string,
    narrow: (h: WorkflowHandle) => Promise<T>,
    pick: (state: AgentState) => T,
  ): Promise<T> => withAgent(agentId, (h) => readPart(h, narrow, pick));

  const api = {
    async register(input: RegisterInput, requestId?: string): Promise<AgentRow & { session_token: string }> {
      lastTouch.set(input.agentId, { at: Date.now(), registered: true });
      caps.delete(input.agentId);
      registeredRecently.touch(input.agentId);
      return goals.withClient(
        async (client) => {
          const start = new WithStartWorkflowOperation<typeof agentWorkflow>('agentWorkflow', {
            workflowId: agentWorkflowId(input.agentId),
            taskQueue: goals.taskQueue,
            workflowIdConflictPolicy: 'USE_EXISTING',
            args: [{ state: newAgentState(input, Date.now()) } satisfies AgentWorkflowInput],
            typedSearchAttributes: agentSearchAttributes(input.agentId, 'idle'),
            staticSummary: `Agent: ${input.name}`.slice(0, 400),
          });
          return learn(
            await client.workflow.executeUpdateWithStart(registerAgentUpdate, {
              args: [input],
              updateId: requestId ?? randomUUID(),
              startWorkflowOperation: start,
            }),
          );
        },
        entity(input.agentId),
        target(input.agentId),
      );
    },

    async unregister(agentId: string, reason?: string, requestId?: string): Promise<AgentRow> {
      lastTouch.delete(agentId);
      return withAgent(agentId, (h) =>
        h.executeUpdate(unregisterAgentUpdate, { args: [{ reason }], updateId: requestId ?? randomUUID() }),
      );
    },

    async row(agentId: string): Promise<AgentRow> {
      return learn(await withAgent(agentId, (h) => h.query(agentRowQuery)));
    },

    /** row(), read on the side of a call that has answered: bounded, and given up when the client drains (sideCall). */
    async rowAside(agentId: string): Promise<AgentRow> {
      return learn(await sideCall(agentId, (h) => h.query(agentRowQuery)));
    },

    /**
     * Any call of an agent keeps it online: a Signal, sent at most every 2 s per agent (a third of its ttl if that is
     * shorter; at once with a thought or a read), and not at all for 10 s after it turned out the caller is no
     * registered agent. A task taken or finished goes as a `noteTask` Update here, in the background, for callers not
     * known to be registered agents; for known ones `noteTask` below sends it and the call waits for it.
     */
    async touch(agentId: string, news: TouchInput = {}): Promise<void> {
      const now = Date.now();
      const last = lastTouch.get(agentId);
      if (last && !last.registered && now - last.at < NOT_AGENT_FOR_MS) return;
      const plain = news.thought === undefined && !news.took && !news.finished && !news.read;
      if (last?.registered && plain && now - last.at < (period.get(agentId) ?? TOUCH_EVERY_MS)) return;
      lastTouch.set(agentId, { at: now, registered: true });
      if (lastTouch.size > 10_000) lastTouch.delete(lastTouch.keys().next().value as string);
      const send = (h: ReturnType<typeof handle>) =>
        news.took || news.finished
          ? h.executeUpdate(noteTaskUpdate, { args: [news], updateId: randomUUID() }).then(() => undefined)
          : h.signal(touchAgentSignal, news);
      await sideCall(agentId, send).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'NOT_FOUND') lastTouch.set(agentId, { at: now, registered: false });
      });
    },

    /** Delivers to each recipient once: a retried send with the same request_id delivers nothing twice. */
    async send(req: SendRequest): Promise<{
      message_id: string;
      delivered_to: string[];
      not_delivered: Array<{ agent_id: string; reason: string }>;
    }> {
      const messageId = `msg-${createHash('sha256')
        .update(`${req.from}\n${req.requestId === undefined ? randomUUID() : callerKey(req.requestId)}`)
        .digest('hex')
        .slice(0, 16)}`;
      let recipients = req.to;
      if (req.to.includes('*')) {
        const sender = await api.row(req.from).catch(() => undefined);
        const everyone = await api.board(undefined, sender?.codebase_id ?? undefined);
        recipients = everyone.filter((a) => a.online && a.agent_id !== req.from).map((a) => a.agent_id);
        recipients.push(...req.to.filter((t) => t !== '*'));
      }
      const out = {
        message_id: messageId,
        delivered_to: [] as string[],
        not_delivered: [] as Array<{ agent_id: string; reason: string }>,
      };
      await goals.mapLimited([...new Set(recipients)], 16, async (to) => {
        try {
          const r = await withAgent(to, (h) =>
            h.executeUpdate(deliverMessageUpdate, {
              args: [
                {
                  id: messageId,
                  from: req.from,
                  to: recipients,
                  subject: req.subject,
                  body: req.body,
                  threadId: req.threadId,
                  importance: req.importance,
                  ackRequired: req.ackRequired,
                },
              ],
              updateId: `${messageId}:${to}${digestSuffix(req.requestId)}`,
            }),
          );
          // A message already in the mailbox (an earlier try) counts as delivered: it is there, once.
          if (r.message) out.delivered_to.push(to);
        } catch (err) {
          if (err instanceof AppError && err.code === 'CONFLICT' && req.requestId !== undefined) {
            refuseReusedKey(req.requestId); // the message id is derived from the key: name the caller's key
          }
          if (!(err instanceof AppError) || err.code === 'TEMPORAL_UNAVAILABLE') throw err;
          out.not_delivered.push({ agent_id: to, reason: err.message });
        }
      });
      out.delivered_to.sort();
      out.not_delivered.sort((x, y) => x.agent_id.localeCompare(y.agent_id));
      return out;
    },

    async fetch(agentId: string, input: FetchInput): Promise<Message[]> {
      if (!input.waitMs) {
        const found = await narrowRead(
          agentId,
          (h) => h.query(agentMessagesQuery, input),
          (state) => fetchMessages(state, input),
        );
        // What it read is noted in a Signal nobody waits for; until it lands, those messages are simply kept.
        const read = found.filter((m) => m.read_at === null).map((m) => m.seq);
        if (read.length > 0) void api.touch(agentId, { read });
        return found;
      }
      return untilDeadline(
        input.waitMs,
        (waitMs) =>
          withAgent(agentId, (h) =>
            h.executeUpdate(fetchMessagesUpdate, { args: [{ ...input, waitMs }], updateId: randomUUID() }),
          ),
        (found) => found.length > 0,
      );
    },

    /**
     * mark_updates' long-poll, in the agent's own workflow: true once a workspace signals a mark change after `after`,
     * false after waitMs. NOT_FOUND for an agent with no workflow (never registered).
     */
    async waitMarks(agentId: string, input: { workspace: string; after: number; waitMs: number }): Promise<boolean> {
      return untilDeadline(
        input.waitMs,
        (waitMs) =>
          withAgent(agentId, (h) =>
            h.executeUpdate(waitMarksUpdate, { args: [{ ...input, waitMs }], updateId: randomUUID() }),
          ),
        (changed) => changed,
      );
    },

    /** Pushes a task reference into the agent's inbox (the goal records the assignment first). */
    async push(agentId: string, ref: TaskRef): Promise<AgentRow> {
      pushedRecently(agentId);
      return withAgent(agentId, (h) =>
        h.executeUpdate(pushTaskUpdate, { args: [ref], updateId: `push:${ref.taskId}:${agentId}` }),
      );
    },

    async pop(agentId: string, taskId: string): Promise<void> {
      await withAgent(agentId, (h) => h.executeUpdate(popTaskUpdate, { args: [{ taskId }], updateId: randomUUID() }));
    },

    /** What the agent has to work on and has worked on: current task, inbox, history (one query, no mailbox). */
    async work(agentId: string): Promise<AgentWork> {
      return narrowRead(agentId, (h) => h.query(agentWorkQuery), work);
    },

    /** The agent's inbox (best first), or [] for an agent that is not registered. */
    async inbox(agentId: string): Promise<AgentState['inbox']> {
      return api.work(agentId).then(
        (w) => w.inbox,
        (err: unknown) => {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return [];
          throw err;
        },
      );
    },

    /**
     * Tells the agent's workflow it took or finished a task, as a Signal: durable once the server has it, and seen by
     * every later call on the agent (a query or an Update is applied after it), without waiting for the agent's
     * worker. Awaited for an agent this process knows is registered; in the background for anyone else (most callers
     * are no agents at all).
     */
    async noteTask(agentId: string, news: TouchInput): Promise<void> {
      if (!api.seemsRegistered(agentId)) {
        void api.touch(agentId, news);
        return;
      }
      const noted = withAgent(agentId, (h) => h.signal(touchAgentSignal, news)).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'NOT_FOUND') {
          lastTouch.set(agentId, { at: Date.now(), registered: false });
          return;
        }
        throw err;
      });
      // The board's note never holds the call up: a server that cannot take the Signal soon is left to catch up (the
      // agent's next call tells its workflow again).
      return within(SIDE_CALL_MS, noted, undefined);
    },

    /**
     * The agent's codebase as this process last saw it (its registration, a read of its row) within CODEBASE_MS;
     * undefined when not seen lately. An agent of no codebase is never offered queued work.
     */
    codebaseOf(agentId: string): string | null | undefined {
      const seen = codebaseSeen.get(agentId);
      return seen && Date.now() - seen.at < CODEBASE_MS ? seen.id : undefined;
    },

    /** A registered agent's capabilities (read at most every 5 s per process), or undefined for anyone else. */
    async capabilities(agentId: string): Promise<string[] | undefined> {
      const hit = caps.get(agentId);
      if (hit && Date.now() - hit.at < CAPS_MS) return hit.value;
      const value = await within(
        SIDE_CALL_MS,
        api.rowAside(agentId).then(
          (r) => (r.online ? r.capabilities : undefined),
          () => undefined,
        ),
        undefined,
      );
      caps.set(agentId, { at: Date.now(), value });
      return value;
    },

    /** Whether this process last saw the agent registered (from its calls), without asking Temporal. */
    seemsRegistered(agentId: string): boolean {
      return lastTouch.get(agentId)?.registered === true;
    },

    /**
     * Pushes made by this process in the last few seconds, per agent, and agents picked for a push about to be sent:
     * the board lags behind both.
     */
    recentPushes(agentId: string): number {
      const now = Date.now();
      return fresh(recent.get(agentId), now).length + fresh(picks.get(agentId), now).length;
    },

    /**
     * Counts an agent as pushed to from the moment it is picked, until its push is sent (or a few seconds pass): calls
     * ranked from one board read then spread over the agents instead of all picking the same one.
     */
    notePick(agentId: string): void {
      const pending = fresh(picks.get(agentId), Date.now());
      pending.push(Date.now());
      picks.set(agentId, pending);
    },

    async acknowledge(agentId: string, messageId: string, requestId?: string): Promise<Message> {
      return withAgent(agentId, (h) =>
        h.executeUpdate(acknowledgeMessageUpdate, { args: [{ messageId }], updateId: requestId ?? randomUUID() }),
      );
    },

    /** Every agent's row from Visibility (its memo), one list call however many agents there are. */
    async board(agentId?: string, codebaseId?: string): Promise<AgentRow[]> {
      return (await api.boardDetails(agentId, codebaseId)).map((d) => d.row);
    },

    /** The rows with what each agent has planned (its inbox head) and recently done, from the same memos. */
    async boardDetails(agentId?: string, codebaseId?: string): Promise<BoardDetail[]> {
      const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      const filter = agentId ? ` AND ArName = ${quote(agentId)}` : '';
      const query = `ArEntity = 'agent' AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(goals.taskQueue)}${filter}`;
      // Calls that arrive while the same list is in flight share it (500 tasks created by 25 callers at a time: 282
      // list calls instead of 500; the server admits 100 Visibility calls a second per namespace).
      let reading = boardReads.get(query);
      if (!reading) {
        reading = readBoard(query, agentId).finally(() => boardReads.delete(query));
        boardReads.set(query, reading);
      }
      const rows = await reading;
      return rows
        .filter((r) => codebaseId === undefined || r.row.codebase_id === codebaseId)
        .sort((a, b) => a.row.agent_id.localeCompare(b.row.agent_id));
    },
  };

  async function readBoard(query: string, agentId: string | undefined): Promise<BoardDetail[]> {
    const listed = await goals.withClient(async (client) => {
      const out: BoardDetail[] = [];
      for await (const info of client.workflow.list({ query, pageSize: 1000 })) {
        const parsed = AgentRowSchema.safeParse(info.memo?.row);
        if (!parsed.success) continue;
        const memo = info.memo as { planned?: AgentState['inbox']; recent?: AgentState['history'] };
        out.push({ row: parsed.data, planned: memo.planned ?? [], recent: memo.recent ?? [] });
      }
      return out;
    });
    // An agent registered here a moment ago that Visibility does not list yet is read live: a task created right
    // after its registration is pushed to it, and the board shows it.
    const unlisted = unlistedRegistrations(
      listed.map((d) => d.row.agent_id),
      registeredRecently.ids(),
      agentId,
    );
    const live = await Promise.all(
      unlisted.map((id) =>
        Promise.all([api.row(id), api.work(id)]).then(
          ([row, w]): BoardDetail => ({ row, planned: w.inbox.slice(0, 10), recent: w.history.slice(-10) }),
          () => undefined,
        ),
      ),
    );
    return [...listed, ...live.filter((d): d is BoardDetail => d !== undefined)];
  }
  return api;
}

export type AgentsClient = ReturnType<typeof createAgentsClient>;
