/**
 * Agents as first-class entities (DESIGN §7), as plain functions over plain data: the registry row, liveness, and a
 * durable mailbox. The agent workflow adds only durability (the liveness timer, long-polls, continue-as-new).
 *
 *   idle | busy  --no heartbeat for ttl-->  offline  --offline for grace-->  offline, its work released
 *   offline      --any call of the agent / register-->  idle | busy
 */
import type { z } from 'zod';
import { sharedSchemas } from './shared';
import { fail } from './errors';
import { forPanel } from './text';
import { AgentIdSchema, LIMITS } from './schemas';

export const AGENT_STATUSES = ['idle', 'busy', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export const IMPORTANCE = ['low', 'normal', 'high', 'urgent'] as const;
export const DEFAULT_TTL_SECONDS = 60;
export const DEFAULT_GRACE_SECONDS = 300;
/** Acknowledged (or not needing acknowledgement) messages kept besides the unacknowledged ones. */
export const MAILBOX_KEPT = 100;
export const MAX_UNACKED = 1_000;
const EVENTS_KEPT = 100;
const DELIVERED_KEPT = 2_000;

// Built once per workflow thread (see ./shared); the names below are those objects.
const schemas = sharedSchemas('domain/agents', (z) => {
  const Capability = z.string().trim().min(1).max(LIMITS.tagLength);

  const RegisterInputSchema = z.object({
    agentId: AgentIdSchema,
    name: z.string().trim().min(1).max(LIMITS.nameLength),
    capabilities: z.array(Capability).min(1).max(LIMITS.tagsPerTask),
    tags: z.array(Capability).max(LIMITS.tagsPerTask).optional(),
    codebaseId: z.string().trim().min(1).max(LIMITS.nameLength).optional(),
    workspacePath: z.string().min(1).max(LIMITS.fileLength).optional(),
    crossCodebaseCapable: z.boolean().optional(),
    force: z.boolean().optional(),
    ttlSeconds: z
      .int()
      .min(1)
      .max(24 * 3600)
      .optional(),
    graceSeconds: z
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional(),
  });

  const MessageInputSchema = z.object({
    id: z.string().min(1).max(200),
    from: AgentIdSchema,
    to: z.array(AgentIdSchema).min(1).max(500),
    subject: z.string().max(LIMITS.titleLength),
    body: z.string().max(LIMITS.resultLength * 5),
    threadId: z.string().max(200).optional(),
    importance: z.enum(IMPORTANCE).optional(),
    ackRequired: z.boolean().optional(),
  });

  const FetchInputSchema = z.object({
    since: z.union([z.int().min(0), z.iso.datetime()]).optional(),
    limit: z.int().min(1).max(LIMITS.listLimitMax).optional(),
    urgentOnly: z.boolean().optional(),
    waitMs: z
      .int()
      .min(0)
      .max(LIMITS.waitSecondsMax * 1000)
      .optional(),
  });

  const AckInputSchema = z.object({ messageId: z.string().min(1).max(200) });

  /** A task pushed to the agent: a reference; the task itself lives in its goal, which records the assignment. */
  const TaskRefSchema = z.object({
    taskId: z.string().min(1).max(200),
    goalId: z.string().min(1).max(200),
    title: z.string().max(LIMITS.titleLength),
    priority: z.number(),
    /** Capabilities the task needs: the push is refused unless the agent has them all. */
    required: z.array(z.string()).max(LIMITS.tagsPerTask).optional(),
    /** Into this agent's inbox even while it is offline (create_agent_task names the agent). */
    direct: z.boolean().optional(),
  });
  const PopInputSchema = z.object({ taskId: z.string().min(1).max(200) });
  const UnregisterInputSchema = z.object({ reason: z.string().max(LIMITS.resultLength).optional() });
  /** What a call of the agent tells its workflow: it is alive, and maybe what it thinks, took or finished. */
  const TouchInputSchema = z.object({
    thought: z.string().max(LIMITS.titleLength).optional(),
    took: z.object({ id: z.string().max(200), title: z.string().max(LIMITS.titleLength) }).optional(),
    finished: z.object({ id: z.string().max(200), completed: z.boolean() }).optional(),
    /** A task claimed for the agent ahead of its next call (prefetch), with the completion that made the claim. */
    reserved: z.object({ id: z.string().max(200), title: z.string().max(LIMITS.titleLength) }).optional(),
    /** A task claimed ahead that the agent never took: sent back to the queue. */
    returned: z.object({ id: z.string().max(200) }).optional(),
    /** The seq numbers of the messages a fetch answered with (read now). */
    read: z.array(z.int().min(1)).max(LIMITS.listLimitMax).optional(),
  });

  /** mark_updates' long-poll on the agent's workflow: a workspace's change after `after` ends it. */
  const WaitMarksInputSchema = z.object({
    workspace: z.string().min(1).max(200),
    after: z.int().min(0),
    waitMs: z
      .int()
      .min(0)
      .max(LIMITS.waitSecondsMax * 1000),
  });
  const MarksChangedSchema = z.object({ workspace: z.string().min(1).max(200), seq: z.int().min(0) });

  const AgentRowSchema = z.object({
    agent_id: z.string(),
    name: z.string(),
    capabilities: z.array(z.string()),
    tags: z.array(z.string()),
    status: z.enum(AGENT_STATUSES),
    online: z.boolean(),
    codebase_id: z.string().nullable(),
    workspace_path: z.string().nullable(),
    cross_codebase_capable: z.boolean(),
    current_task: z.object({ id: z.string(), title: z.string() }).nullable(),
    current_thought: z.string().nullable(),
    pending_messages: z.number(),
    pending_tasks: z.number().describe('Tasks pushed to it and not taken yet.'),
    idle_since: z.string().nullable(),
    completed_tasks: z.number(),
    last_heartbeat: z.string(),
    expires_at: z.string().describe('When the agent turns offline unless it calls again.'),
    registered_at: z.string(),
  });

  return {
    RegisterInputSchema,
    MessageInputSchema,
    FetchInputSchema,
    AckInputSchema,
    TaskRefSchema,
    PopInputSchema,
    UnregisterInputSchema,
    TouchInputSchema,
    WaitMarksInputSchema,
    MarksChangedSchema,
    AgentRowSchema,
  };
});
export const {
  RegisterInputSchema,
  MessageInputSchema,
  FetchInputSchema,
  AckInputSchema,
  TaskRefSchema,
  PopInputSchema,
  UnregisterInputSchema,
  TouchInputSchema,
  WaitMarksInputSchema,
  MarksChangedSchema,
  AgentRowSchema,
} = schemas;

export type RegisterInput = z.infer<typeof RegisterInputSchema>;
export type MessageInput = z.infer<typeof MessageInputSchema>;
export type FetchInput = z.infer<typeof FetchInputSchema>;
export type TaskRef = z.infer<typeof TaskRefSchema>;
export const MAX_INBOX = 1_000;
export type TouchInput = z.infer<typeof TouchInputSchema>;

export interface Message {
  id: string;
  seq: number;
  from: string;
  to: string[];
  subject: string;
  body: string;
  thread_id: string | null;
  importance: (typeof IMPORTANCE)[number];
  ack_required: boolean;
  sent_at: string;
  acked_at: string | null;
  /** When a fetch first answered with it (null: never read; absent in messages delivered before reads were kept). */
  read_at?: string | null;
}

export const HISTORY_KEPT = 200;
export interface HistoryEntry {
  task_id: string;
  title: string;
  event: 'taken' | 'completed' | 'finished';
  at: string;
}

export interface AgentState {
  agent_id: string;
  name: string;
  capabilities: string[];
  tags: string[];
  codebase_id: string | null;
  workspace_path: string | null;
  cross_codebase_capable: boolean;
  status: AgentStatus;
  current_task: { id: string; title: string } | null;
  current_thought: string | null;
  last_heartbeat: string;
  registered_at: string;
  registrations: number;
  session_token: string;
  ttl_seconds: number;
  grace_seconds: number;
  offline_since: string | null;
  /** Its claims went back to the pool after the grace period (or on unregister). */
  released: boolean;
  unregistered: boolean;
  completed_tasks: number;
  /** Since when it has been idle (null while busy or offline): longest idle is pushed to first. */
  idle_since: string | null;
  /** Tasks pushed to it, best first (priority, then age). */
  inbox: Array<{ task_id: string; goal_id: string; title: string; priority: number; pushed_at: string }>;
  /** Pushed tasks whose assignment its goals must still forget (it went offline past its grace, or left). */
  unassign?: string[];
  /** What it took lately and had not finished when its work went back: recovered by id (Visibility may lag). */
  release_held?: string[];
  /** What it took and finished, newest last (at most HISTORY_KEPT). */
  history: HistoryEntry[];
  mailbox: Message[];
  /** Ids of messages already delivered (exactly once per recipient, even when the sender retries). */
  delivered: string[];
  message_seq: number;
  events: Array<{ at: string; type: string; detail: string | null }>;
}
export type AgentRow = z.infer<typeof AgentRowSchema>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Sets the status from the current task, keeping when the agent turned idle. */
function settleStatus(state: AgentState, now: number, offline = false): void {
  const next: AgentStatus = offline ? 'offline' : state.current_task ? 'busy' : 'idle';
  if (next === 'idle' && state.status !== 'idle') state.idle_since = iso(now);
  if (next !== 'idle') state.idle_since = null;
  state.status = next;
}

function log(state: AgentState, now: number, type: string, detail: string | null = null): void {
  state.events.push({ at: iso(now), type, detail });
  if (state.events.length > EVENTS_KEPT) state.events.splice(0, state.events.length - EVENTS_KEPT);
}

export function newAgentState(input: RegisterInput, now: number): AgentState {
  return {
    agent_id: input.agentId,
    name: input.name,
    capabilities: [],
    tags: [],
    codebase_id: null,
    workspace_path: null,
    cross_codebase_capable: false,
    status: 'offline',
    current_task: null,
    current_thought: null,
    last_heartbeat: iso(now),
    registered_at: iso(now),
    registrations: 0,
    session_token: '',
    ttl_seconds: DEFAULT_TTL_SECONDS,
    grace_seconds: DEFAULT_GRACE_SECONDS,
    offline_since: null,
    released: false,
    unregistered: true,
    completed_tasks: 0,
    idle_since: null,
    inbox: [],
    history: [],
    mailbox: [],
    delivered: [],
    message_seq: 0,
    events: [],
  };
}

export const isOnline = (s: AgentState): boolean => !s.unregistered && s.status !== 'offline';

export function checkRegister(state: AgentState, input: RegisterInput): void {
  if (isOnline(state) && !input.force && state.registrations > 0) {
    fail(
      'CONFLICT',
      `An agent named ${state.name} (${state.agent_id}) is registered and online (last call ${state.last_heartbeat}). Pick another name, or pass force: true to take its registration over.`,
    );
  }
}

/** Registers, or resumes the same agent (its mailbox intact) after a crash, an expiry or an unregister. */
export function register(state: AgentState, input: RegisterInput, now: number): AgentRow & { session_token: string } {
  checkRegister(state, input);
  const resumed = state.registrations > 0;
  state.name = input.name;
  state.capabilities = [...new Set(input.capabilities)];
  state.tags = [...new Set(input.tags ?? [])];
  state.codebase_id = input.codebaseId ?? null;
  state.workspace_path = input.workspacePath ?? null;
  state.cross_codebase_capable = input.crossCodebaseCapable ?? false;
  state.ttl_seconds = input.ttlSeconds ?? state.ttl_seconds;
  state.grace_seconds = input.graceSeconds ?? state.grace_seconds;
  state.registrations += 1;
  state.session_token = `${state.agent_id}:${state.registrations}`;
  state.unregistered = false;
  state.released = false;
  state.offline_since = null;
  settleStatus(state, now);
  state.last_heartbeat = iso(now);
  log(state, now, resumed ? 'resumed' : 'registered', input.force ? 'force' : null);
  return { ...row(state), session_token: state.session_token };
}

/** The agent's last word on this task in its history, if any. */
function lastWord(state: AgentState, taskId: string): HistoryEntry['event'] | undefined {
  for (let i = state.history.length - 1; i >= 0; i -= 1) {
    const h = state.history[i] as HistoryEntry;
    if (h.task_id === taskId) return h.event;
  }
  return undefined;
}

/** Whether the agent's last word on this task is that it finished it (a retried completion says so again). */
export function finishedAlready(state: AgentState, taskId: string): boolean {
  const word = lastWord(state, taskId);
  return word !== undefined && word !== 'taken';
}

/** Whether the agent holds this task and its last word on it is that it took it (a retried claim says so again). */
export function takenAlready(state: AgentState, taskId: string): boolean {
  return state.current_task?.id === taskId && lastWord(state, taskId) === 'taken';
}

/**
 * Any call of the agent keeps it online; an offline agent that calls again is back. A claim makes it busy with that
 * task; finishing its current task makes it idle (and counts a completion): never busy without a current task. A
 * finish of a task it has finished since it last took it (a completion retried with its request_id, applied once by
 * the goal) is not counted again, when `finishOnce` says so (the workflow's patch gate; always in pure use); nor is
 * a take of the task it holds and last took (a claim retried with its request_id), when `takeOnce` says so. A task
 * claimed for it ahead of its next call (`reserved`, said with the completion that made the claim) is taken at once; if
 * it goes back untaken (`returned`), that take is struck.
 */
export function touch(
  state: AgentState,
  now: number,
  input: TouchInput = {},
  finishOnce: () => boolean = () => true,
  takeOnce: () => boolean = () => true,
): boolean {
  if (state.unregistered) return false;
  state.last_heartbeat = iso(now);
  if (input.thought !== undefined) state.current_thought = input.thought;
  if (input.read) markRead(state, input.read, now);
  if (input.took && !(takenAlready(state, input.took.id) && takeOnce())) take(state, now, input.took);
  if (input.finished && !(finishedAlready(state, input.finished.id) && finishOnce())) {
    if (input.finished.completed) state.completed_tasks += 1;
    const title =
      [...state.history].reverse().find((h) => h.task_id === input.finished?.id)?.title ??
      (state.current_task?.id === input.finished.id ? state.current_task.title : '');
    remember(state, {
      task_id: input.finished.id,
      title,
      event: input.finished.completed ? 'completed' : 'finished',
      at: iso(now),
    });
    if (state.current_task?.id === input.finished.id) state.current_task = null;
  }
  // Claimed ahead with the completion just finished: the agent holds it from now (its next claim answers with it).
  if (input.reserved && !takenAlready(state, input.reserved.id)) take(state, now, input.reserved);
  // Claimed ahead and never taken: the agent never saw it, so its take is struck, not finished.
  if (input.returned && lastWord(state, input.returned.id) === 'taken') {
    if (state.current_task?.id === input.returned.id) state.current_task = null;
    state.history.splice(state.history.map((h) => h.task_id).lastIndexOf(input.returned.id), 1);
  }
  if (state.status !== 'offline') settleStatus(state, now);
  if (state.status === 'offline') {
    settleStatus(state, now);
    state.offline_since = null;
    state.released = false;
    log(state, now, 'back_online');
  }
  return true;
}

function take(state: AgentState, now: number, task: { id: string; title: string }): void {
  state.current_task = { id: task.id, title: task.title };
  popTask(state, task.id);
  remember(state, { task_id: task.id, title: task.title, event: 'taken', at: iso(now) });
}

function remember(state: AgentState, entry: HistoryEntry): void {
  state.history.push(entry);
  if (state.history.length > HISTORY_KEPT) state.history.splice(0, state.history.length - HISTORY_KEPT);
}

/** When the liveness timer must next look: the ttl while online, the grace while offline, else never. */
export function livenessDeadline(state: AgentState): number | undefined {
  if (state.unregistered) return undefined;
  if (state.status !== 'offline') return Date.parse(state.last_heartbeat) + state.ttl_seconds * 1000;
  if (!state.released && state.offline_since) return Date.parse(state.offline_since) + state.grace_seconds * 1000;
  return undefined;
}

/** The liveness timer's work: online → offline after the ttl; after the grace, its work goes back ('release'). */
export function checkLiveness(state: AgentState, now: number): 'offline' | 'release' | null {
  const due = livenessDeadline(state);
  if (due === undefined || due > now) return null;
  if (state.status !== 'offline') {
    settleStatus(state, now, true);
    state.offline_since = iso(now);
    log(state, now, 'offline', `no call for ${state.ttl_seconds} s`);
    return state.grace_seconds === 0 ? releaseWork(state, now, 'offline with no grace') : 'offline';
  }
  return releaseWork(state, now, `offline for ${state.grace_seconds} s`);
}

/** How long a goal may take to list a new holder in Visibility (its refresh, with room to spare). */
export const HOLDER_LISTED_WITHIN_MS = 60_000;

/**
 * Tasks the agent took lately and has not finished, current task first: its release recovers these by id, since its
 * goals may not list it as a holder in Visibility yet. Older claims are found through Visibility.
 */
export function heldOfLate(state: AgentState, now: number): string[] {
  const held = new Set<string>(state.current_task ? [state.current_task.id] : []);
  const finished = new Set<string>();
  for (const h of [...state.history].reverse()) {
    if (h.event !== 'taken') finished.add(h.task_id);
    else if (!finished.has(h.task_id) && now - Date.parse(h.at) <= HOLDER_LISTED_WITHIN_MS) held.add(h.task_id);
  }
  return [...held];
}

function releaseWork(state: AgentState, now: number, why: string): 'release' {
  state.released = true;
  const held = heldOfLate(state, now);
  if (held.length > 0) state.release_held = [...new Set([...(state.release_held ?? []), ...held])];
  state.current_task = null;
  // Tasks pushed to it go back to the pool too: their goals forget the assignment (see the workflow's release).
  state.unassign = [...(state.unassign ?? []), ...state.inbox.map((t) => t.task_id)];
  state.inbox = [];
  log(state, now, 'work_released', why);
  return 'release';
}

/** Always succeeds for a registered agent: it goes offline and its work goes back to the pool. */
export function checkUnregister(state: AgentState): void {
  if (state.registrations === 0) fail('NOT_FOUND', `No agent ${state.agent_id} is registered.`);
}

export function unregister(state: AgentState, reason: string | undefined, now: number): AgentRow {
  checkUnregister(state);
  state.unregistered = true;
  settleStatus(state, now, true);
  state.offline_since = iso(now);
  log(state, now, 'unregistered', reason ?? null);
  releaseWork(state, now, 'unregistered');
  return row(state);
}

// ------------------------------------------------------------------------------------------------ inbox

/** Refuses a push the agent cannot take: offline or busy (unless direct), missing a capability, or a full inbox. */
export function checkPush(state: AgentState, ref: TaskRef): void {
  if (state.registrations === 0 || (state.unregistered && !ref.direct)) {
    fail('NOT_FOUND', `No agent ${state.agent_id} is registered.`);
  }
  if (!isOnline(state) && !ref.direct) fail('CONFLICT', `Agent ${state.agent_id} is offline.`);
  // Pushes go to idle agents; the board the pusher chose from may lag, so the agent's own workflow decides.
  if (state.status === 'busy' && !ref.direct) fail('CONFLICT', `Agent ${state.agent_id} is busy.`);
  const missing = (ref.required ?? []).filter((c) => !state.capabilities.includes(c));
  if (missing.length > 0) {
    fail('CONFLICT', `Agent ${state.agent_id} lacks the capabilities ${missing.join(', ')}.`);
  }
  if (state.inbox.length >= MAX_INBOX && !state.inbox.some((t) => t.task_id === ref.taskId)) {
    fail('CONFLICT', `The inbox of ${state.agent_id} holds ${MAX_INBOX} tasks.`);
  }
}

export function pushTask(state: AgentState, ref: TaskRef, now: number): AgentRow {
  checkPush(state, ref);
  if (!state.inbox.some((t) => t.task_id === ref.taskId)) {
    state.inbox.push({
      task_id: ref.taskId,
      goal_id: ref.goalId,
      title: ref.title,
      priority: ref.priority,
      pushed_at: iso(now),
    });
    state.inbox.sort((x, y) => y.priority - x.priority || x.pushed_at.localeCompare(y.pushed_at));
    log(state, now, 'task_pushed', ref.taskId);
  }
  return row(state);
}

export function popTask(state: AgentState, taskId: string): boolean {
  const before = state.inbox.length;
  state.inbox = state.inbox.filter((t) => t.task_id !== taskId);
  return state.inbox.length !== before;
}

// ------------------------------------------------------------------------------------------------ messages

/**
 * Delivers a message once. With `settledChars`, the settled messages kept (acknowledged ones, and read ones that need
 * no acknowledgement) are also cut to that many characters of subject and body, oldest first, so large messages
 * cannot outgrow the state; a message not read yet is never cut (see isHeld).
 */
export function deliver(
  state: AgentState,
  input: MessageInput,
  now: number,
  settledChars?: number,
): { delivered: boolean; message: Message } {
  const known = state.mailbox.find((m) => m.id === input.id);
  if (known) return { delivered: false, message: known };
  if (state.delivered.includes(input.id)) {
    // Delivered long ago and pruned from the mailbox: still not delivered twice.
    return { delivered: false, message: messageOf(state, input, now, 0) };
  }
  if (state.mailbox.filter(isHeld).length >= MAX_UNACKED) {
    fail(
      'CONFLICT',
      `The mailbox of ${state.agent_id} holds ${MAX_UNACKED} messages it has not read or acknowledged; it must fetch or acknowledge some first.`,
    );
  }
  state.message_seq += 1;
  const message = messageOf(state, input, now, state.message_seq);
  state.mailbox.push(message);
  state.delivered.push(input.id);
  if (state.delivered.length > DELIVERED_KEPT) state.delivered.splice(0, state.delivered.length - DELIVERED_KEPT);
  prune(state, settledChars);
  return { delivered: true, message };
}

function messageOf(state: AgentState, input: MessageInput, now: number, seq: number): Message {
  return {
    id: input.id,
    seq,
    from: input.from,
    to: input.to,
    subject: input.subject,
    body: input.body,
    thread_id: input.threadId ?? null,
    importance: input.importance ?? 'normal',
    ack_required: input.ackRequired ?? false,
    sent_at: iso(now),
    acked_at: null,
    read_at: null,
  };
}

const isMessage = (v: unknown): v is Message =>
  typeof v === 'object' && v !== null && 'seq' in v && 'body' in v && 'from' in v;

/**
 * What a workflow remembers of a message call's answer for a retry (a delivery, an acknowledgement): the message without
 * its body, which stays in the mailbox; 256 remembered answers must not hold 256 copies of large bodies.
 */
export function compactMessageResult(result: unknown): unknown {
  if (isMessage(result)) return { ...result, body: null, $body: true };
  if (typeof result === 'object' && result !== null && 'message' in result && isMessage(result.message)) {
    return { ...result, message: compactMessageResult(result.message) };
  }
  return result;
}

/** The remembered answer with the body back from the mailbox ('' once the message has left it). */
export function rehydrateMessageResult(state: AgentState, kept: unknown): unknown {
  if (typeof kept !== 'object' || kept === null) return kept;
  if ('$body' in kept) {
    const { $body: _b, ...message } = kept as Message & { $body: true };
    return { ...message, body: state.mailbox.find((m) => m.id === message.id)?.body ?? '' };
  }
  if ('message' in kept) return { ...kept, message: rehydrateMessageResult(state, kept.message) };
  return kept;
}

/** Characters of subject and body kept in settled messages (a quarter of the state's budget even in 3-byte UTF-8). */
export const SETTLED_CHARS_KEPT = 128 * 1024;

/**
 * A message the agent still has to see to: awaiting acknowledgement, or not read yet. Such messages are never pruned;
 * a mailbox full of them refuses more (the count here, the state's budget in the workflow).
 */
export function isHeld(m: Message): boolean {
  return m.acked_at === null && (m.ack_required || m.read_at === null);
}

/** Marks the messages with these seq numbers read (those not read before); true when one was. */
export function markRead(state: AgentState, seqs: readonly number[], now: number): boolean {
  let changed = false;
  for (const m of state.mailbox) {
    if (m.read_at === null && seqs.includes(m.seq)) {
      m.read_at = iso(now);
      changed = true;
    }
  }
  return changed;
}

/** Keeps every held message, and the last MAILBOX_KEPT others (within `chars`, if given). */
function prune(state: AgentState, chars = Infinity): void {
  const settled = state.mailbox.filter((m) => !isHeld(m));
  // The newest settled messages that fit (the newest always does), at most MAILBOX_KEPT of them.
  let keep = 0;
  let size = 0;
  while (keep < Math.min(settled.length, MAILBOX_KEPT)) {
    const m = settled[settled.length - 1 - keep] as Message;
    size += m.subject.length + m.body.length;
    if (size > chars && keep > 0) break;
    keep += 1;
  }
  if (settled.length <= keep) return;
  const drop = new Set(settled.slice(0, settled.length - keep).map((m) => m.id));
  state.mailbox = state.mailbox.filter((m) => !drop.has(m.id));
}

export function fetchMessages(state: AgentState, input: FetchInput): Message[] {
  const since = input.since;
  const after = (m: Message) =>
    since === undefined ? true : typeof since === 'number' ? m.seq > since : m.sent_at > since;
  return state.mailbox
    .filter((m) => after(m) && (!input.urgentOnly || m.importance === 'urgent' || m.importance === 'high'))
    .slice(0, input.limit ?? 20);
}

export function checkAcknowledge(state: AgentState, messageId: string): Message {
  return (
    state.mailbox.find((x) => x.id === messageId) ??
    fail(
      'NOT_FOUND',
      `No message ${messageId} is in the mailbox of ${state.agent_id}. Call fetch_inbox to see its messages.`,
    )
  );
}

/** Acknowledges a message; with `settledChars`, settled messages are then cut to that size (see deliver). */
export function acknowledge(state: AgentState, messageId: string, now: number, settledChars?: number): Message {
  const m = checkAcknowledge(state, messageId);
  if (m.acked_at === null) m.acked_at = iso(now);
  prune(state, settledChars);
  return m;
}

// ------------------------------------------------------------------------------------------------ views

export function row(state: AgentState): AgentRow {
  return {
    agent_id: state.agent_id,
    name: state.name,
    capabilities: state.capabilities,
    tags: state.tags,
    status: state.status,
    online: isOnline(state),
    codebase_id: state.codebase_id,
    workspace_path: state.workspace_path,
    cross_codebase_capable: state.cross_codebase_capable,
    current_task: state.current_task,
    current_thought: state.current_thought,
    pending_messages: state.mailbox.filter(isHeld).length,
    pending_tasks: state.inbox.length,
    idle_since: state.idle_since,
    completed_tasks: state.completed_tasks,
    last_heartbeat: state.last_heartbeat,
    expires_at: new Date(Date.parse(state.last_heartbeat) + state.ttl_seconds * 1000).toISOString(),
    registered_at: state.registered_at,
  };
}

/** What an agent has to work on and has worked on: its state without the mailbox and the event log. */
export type AgentWork = Pick<AgentState, 'agent_id' | 'current_task' | 'inbox' | 'history' | 'completed_tasks'>;

export function work(state: AgentState): AgentWork {
  return {
    agent_id: state.agent_id,
    current_task: state.current_task,
    inbox: state.inbox,
    history: state.history,
    completed_tasks: state.completed_tasks,
  };
}

export function renderAgentDetails(state: AgentState): string {
  const r = row(state);
  const icon = r.status === 'idle' ? '🟢' : r.status === 'busy' ? '🔨' : '⚫';
  return forPanel([
    `### ${icon} ${state.name} (${state.agent_id}): ${r.status}`,
    `capabilities ${r.capabilities.join(', ') || '—'} · codebase ${r.codebase_id ?? '—'} · last call ${r.last_heartbeat} · offline after ${r.expires_at}`,
    `current task ${r.current_task ? `${r.current_task.id} ${r.current_task.title}` : '—'} · thought ${r.current_thought ?? '—'} · unread messages ${r.pending_messages} · completed ${r.completed_tasks}`,
    '',
    ...(state.inbox.length > 0
      ? [
          '| pushed task | priority | title |',
          '| --- | --- | --- |',
          ...state.inbox
            .slice(0, 10)
            .map((t) => `| ${t.task_id} | ${t.priority} | ${t.title.replace(/\|/g, '\\|').slice(0, 60)} |`),
          '',
        ]
      : []),
  ]);
}
