/**
 * A task-graph workspace's coordination state (pure, deterministic, JSON-safe): the hot row of every task, typed
 * dependencies, claims with leases and fencing tokens, file marks bound to claims, gates, summed metrics and the
 * connected workers. Bulky parts (descriptions, attachment contents, the state history) leave through `outbox` for the
 * workspace's detail shards (see docs/DECISIONS.md "Task-graph workspaces").
 */
import { fail } from './errors';
import { escapeCell, forPanel, utc } from './text';
import {
  DEP_TYPES,
  firstTimedState,
  isTerminal,
  workflowNamed,
  type DepType,
  type GateDef,
  type TgWorkflow,
} from './tg-config';

export const WS_LIMITS = {
  tasks: 12_000,
  shards: 16,
  titleLength: 500,
  metrics: 8,
  markLog: 1_000,
  markTtlSecondsDefault: 3_600,
  leaseSecondsDefault: 300,
  listLimitDefault: 100,
  listLimitMax: 1_000,
} as const;

export interface WsTask {
  id: string;
  /** Immutable key of the task's detail record (its first id; survives rename). */
  k: string;
  /** Detail shard holding its description, attachments and history. */
  sh: number;
  seq: number;
  title: string;
  status: string;
  phase: string | null;
  priority: number;
  points: number | null;
  parent: string | null;
  worker_id: string | null;
  /** Who finished it (kept after the claim ends; the SQL tables show it as worker_id). */
  done_by: string | null;
  assignee: string | null;
  claimed_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  created_at: number;
  updated_at: number;
  tags: string[];
  needed_tags: string[];
  wanted_tags: string[];
  time_estimate_ms: number | null;
  time_actual_ms: number | null;
  cost_usd: number;
  metrics: number[];
  /** Attachment count by type (contents live in the shard). */
  att: Record<string, number>;
  token: number;
  lease_until: number | null;
  lease_ms: number | null;
  deleted_at: number | null;
}

export interface WsDep {
  from: string;
  to: string;
  type: DepType;
}

export interface WsMark {
  file: string;
  agent: string;
  task: string | null;
  exclusive: boolean;
  reason: string | null;
  at: number;
  expires_at: number | null;
}

export interface WsWorker {
  id: string;
  tags: string[];
  workflow: string;
  connected_at: number;
  last_seen: number;
  thought: string | null;
  status: 'connected' | 'disconnected';
  /** Mark-log position this worker has seen (mark_updates). */
  cursor: number;
}

export interface MarkChange {
  seq: number;
  file: string;
  agent: string;
  task: string | null;
  action: 'marked' | 'unmarked' | 'released';
  reason: string | null;
  at: number;
}

/** Things the detail shards must learn, in order. */
export type ColdOp = { o: number; k: string; sh: number } & (
  | { t: 'desc'; description: string }
  | { t: 'att'; att: WsAttachment }
  | { t: 'detach'; type: string | null; name: string | null }
  | { t: 'ev'; ev: WsEvent }
  | { t: 'del' }
);

export interface WsAttachment {
  type: string;
  name: string;
  mime: string;
  content: string;
  agent: string | null;
  at: number;
}

export interface WsEvent {
  task_id: string;
  worker_id: string | null;
  /** null for a phase change (which does not end the current state's period). */
  status: string | null;
  phase: string | null;
  reason: string | null;
  timestamp: number;
}

export interface WsState {
  name: string;
  nextSeq: number;
  nextOp: number;
  tasks: Record<string, WsTask>;
  deps: WsDep[];
  marks: WsMark[];
  markLog: MarkChange[];
  nextMark: number;
  workers: Record<string, WsWorker>;
  outbox: ColdOp[];
  /** Shards started as child workflows. */
  shards: number[];
  /** Agents waiting in mark_updates for another agent's mark change: each is signalled once, then dropped. */
  watchers?: string[];
}

/**
 * Every task as a list, and the ids of claimed ones: derived from `tasks` and cached (not state). Rebuilt when tasks are
 * added, removed or renamed (a new `tasks` key set); claims keep `claimed` current as they start and end.
 */
interface Derived {
  keys: number;
  list: WsTask[];
  claimed: Set<string>;
}
const derivedOf = new WeakMap<Record<string, WsTask>, Derived>();
function derived(s: WsState): Derived {
  let d = derivedOf.get(s.tasks);
  if (!d || d.keys !== s.nextSeq + renames(s)) {
    const list = Object.values(s.tasks);
    d = {
      keys: s.nextSeq + renames(s),
      list,
      claimed: new Set(list.filter((t) => t.worker_id !== null).map((t) => t.id)),
    };
    derivedOf.set(s.tasks, d);
  }
  return d;
}
/** Bumped by every removal or rename, so the derived list is rebuilt. */
const renameCounts = new WeakMap<Record<string, WsTask>, number>();
const renames = (s: WsState): number => renameCounts.get(s.tasks) ?? 0;
function keysChanged(s: WsState): void {
  renameCounts.set(s.tasks, renames(s) + 1);
}
export const allTasks = (s: WsState): WsTask[] => derived(s).list;
const claimedTasks = (s: WsState): WsTask[] =>
  [...derived(s).claimed].map((id) => s.tasks[id]).filter((t): t is WsTask => t !== undefined && t.worker_id !== null);

export function newWorkspace(name: string): WsState {
  return {
    name,
    nextSeq: 1,
    nextOp: 1,
    tasks: {},
    deps: [],
    marks: [],
    markLog: [],
    nextMark: 1,
    workers: {},
    outbox: [],
    shards: [],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Lookups

export function getTask(s: WsState, id: string): WsTask {
  const t = s.tasks[id];
  if (!t || t.deleted_at !== null) {
    fail('NOT_FOUND', `No task "${id}" in workspace ${s.name}. list_tasks() shows the tasks there are.`);
  }
  return t;
}

const workerWorkflow = (s: WsState, agent: string | null | undefined): TgWorkflow =>
  workflowNamed(agent ? s.workers[agent]?.workflow : undefined);

type ColdOpIn = ColdOp extends infer U ? (U extends ColdOp ? Omit<U, 'o'> : never) : never;

function emit(s: WsState, op: ColdOpIn): void {
  s.outbox.push({ ...op, o: s.nextOp++ });
}

function record(
  s: WsState,
  t: WsTask,
  worker: string | null,
  reason: string | null,
  now: number,
  phaseOnly = false,
): void {
  emit(s, {
    t: 'ev',
    k: t.k,
    sh: t.sh,
    ev: {
      task_id: t.id,
      worker_id: worker,
      status: phaseOnly ? null : t.status,
      phase: t.phase,
      reason,
      timestamp: now,
    },
  });
}

function touchWorker(s: WsState, agent: string | undefined, now: number): void {
  if (!agent) return;
  const w = s.workers[agent];
  if (w) w.last_seen = now;
  // Any call of a worker is a heartbeat for every claim it holds here.
  for (const t of claimedTasks(s)) {
    if (t.worker_id === agent && t.lease_ms !== null) t.lease_until = now + t.lease_ms;
  }
}

/** Dependencies by target, rebuilt when the list changes (every change pushes or replaces the array). */
const depIndexes = new WeakMap<WsDep[], { length: number; byTo: Map<string, WsDep[]> }>();
function depsTo(s: WsState, id: string): WsDep[] {
  let idx = depIndexes.get(s.deps);
  if (!idx || idx.length !== s.deps.length) {
    const byTo = new Map<string, WsDep[]>();
    for (const d of s.deps) {
      const list = byTo.get(d.to);
      if (list) list.push(d);
      else byTo.set(d.to, [d]);
    }
    depIndexes.set(s.deps, (idx = { length: s.deps.length, byTo }));
  }
  return idx.byTo.get(id) ?? [];
}

/** Start-blocking dependencies of `t` whose source is still in a blocking state. */
export function openBlockers(s: WsState, t: WsTask): Array<{ task: string; type: DepType; status: string }> {
  const wf = workflowNamed(undefined);
  const out: Array<{ task: string; type: DepType; status: string }> = [];
  for (const d of depsTo(s, t.id)) {
    if (DEP_TYPES[d.type].blocks !== 'start') continue;
    const from = s.tasks[d.from];
    if (from && from.deleted_at === null && wf.blocking_states.includes(from.status)) {
      out.push({ task: from.id, type: d.type, status: from.status });
    }
  }
  return out;
}

function openChildren(s: WsState, t: WsTask): string[] {
  const wf = workflowNamed(undefined);
  return allTasks(s)
    .filter((c) => c.parent === t.id && c.deleted_at === null && wf.blocking_states.includes(c.status))
    .map((c) => c.id);
}

export function qualifies(t: WsTask, tags: string[]): boolean {
  if (t.needed_tags.some((x) => !tags.includes(x))) return false;
  if (t.wanted_tags.length > 0 && !t.wanted_tags.some((x) => tags.includes(x))) return false;
  return true;
}

/** Tasks with children still open: containers, claimable once their children are done. */
export function openParents(s: WsState): Set<string> {
  const wf = workflowNamed(undefined);
  const out = new Set<string>();
  for (const c of allTasks(s)) {
    if (c.parent !== null && c.deleted_at === null && wf.blocking_states.includes(c.status)) out.add(c.parent);
  }
  return out;
}

export function isReady(s: WsState, t: WsTask, agent?: string, parents: Set<string> = openParents(s)): boolean {
  const wf = workflowNamed(undefined);
  if (t.deleted_at !== null || t.worker_id !== null) return false;
  if (parents.has(t.id)) return false;
  if (t.status !== wf.initial_state && !(t.status === 'assigned' && agent !== undefined && t.assignee === agent))
    return false;
  if (t.status === wf.initial_state && t.assignee !== null && t.assignee !== agent) return false;
  if (openBlockers(s, t).length > 0) return false;
  if (agent !== undefined && !qualifies(t, s.workers[agent]?.tags ?? [])) return false;
  return true;
}

const byReadyOrder = (a: WsTask, b: WsTask): number => b.priority - a.priority || a.seq - b.seq;

// ---------------------------------------------------------------------------------------------------------------
// Workers

export interface ConnectInput {
  worker_id: string;
  tags?: string[];
  workflow?: string;
}

export function connect(s: WsState, i: ConnectInput, now: number): WsWorker {
  const prev = s.workers[i.worker_id];
  const w: WsWorker = {
    id: i.worker_id,
    tags: i.tags ?? prev?.tags ?? [],
    workflow: i.workflow ?? prev?.workflow ?? 'default',
    connected_at: prev?.status === 'connected' ? prev.connected_at : now,
    last_seen: now,
    thought: prev?.thought ?? null,
    status: 'connected',
    cursor: prev?.cursor ?? s.nextMark - 1,
  };
  s.workers[i.worker_id] = w;
  return w;
}

/** Releases everything a worker holds here (claims back to `finalStatus`, its marks); returns the released task ids. */
export function releaseWorker(s: WsState, agent: string, finalStatus: string | undefined, reason: string, now: number) {
  const wf = workerWorkflow(s, agent);
  const to = finalStatus ?? wf.disconnect_state;
  const released: string[] = [];
  for (const t of claimedTasks(s)) {
    if (t.worker_id !== agent || t.deleted_at !== null) continue;
    endClaim(s, t, to, reason, now);
    released.push(t.id);
  }
  const marks = s.marks.filter((m) => m.agent === agent).length;
  removeMarks(s, (m) => m.agent === agent, 'released', now);
  return { released_tasks: released, released_marks: marks };
}

export function disconnect(s: WsState, agent: string, finalStatus: string | undefined, now: number) {
  const out = releaseWorker(s, agent, finalStatus, 'disconnected', now);
  const w = s.workers[agent];
  if (w) w.status = 'disconnected';
  if (s.watchers?.includes(agent)) s.watchers = s.watchers.filter((a) => a !== agent);
  return { worker_id: agent, ...out };
}

/** Workers not seen for `timeoutMs`: disconnected, their claims and marks released. */
export function cleanupStale(s: WsState, timeoutMs: number, finalStatus: string | undefined, now: number) {
  const evicted: Array<{ worker_id: string; released_tasks: string[] }> = [];
  for (const w of Object.values(s.workers)) {
    if (w.status !== 'connected' || now - w.last_seen < timeoutMs) continue;
    const r = releaseWorker(s, w.id, finalStatus, 'stale worker cleaned up', now);
    w.status = 'disconnected';
    evicted.push({ worker_id: w.id, released_tasks: r.released_tasks });
  }
  return { evicted, count: evicted.length };
}

export function thinking(s: WsState, agent: string, thought: string, now: number) {
  const w = s.workers[agent] ?? connect(s, { worker_id: agent }, now);
  w.thought = thought;
  touchWorker(s, agent, now);
  const held = claimedTasks(s)
    .filter((t) => t.worker_id === agent)
    .map((t) => t.id);
  return { success: true, worker_id: agent, thought, tasks: held };
}

// ---------------------------------------------------------------------------------------------------------------
// Tasks

export interface NewTask {
  id?: string;
  title?: string;
  description?: string;
  parent?: string;
  priority?: number;
  points?: number;
  time_estimate_ms?: number;
  tags?: string[];
  needed_tags?: string[];
  wanted_tags?: string[];
  phase?: string;
}

export interface TreeNode extends NewTask {
  ref?: string;
  join_mode?: 'then' | 'also';
  children?: TreeNode[];
}

const titleOf = (n: NewTask): string =>
  (n.title ?? n.description ?? '').split('\n')[0]!.slice(0, WS_LIMITS.titleLength) || 'untitled';

function makeTask(s: WsState, n: NewTask, parent: string | null, now: number, idHint: () => string): WsTask {
  const id = n.id ?? idHint();
  const seq = s.nextSeq++;
  const wf = workflowNamed(undefined);
  return {
    id,
    k: id,
    sh: seq % WS_LIMITS.shards,
    seq,
    title: titleOf(n),
    status: wf.initial_state,
    phase: n.phase ?? null,
    priority: n.priority ?? 5,
    points: n.points ?? null,
    parent,
    worker_id: null,
    done_by: null,
    assignee: null,
    claimed_at: null,
    started_at: null,
    completed_at: null,
    created_at: now,
    updated_at: now,
    tags: n.tags ?? [],
    needed_tags: n.needed_tags ?? [],
    wanted_tags: n.wanted_tags ?? [],
    time_estimate_ms: n.time_estimate_ms ?? null,
    time_actual_ms: null,
    cost_usd: 0,
    metrics: [],
    att: {},
    token: 0,
    lease_until: null,
    lease_ms: null,
    deleted_at: null,
  };
}

/** Ids made here are short and readable: `t<seq>` (seq never reused, so never colliding with a live task). */
const autoId = (s: WsState) => (): string => {
  let id = `t${s.nextSeq}`;
  while (s.tasks[id]) id = `t${s.nextSeq}-${Object.keys(s.tasks).length}`;
  return id;
};

function insert(s: WsState, t: WsTask, description: string | undefined, agent: string | null, now: number): void {
  if (s.tasks[t.id]) fail('CONFLICT', `Task id "${t.id}" is already used in workspace ${s.name}; pick another id.`);
  s.tasks[t.id] = t;
  keysChanged(s);
  if (description) emit(s, { t: 'desc', k: t.k, sh: t.sh, description });
  record(s, t, agent, 'created', now);
}

function checkRoom(s: WsState, adding: number): void {
  if (Object.keys(s.tasks).length + adding > WS_LIMITS.tasks) {
    fail(
      'CONFLICT',
      `Workspace ${s.name} would pass its limit of ${WS_LIMITS.tasks} tasks; delete(obliterate) old ones.`,
    );
  }
}

export function checkCreate(s: WsState, n: NewTask): void {
  if (n.parent) getTask(s, n.parent);
  if (n.id !== undefined && s.tasks[n.id]) {
    fail('CONFLICT', `Task id "${n.id}" is already used in workspace ${s.name}; pick another id.`);
  }
  checkRoom(s, 1);
}

export function createTask(s: WsState, n: NewTask, agent: string | null, now: number): WsTask {
  checkCreate(s, n);
  const t = makeTask(s, n, n.parent ?? null, now, autoId(s));
  insert(s, t, n.description, agent, now);
  return t;
}

/** Validates a tree before anything is created, so a bad tree changes nothing. */
export function checkTree(s: WsState, tree: TreeNode, parent: string | undefined): number {
  if (parent) getTask(s, parent);
  const ids = new Set<string>();
  let count = 0;
  const walk = (n: TreeNode): void => {
    if (n.ref) {
      getTask(s, n.ref);
      return;
    }
    count++;
    if (n.id) {
      if (s.tasks[n.id] || ids.has(n.id)) fail('CONFLICT', `Task id "${n.id}" is used twice; ids must be unique.`);
      ids.add(n.id);
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(tree);
  checkRoom(s, count);
  return count;
}

export function createTree(
  s: WsState,
  tree: TreeNode,
  parent: string | undefined,
  childType: DepType,
  siblingType: DepType | undefined,
  agent: string | null,
  now: number,
): { root: WsTask; all_ids: string[] } {
  checkTree(s, tree, parent);
  const all: string[] = [];
  const build = (n: TreeNode, p: string | null): string => {
    if (n.ref) return n.ref;
    const t = makeTask(s, n, childType === 'contains' ? p : null, now, autoId(s));
    insert(s, t, n.description, agent, now);
    if (p && childType !== 'contains') s.deps.push({ from: p, to: t.id, type: childType });
    all.push(t.id);
    let prev: string | null = null;
    const between = siblingType ?? ((n.join_mode ?? 'then') === 'then' ? 'follows' : undefined);
    for (const c of n.children ?? []) {
      const id = build(c, t.id);
      if (prev && between) s.deps.push({ from: prev, to: id, type: between });
      prev = id;
    }
    return t.id;
  };
  const rootId = build(tree, parent ?? null);
  return { root: s.tasks[rootId] as WsTask, all_ids: all };
}

export interface ClaimInput {
  worker_id: string;
  task?: string;
  force?: boolean;
  lease_ms?: number;
}

/** Checks a claim of one named task, with a structured refusal. */
function checkClaimable(s: WsState, t: WsTask, agent: string, force: boolean): void {
  const wf = workerWorkflow(s, agent);
  const timed = firstTimedState(wf);
  if (t.worker_id === agent && wf.states[t.status]?.timed) return;
  if (t.worker_id !== null && !force) {
    fail('CONFLICT', `Task ${t.id} is claimed by ${t.worker_id}. Pick another (list_tasks(ready=true)) or force.`, {
      claimed_by: t.worker_id,
    });
  }
  if (!force && !wf.states[t.status]?.exits.includes(timed) && t.worker_id === null) {
    fail('CONFLICT', `Task ${t.id} is ${t.status}; it can be claimed from ${claimableFrom(wf, timed)}.`, {
      status: t.status,
    });
  }
  const blockedBy = openBlockers(s, t);
  if (blockedBy.length > 0 && !force) {
    fail('CONFLICT', `Task ${t.id} is blocked by ${blockedBy.map((b) => `${b.task} (${b.status})`).join(', ')}.`, {
      blocked_by: blockedBy,
    });
  }
  const tags = s.workers[agent]?.tags ?? [];
  if (!force && !qualifies(t, tags)) {
    fail(
      'CONFLICT',
      `Worker ${agent} lacks the tags task ${t.id} needs (needed: all of [${t.needed_tags.join(', ')}]; wanted: one of [${t.wanted_tags.join(', ')}]).`,
      {
        needed_tags: t.needed_tags,
        wanted_tags: t.wanted_tags,
        worker_tags: tags,
      },
    );
  }
}

const claimableFrom = (wf: TgWorkflow, timed: string): string =>
  Object.entries(wf.states)
    .filter(([, d]) => d.exits.includes(timed))
    .map(([n]) => n)
    .join(' or ');

export function checkClaim(s: WsState, i: ClaimInput): void {
  if (i.task === undefined) return;
  checkClaimable(s, getTask(s, i.task), i.worker_id, i.force ?? false);
}

export function pickReady(s: WsState, agent: string): WsTask | undefined {
  let best: WsTask | undefined;
  const parents = openParents(s);
  for (const t of allTasks(s)) {
    if ((!best || byReadyOrder(t, best) < 0) && isReady(s, t, agent, parents)) best = t;
  }
  return best;
}

export interface ClaimResult {
  success: boolean;
  task: WsTask | null;
  lease_token: number | null;
  lease_expires_at: number | null;
  message?: string;
}

export function claim(s: WsState, i: ClaimInput, now: number): ClaimResult {
  const t = i.task !== undefined ? getTask(s, i.task) : pickReady(s, i.worker_id);
  if (!s.workers[i.worker_id]) connect(s, { worker_id: i.worker_id }, now);
  touchWorker(s, i.worker_id, now);
  if (!t) {
    return {
      success: false,
      task: null,
      lease_token: null,
      lease_expires_at: null,
      message: 'No ready task fits this worker now; try again later or list_tasks(ready=true).',
    };
  }
  checkClaimable(s, t, i.worker_id, i.force ?? false);
  if (t.worker_id === i.worker_id && workerWorkflow(s, i.worker_id).states[t.status]?.timed) {
    return { success: true, task: t, lease_token: t.token, lease_expires_at: t.lease_until };
  }
  if (t.worker_id !== null)
    endClaim(s, t, workerWorkflow(s, t.worker_id).disconnect_state, `reclaimed by ${i.worker_id}`, now);
  startClaim(s, t, i.worker_id, i.lease_ms ?? WS_LIMITS.leaseSecondsDefault * 1000, null, now);
  return { success: true, task: t, lease_token: t.token, lease_expires_at: t.lease_until };
}

function startClaim(s: WsState, t: WsTask, agent: string, leaseMs: number, reason: string | null, now: number): void {
  t.status = firstTimedState(workerWorkflow(s, agent));
  t.worker_id = agent;
  derivedOf.get(s.tasks)?.claimed.add(t.id);
  t.assignee = null;
  t.claimed_at = now;
  t.started_at = now;
  t.updated_at = now;
  t.token += 1;
  t.lease_ms = leaseMs;
  t.lease_until = now + leaseMs;
  record(s, t, agent, reason, now);
}

/** Ends a claim (to any non-timed state) and releases the marks made for the task, in the same step. */
function endClaim(s: WsState, t: WsTask, to: string, reason: string | null, now: number): void {
  const holder = t.worker_id;
  t.status = to;
  t.worker_id = null;
  derivedOf.get(s.tasks)?.claimed.delete(t.id);
  t.lease_until = null;
  t.lease_ms = null;
  t.updated_at = now;
  const wf = workflowNamed(undefined);
  if (isTerminal(wf, to)) {
    t.done_by = holder;
    t.completed_at = now;
    if (t.started_at !== null) t.time_actual_ms = (t.time_actual_ms ?? 0) + (now - t.started_at);
  }
  removeMarks(s, (m) => m.task === t.id, 'released', now);
  record(s, t, holder, reason, now);
}

export interface UpdateInput {
  worker_id?: string;
  task: string;
  status?: string;
  phase?: string;
  title?: string;
  description?: string;
  priority?: number;
  points?: number;
  tags?: string[];
  needed_tags?: string[];
  wanted_tags?: string[];
  time_estimate_ms?: number;
  reason?: string;
  force?: boolean;
  assignee?: string;
  attachments?: Array<{ type: string; content: string; name?: string; mime?: string }>;
  lease_ms?: number;
}

export interface GateReport {
  status: string;
  phase: string | null;
  gates: Array<GateDef & { satisfied: boolean; key: string }>;
  can_proceed: boolean;
  warnings: string[];
  missing_required: string[];
}

export function checkGates(
  s: WsState,
  t: WsTask,
  agent: string | null | undefined,
  extraTypes: string[] = [],
): GateReport {
  const wf = workerWorkflow(s, agent);
  const keys = [`status:${t.status}`, ...(t.phase ? [`phase:${t.phase}`] : [])];
  const gates = keys.flatMap((key) =>
    (wf.gates[key] ?? []).map((g) => ({
      ...g,
      key,
      satisfied: (t.att[g.type] ?? 0) > 0 || extraTypes.includes(g.type),
    })),
  );
  const open = gates.filter((g) => !g.satisfied);
  return {
    status: t.status,
    phase: t.phase,
    gates,
    can_proceed: !open.some((g) => g.enforcement === 'reject'),
    warnings: open
      .filter((g) => g.enforcement === 'warn')
      .map((g) => `${g.key} wants a "${g.type}" attachment: ${g.description}`),
    missing_required: open.filter((g) => g.enforcement === 'reject').map((g) => g.type),
  };
}

function holderCheck(s: WsState, t: WsTask, agent: string | undefined, force: boolean): void {
  if (t.worker_id !== null && agent !== undefined && t.worker_id !== agent && !force) {
    fail(
      'LEASE_LOST',
      `Task ${t.id} is claimed by ${t.worker_id}, not ${agent}; only its holder changes it (or force).`,
      {
        claimed_by: t.worker_id,
      },
    );
  }
}

export function checkUpdate(s: WsState, i: UpdateInput): void {
  const t = getTask(s, i.task);
  const agent = i.worker_id;
  const force = i.force ?? false;
  holderCheck(s, t, agent, force);
  if (i.assignee !== undefined && t.worker_id !== null && t.worker_id !== agent && !force) {
    fail('CONFLICT', `Task ${t.id} is claimed by ${t.worker_id}; it cannot be pushed to ${i.assignee} now.`);
  }
  const wf = workerWorkflow(s, agent);
  if (i.phase !== undefined && !wf.phases.includes(i.phase)) {
    fail('INVALID_ARGUMENT', `Unknown phase "${i.phase}"; phases: ${wf.phases.join(', ')}.`);
  }
  if (i.status === undefined || i.status === t.status) return;
  const def = wf.states[i.status];
  if (!def) fail('INVALID_ARGUMENT', `Unknown status "${i.status}"; states: ${Object.keys(wf.states).join(', ')}.`);
  if (!wf.states[t.status]?.exits.includes(i.status) && !force) {
    fail(
      'CONFLICT',
      `Task ${t.id} cannot go from ${t.status} to ${i.status}; from ${t.status}: ${wf.states[t.status]?.exits.join(', ') || 'nothing (final)'}.`,
    );
  }
  if (def.timed) {
    if (!agent) fail('INVALID_ARGUMENT', `Name the worker taking task ${t.id}: worker_id (or agent).`);
    checkClaimable(s, t, agent, force);
    return;
  }
  if (isTerminal(wf, i.status) && i.status === 'completed') {
    const kids = openChildren(s, t);
    if (kids.length > 0 && !force) {
      fail(
        'CONFLICT',
        `Task ${t.id} has open children (${kids.slice(0, 10).join(', ')}); finish or cancel them first.`,
        {
          open_children: kids,
        },
      );
    }
  }
  if (wf.states[t.status]?.timed && i.status !== wf.disconnect_state) {
    const report = checkGates(
      s,
      t,
      agent,
      (i.attachments ?? []).map((a) => a.type),
    );
    if (!report.can_proceed && !force) {
      fail(
        'CONFLICT',
        `Task ${t.id} needs attachments of type ${report.missing_required.join(', ')} before leaving ${t.status} (gates; attach them, or force).`,
        {
          missing_required: report.missing_required,
        },
      );
    }
  }
}

export function updateTask(s: WsState, i: UpdateInput, now: number) {
  checkUpdate(s, i);
  const t = getTask(s, i.task);
  const agent = i.worker_id;
  const wf = workerWorkflow(s, agent);
  touchWorker(s, agent, now);
  if (i.title !== undefined) t.title = i.title;
  if (i.description !== undefined) emit(s, { t: 'desc', k: t.k, sh: t.sh, description: i.description });
  if (i.priority !== undefined) t.priority = i.priority;
  if (i.points !== undefined) t.points = i.points;
  if (i.tags !== undefined) t.tags = i.tags;
  if (i.needed_tags !== undefined) t.needed_tags = i.needed_tags;
  if (i.wanted_tags !== undefined) t.wanted_tags = i.wanted_tags;
  if (i.time_estimate_ms !== undefined) t.time_estimate_ms = i.time_estimate_ms;
  for (const a of i.attachments ?? []) attachTo(s, t, { ...a, agent: agent ?? null }, now);
  let warnings: string[] = [];
  const phaseChanged = i.phase !== undefined && i.phase !== t.phase;
  if (i.phase !== undefined) t.phase = i.phase;
  if (i.status !== undefined && i.status !== t.status) {
    const to = wf.states[i.status];
    if (to?.timed) {
      if (t.worker_id !== null && t.worker_id !== agent)
        endClaim(s, t, wf.disconnect_state, `reclaimed by ${agent}`, now);
      startClaim(s, t, agent as string, i.lease_ms ?? WS_LIMITS.leaseSecondsDefault * 1000, i.reason ?? null, now);
    } else {
      if (wf.states[t.status]?.timed && i.status !== wf.disconnect_state) warnings = checkGates(s, t, agent).warnings;
      endClaim(s, t, i.status, i.reason ?? null, now);
      if (!isTerminal(wf, i.status)) t.completed_at = null;
    }
  } else if (phaseChanged) {
    record(s, t, agent ?? null, i.reason ?? null, now, true);
  }
  if (i.assignee !== undefined) {
    t.assignee = i.assignee;
    if (t.status === wf.initial_state) {
      t.status = 'assigned';
      record(s, t, agent ?? null, `assigned to ${i.assignee}`, now);
    }
  }
  t.updated_at = now;
  const unblocked = i.status && isTerminal(wf, i.status) ? newlyReady(s, t.id) : [];
  return { success: true, task: t, warnings, unblocked, lease_token: t.worker_id ? t.token : null };
}

/** The parent of a finished task, when that was its last open child. */
function t0Parent(s: WsState, finished: string): string[] {
  const p = s.tasks[finished]?.parent;
  const parent = p ? s.tasks[p] : undefined;
  return parent && isReady(s, parent) ? [parent.id] : [];
}

function newlyReady(s: WsState, finished: string): string[] {
  return s.deps
    .filter((d) => d.from === finished && DEP_TYPES[d.type].blocks === 'start')
    .map((d) => s.tasks[d.to])
    .filter((t): t is WsTask => t !== undefined && isReady(s, t))
    .map((t) => t.id)
    .concat(t0Parent(s, finished));
}

export function deleteTask(
  s: WsState,
  i: { worker_id?: string; task: string; cascade?: boolean; obliterate?: boolean; force?: boolean; reason?: string },
  now: number,
) {
  const root = getTask(s, i.task);
  const victims: WsTask[] = [];
  const collect = (t: WsTask): void => {
    victims.push(t);
    if (i.cascade) for (const c of allTasks(s)) if (c.parent === t.id && c.deleted_at === null) collect(c);
  };
  collect(root);
  if (!i.cascade) {
    const kids = allTasks(s).filter((c) => c.parent === root.id && c.deleted_at === null);
    if (kids.length > 0) fail('CONFLICT', `Task ${root.id} has ${kids.length} children; delete with cascade=true.`);
  }
  for (const v of victims) {
    if (v.worker_id !== null && v.worker_id !== i.worker_id && !i.force) {
      fail('CONFLICT', `Task ${v.id} is claimed by ${v.worker_id}; delete with force=true to take it away.`);
    }
  }
  for (const v of victims) {
    if (v.worker_id !== null) endClaim(s, v, 'cancelled', i.reason ?? 'deleted', now);
    removeMarks(s, (m) => m.task === v.id, 'released', now);
    if (i.obliterate) {
      delete s.tasks[v.id];
      keysChanged(s);
      s.deps = s.deps.filter((d) => d.from !== v.id && d.to !== v.id);
      emit(s, { t: 'del', k: v.k, sh: v.sh });
    } else {
      v.deleted_at = now;
      v.updated_at = now;
    }
  }
  return { success: true, deleted: victims.map((v) => v.id), obliterated: i.obliterate ?? false };
}

export function renameTask(s: WsState, from: string, to: string, now: number) {
  const t = getTask(s, from);
  if (s.tasks[to]) fail('CONFLICT', `Task id "${to}" is already used; pick another.`);
  delete s.tasks[from];
  keysChanged(s);
  t.id = to;
  t.updated_at = now;
  s.tasks[to] = t;
  s.deps = s.deps.map((d) => ({ ...d, from: d.from === from ? to : d.from, to: d.to === from ? to : d.to }));
  for (const c of allTasks(s)) if (c.parent === from) c.parent = to;
  for (const m of s.marks) if (m.task === from) m.task = to;
  return { success: true, old_id: from, new_id: to, task: t };
}

// ---------------------------------------------------------------------------------------------------------------
// Dependencies

function reaches(s: WsState, from: string, target: string): boolean {
  const next = new Map<string, string[]>();
  for (const d of s.deps) {
    if (DEP_TYPES[d.type].blocks === 'none') continue;
    const list = next.get(d.from);
    if (list) list.push(d.to);
    else next.set(d.from, [d.to]);
  }
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    if (cur === target) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    stack.push(...(next.get(cur) ?? []));
  }
  return false;
}

export function link(s: WsState, from: string[], to: string[], type: DepType) {
  const created: WsDep[] = [];
  const errors: Array<{ from: string; to: string; error: string }> = [];
  for (const f of from) {
    for (const t of to) {
      const err = linkError(s, f, t, type);
      if (err) {
        errors.push({ from: f, to: t, error: err });
        continue;
      }
      const d = { from: f, to: t, type };
      if (type === 'contains') (s.tasks[t] as WsTask).parent = f;
      else s.deps.push(d);
      created.push(d);
    }
  }
  return { success: errors.length === 0, created, errors, type };
}

function linkError(s: WsState, f: string, t: string, type: DepType): string | undefined {
  if (!s.tasks[f] || s.tasks[f].deleted_at !== null) return `No task "${f}".`;
  if (!s.tasks[t] || s.tasks[t].deleted_at !== null) return `No task "${t}".`;
  if (f === t) return 'A task cannot depend on itself.';
  if (type === 'contains') {
    let p: string | null = f;
    while (p) {
      if (p === t) return `Cycle: ${t} already contains ${f}.`;
      p = s.tasks[p]?.parent ?? null;
    }
    return undefined;
  }
  if (s.deps.some((d) => d.from === f && d.to === t && d.type === type)) return 'Already linked.';
  if (DEP_TYPES[type].blocks !== 'none' && reaches(s, t, f)) return `Cycle: ${t} already leads to ${f}.`;
  return undefined;
}

export function checkLink(s: WsState, from: string[], to: string[], type: DepType): void {
  const errs = from.flatMap((f) => to.map((t) => linkError(s, f, t, type))).filter((e) => e !== undefined);
  if (errs.length === from.length * to.length) {
    fail(errs.some((e) => e.startsWith('Cycle')) ? 'DEPENDENCY_CYCLE' : 'CONFLICT', `No link made: ${errs.join(' ')}`);
  }
}

export function unlink(s: WsState, from: string[], to: string[], type: DepType) {
  const wildFrom = from.length === 1 && from[0] === '*';
  const wildTo = to.length === 1 && to[0] === '*';
  if (wildFrom && wildTo) fail('INVALID_ARGUMENT', "Use '*' for from or for to, not both.");
  const match = (f: string, t: string): boolean => (wildFrom || from.includes(f)) && (wildTo || to.includes(t));
  const removed: WsDep[] = [];
  if (type === 'contains') {
    for (const t of allTasks(s)) {
      if (t.parent !== null && match(t.parent, t.id)) {
        removed.push({ from: t.parent, to: t.id, type });
        t.parent = null;
      }
    }
  } else {
    s.deps = s.deps.filter((d) => {
      const hit = d.type === type && match(d.from, d.to);
      if (hit) removed.push(d);
      return !hit;
    });
  }
  return { success: true, removed, removed_count: removed.length, errors: [] };
}

/** Refuses a relink that would fail, without touching the state (it is tried on a copy of the links). */
export function checkRelink(s: WsState, i: Parameters<typeof relink>[1]): void {
  const tasks: Record<string, WsTask> = {};
  for (const [id, t] of Object.entries(s.tasks)) tasks[id] = { ...t };
  relink({ ...s, tasks, deps: s.deps.map((d) => ({ ...d })), marks: [], markLog: [], outbox: [] }, i);
}

export function relink(
  s: WsState,
  i: { prev_from: string[]; prev_to: string[]; from: string[]; to: string[]; type: DepType },
) {
  const saved = {
    deps: s.deps.map((d) => ({ ...d })),
    parents: allTasks(s).map((t) => [t.id, t.parent] as const),
  };
  const un = unlink(s, i.prev_from, i.prev_to, i.type);
  const li = link(s, i.from, i.to, i.type);
  if (!li.success) {
    // All or nothing: put the old links back.
    s.deps = saved.deps;
    for (const [id, p] of saved.parents) if (s.tasks[id]) s.tasks[id].parent = p;
    fail(
      'CONFLICT',
      `Relink refused, nothing changed: ${li.errors.map((e) => `${e.from}→${e.to}: ${e.error}`).join(' ')}`,
    );
  }
  return {
    success: true,
    unlinked: un.removed.map((d) => ({ from: d.from, to: d.to })),
    unlinked_count: un.removed_count,
    linked: li.created.map((d) => ({ from: d.from, to: d.to })),
    linked_count: li.created.length,
    type: i.type,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Attachments and metrics

function attachTo(
  s: WsState,
  t: WsTask,
  a: { type: string; content: string; name?: string; mime?: string; agent: string | null },
  now: number,
): WsAttachment {
  const att: WsAttachment = {
    type: a.type,
    name: a.name ?? a.type,
    mime: a.mime ?? (a.type === 'result' || a.type === 'meta' ? 'application/json' : 'text/plain'),
    content: a.content,
    agent: a.agent,
    at: now,
  };
  t.att[a.type] = (t.att[a.type] ?? 0) + 1;
  t.updated_at = now;
  emit(s, { t: 'att', k: t.k, sh: t.sh, att });
  return att;
}

export function attach(
  s: WsState,
  i: { agent?: string; task: string; type: string; content: string; name?: string; mime?: string },
  now: number,
) {
  const t = getTask(s, i.task);
  touchWorker(s, i.agent, now);
  const att = attachTo(s, t, { ...i, agent: i.agent ?? null }, now);
  return { success: true, task_id: t.id, type: att.type, name: att.name, count: t.att[att.type] };
}

export function detach(s: WsState, i: { agent?: string; task: string; type?: string; name?: string }, now: number) {
  const t = getTask(s, i.task);
  touchWorker(s, i.agent, now);
  if (i.type !== undefined) delete t.att[i.type];
  else t.att = {};
  t.updated_at = now;
  emit(s, { t: 'detach', k: t.k, sh: t.sh, type: i.type ?? null, name: i.name ?? null });
  return { success: true, task_id: t.id, type: i.type ?? null };
}

export function logMetrics(
  s: WsState,
  i: { agent?: string; task: string; cost_usd?: number; values?: number[] },
  now: number,
) {
  const t = getTask(s, i.task);
  touchWorker(s, i.agent, now);
  if (i.cost_usd !== undefined) t.cost_usd += i.cost_usd;
  (i.values ?? []).forEach((v, n) => {
    while (t.metrics.length <= n) t.metrics.push(0);
    t.metrics[n] = (t.metrics[n] ?? 0) + v;
  });
  t.updated_at = now;
  return { success: true, task_id: t.id, cost_usd: t.cost_usd, metrics: padMetrics(t.metrics) };
}

export const padMetrics = (m: number[]): number[] => Array.from({ length: WS_LIMITS.metrics }, (_, n) => m[n] ?? 0);

// ---------------------------------------------------------------------------------------------------------------
// File marks

export function normalizePath(raw: string): { file: string; exclusive: boolean } {
  let p = raw.trim();
  const exclusive = p.startsWith('lock:');
  if (exclusive) p = p.slice(5).trim();
  p = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '.' || (part === '' && parts.length > 0)) continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..' && parts[parts.length - 1] !== '')
      parts.pop();
    else parts.push(part);
  }
  return { file: parts.join('/') || '.', exclusive };
}

function removeMarks(s: WsState, pred: (m: WsMark) => boolean, action: MarkChange['action'], now: number): WsMark[] {
  const gone = s.marks.filter(pred);
  if (gone.length === 0) return gone;
  s.marks = s.marks.filter((m) => !pred(m));
  for (const m of gone) logMark(s, m, action, now);
  return gone;
}

function logMark(s: WsState, m: WsMark, action: MarkChange['action'], now: number): void {
  s.markLog.push({ seq: s.nextMark++, file: m.file, agent: m.agent, task: m.task, action, reason: m.reason, at: now });
  if (s.markLog.length > WS_LIMITS.markLog) s.markLog.splice(0, s.markLog.length - WS_LIMITS.markLog);
}

export interface MarkInput {
  agent: string;
  files: string[];
  task?: string;
  reason?: string;
  ttl_ms?: number;
}

export function checkMark(s: WsState, i: MarkInput): void {
  if (i.task !== undefined) {
    const t = getTask(s, i.task);
    if (t.worker_id !== i.agent) {
      fail(
        'CONFLICT',
        `A mark for task ${t.id} needs its claim; ${t.worker_id ? `${t.worker_id} holds it` : 'nobody holds it'}. Claim it first, or mark without task.`,
      );
    }
  }
  for (const raw of i.files) {
    const { file, exclusive } = normalizePath(raw);
    const others = s.marks.filter((m) => m.file === file && m.agent !== i.agent);
    const blocking = others.find((m) => m.exclusive || exclusive);
    if (blocking) {
      fail(
        'CONFLICT',
        `${file} is ${blocking.exclusive ? 'locked' : 'marked'} by ${blocking.agent}${blocking.task ? ` for task ${blocking.task}` : ''}; an exclusive lock needs it free. Wait for mark_updates() or coordinate.`,
        {
          file,
          held_by: blocking.agent,
          task: blocking.task,
        },
      );
    }
  }
}

export function markFiles(s: WsState, i: MarkInput, now: number) {
  checkMark(s, i);
  if (!s.workers[i.agent]) connect(s, { worker_id: i.agent }, now);
  touchWorker(s, i.agent, now);
  const warnings: Array<{ file: string; held_by: string; task: string | null; reason: string | null }> = [];
  const marked: string[] = [];
  for (const raw of i.files) {
    const { file, exclusive } = normalizePath(raw);
    for (const m of s.marks.filter((x) => x.file === file && x.agent !== i.agent)) {
      warnings.push({ file, held_by: m.agent, task: m.task, reason: m.reason });
    }
    const task = i.task ?? null;
    const expires = task === null ? now + (i.ttl_ms ?? WS_LIMITS.markTtlSecondsDefault * 1000) : null;
    const mine = s.marks.find((m) => m.file === file && m.agent === i.agent && m.task === task);
    if (mine) {
      mine.exclusive = mine.exclusive || exclusive;
      mine.expires_at = expires;
      mine.reason = i.reason ?? mine.reason;
    } else {
      const m: WsMark = {
        file,
        agent: i.agent,
        task,
        exclusive,
        reason: i.reason ?? null,
        at: now,
        expires_at: expires,
      };
      s.marks.push(m);
      logMark(s, m, 'marked', now);
    }
    marked.push(file);
  }
  return { success: true, marked, warnings, exclusive: i.files.some((f) => normalizePath(f).exclusive) };
}

export function unmarkFiles(s: WsState, i: { agent: string; files?: string[]; task?: string }, now: number) {
  touchWorker(s, i.agent, now);
  const all = !i.files || i.files.length === 0 || i.files.includes('*');
  const files = all ? [] : (i.files ?? []).map((f) => normalizePath(f).file);
  const gone = removeMarks(
    s,
    (m) => m.agent === i.agent && (all || files.includes(m.file)) && (i.task === undefined || m.task === i.task),
    'unmarked',
    now,
  );
  return { success: true, unmarked: gone.map((m) => m.file), count: gone.length };
}

export function listMarks(s: WsState, q: { files?: string[]; agent?: string; task?: string }) {
  const files = q.files?.map((f) => normalizePath(f).file);
  return s.marks.filter(
    (m) =>
      (!files || files.includes(m.file)) &&
      (q.agent === undefined || m.agent === q.agent) &&
      (q.task === undefined || m.task === q.task),
  );
}

/**
 * Mark changes by other agents since this agent's last look; moves its cursor. With `watch` and nothing to answer, the
 * agent is noted as waiting (takeMarkWatchers signals it at the next change by someone else); without, it is not.
 * `missed` counts changes it had not seen that the log (the last WS_LIMITS.markLog) no longer holds.
 */
export function markUpdates(s: WsState, agent: string, now: number, watch = false) {
  const w = s.workers[agent] ?? connect(s, { worker_id: agent }, now);
  touchWorker(s, agent, now);
  const changes = pendingMarkUpdates(s, agent);
  const oldest = s.markLog[0]?.seq ?? s.nextMark;
  const missed = Math.max(0, oldest - 1 - w.cursor);
  w.cursor = s.nextMark - 1;
  const watching = s.watchers?.includes(agent) ?? false;
  if (watch && changes.length === 0 && missed === 0) {
    if (!watching) (s.watchers ??= []).push(agent);
  } else if (watching) s.watchers = (s.watchers ?? []).filter((a) => a !== agent);
  return { changes, count: changes.length, cursor: w.cursor, ...(missed > 0 ? { missed } : {}) };
}

export function pendingMarkUpdates(s: WsState, agent: string): MarkChange[] {
  const cursor = s.workers[agent]?.cursor ?? 0;
  return s.markLog.filter((c) => c.seq > cursor && c.agent !== agent);
}

/** Whether another agent changed a mark after this agent's cursor (the log is in seq order: read from its newest back). */
function hasPendingMark(s: WsState, agent: string): boolean {
  const cursor = s.workers[agent]?.cursor ?? 0;
  for (let n = s.markLog.length - 1; n >= 0 && (s.markLog[n] as MarkChange).seq > cursor; n--)
    if ((s.markLog[n] as MarkChange).agent !== agent) return true;
  return false;
}

/** Watchers that now have a change by someone else to read: taken off the list, to be signalled once each. */
export function takeMarkWatchers(s: WsState): string[] {
  if (!s.watchers || s.watchers.length === 0) return [];
  const due = s.watchers.filter((a) => hasPendingMark(s, a));
  if (due.length > 0) s.watchers = s.watchers.filter((a) => !due.includes(a));
  return due;
}

// ---------------------------------------------------------------------------------------------------------------
// Timers

/** The next moment a lease or a mark's TTL ends. */
export function nextDeadline(s: WsState): number | undefined {
  let next: number | undefined;
  for (const t of claimedTasks(s))
    if (t.lease_until !== null && (next === undefined || t.lease_until < next)) next = t.lease_until;
  for (const m of s.marks)
    if (m.expires_at !== null && (next === undefined || m.expires_at < next)) next = m.expires_at;
  return next;
}

/** What the timer armed for `at` is for (the Web UI's timer label). */
export function deadlineSummary(s: WsState, at: number): string {
  const t = claimedTasks(s).find((x) => x.lease_until === at);
  if (t) return `lease of ${t.id} for ${t.worker_id ?? '?'} in workspace ${s.name}`;
  const m = s.marks.find((x) => x.expires_at === at);
  return m ? `mark of ${m.file} by ${m.agent} in workspace ${s.name}` : `deadline in workspace ${s.name}`;
}

/** Expired claims go back (their marks with them); expired untasked marks go. */
export function expire(s: WsState, now: number): { tasks: string[]; marks: number } {
  const tasks: string[] = [];
  for (const t of claimedTasks(s)) {
    if (t.lease_until !== null && t.lease_until <= now && t.worker_id !== null) {
      endClaim(
        s,
        t,
        workerWorkflow(s, t.worker_id).disconnect_state,
        `lease expired (no call from ${t.worker_id})`,
        now,
      );
      tasks.push(t.id);
    }
  }
  const marks = removeMarks(s, (m) => m.expires_at !== null && m.expires_at <= now, 'released', now).length;
  return { tasks, marks };
}

// ---------------------------------------------------------------------------------------------------------------
// Reads

export interface ListQuery {
  status?: string[];
  ready?: boolean;
  blocked?: boolean;
  claimed?: boolean;
  owner?: string;
  parent?: string;
  recursive?: boolean;
  agent?: string;
  tags_any?: string[];
  tags_all?: string[];
  sort_by?: 'priority' | 'created_at' | 'updated_at';
  sort_order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export function listTasks(s: WsState, q: ListQuery): { tasks: WsTask[]; total: number } {
  let under: Set<string> | undefined;
  if (q.parent !== undefined && q.parent !== 'null' && q.recursive) {
    under = new Set();
    const stack = [q.parent];
    while (stack.length > 0) {
      const p = stack.pop() as string;
      for (const t of allTasks(s))
        if (t.parent === p && !under.has(t.id)) {
          under.add(t.id);
          stack.push(t.id);
        }
    }
  }
  const parents = openParents(s);
  const rows = allTasks(s).filter((t) => {
    if (t.deleted_at !== null) return false;
    if (q.status && !q.status.includes(t.status)) return false;
    if (q.ready !== undefined && isReady(s, t, q.agent, parents) !== q.ready) return false;
    if (q.blocked !== undefined && openBlockers(s, t).length > 0 !== q.blocked) return false;
    if (q.claimed !== undefined && (t.worker_id !== null) !== q.claimed) return false;
    if (q.owner !== undefined && t.worker_id !== q.owner) return false;
    if (q.parent !== undefined) {
      if (q.parent === 'null') {
        if (t.parent !== null) return false;
      } else if (under ? !under.has(t.id) : t.parent !== q.parent) return false;
    }
    if (q.tags_any && !q.tags_any.some((x) => t.tags.includes(x))) return false;
    if (q.tags_all && !q.tags_all.every((x) => t.tags.includes(x))) return false;
    return true;
  });
  const sortBy = q.sort_by ?? (q.ready ? 'priority' : 'created_at');
  const dir = q.sort_order === 'asc' ? 1 : q.sort_order === 'desc' ? -1 : sortBy === 'priority' ? -1 : 1;
  rows.sort((a, b) => {
    const d =
      sortBy === 'priority'
        ? a.priority - b.priority
        : sortBy === 'updated_at'
          ? a.updated_at - b.updated_at
          : a.seq - b.seq;
    return d * dir || a.seq - b.seq;
  });
  const offset = q.offset ?? 0;
  const limit = Math.min(q.limit ?? WS_LIMITS.listLimitDefault, WS_LIMITS.listLimitMax);
  return { tasks: rows.slice(offset, offset + limit), total: rows.length };
}

export function scan(s: WsState, id: string, depth: { before: number; after: number; above: number; below: number }) {
  const root = getTask(s, id);
  const walk = (start: string, next: (id: string) => string[], max: number): string[] => {
    const out: string[] = [];
    const seen = new Set([start]);
    let frontier = [start];
    for (let level = 0; frontier.length > 0 && (max < 0 || level < max); level++) {
      const nxt: string[] = [];
      for (const f of frontier) {
        for (const n of next(f)) {
          if (seen.has(n)) continue;
          seen.add(n);
          out.push(n);
          nxt.push(n);
        }
      }
      frontier = nxt;
    }
    return out;
  };
  const startDeps = (pick: (d: WsDep) => string | undefined) => (x: string) =>
    s.deps
      .filter((d) => DEP_TYPES[d.type].blocks === 'start')
      .map(pick)
      .filter((v): v is string => v !== undefined && v !== x);
  const rows = (ids: string[]) => ids.map((i) => s.tasks[i]).filter((t) => t && t.deleted_at === null);
  return {
    root,
    before: rows(walk(root.id, (x) => startDeps((d) => (d.to === x ? d.from : undefined))(x), depth.before)),
    after: rows(walk(root.id, (x) => startDeps((d) => (d.from === x ? d.to : undefined))(x), depth.after)),
    above: rows(walk(root.id, (x) => (s.tasks[x]?.parent ? [s.tasks[x].parent] : []), depth.above)),
    below: rows(
      walk(
        root.id,
        (x) =>
          allTasks(s)
            .filter((t) => t.parent === x)
            .map((t) => t.id),
        depth.below,
      ),
    ),
  };
}

/** Agents holding a claim or a mark here, sorted. */
export function holdersOf(s: WsState): string[] {
  const out = new Set<string>();
  for (const t of claimedTasks(s)) if (t.worker_id !== null) out.add(t.worker_id);
  for (const m of s.marks) out.add(m.agent);
  return [...out].sort().slice(0, 100);
}

/** What the workspace looks like at a glance (current details in the Web UI). */
export function renderDetails(s: WsState): string {
  const counts: Record<string, number> = {};
  for (const t of allTasks(s)) if (t.deleted_at === null) counts[t.status] = (counts[t.status] ?? 0) + 1;
  const connected = Object.values(s.workers).filter((w) => w.status === 'connected');
  const lines = [
    `### Workspace: ${s.name}`,
    '',
    `Tasks: ${
      Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    '',
    `Workers connected: ${connected.length}; file marks: ${s.marks.length}`,
    '',
  ];
  const held = claimedTasks(s).slice(0, 25);
  if (held.length > 0) {
    lines.push('| task | holder | lease until (UTC) | title |', '| --- | --- | --- | --- |');
    for (const t of held) {
      const until = t.lease_until === null ? '' : utc(new Date(t.lease_until).toISOString());
      lines.push(`| ${escapeCell(t.id)} | ${t.worker_id ?? ''} | ${until} | ${escapeCell(t.title.slice(0, 60))} |`);
    }
  }
  return forPanel(lines);
}

// ---------------------------------------------------------------------------------------------------------------
// Packing for continue-as-new: 10,000 task rows as columns, runs of equal values stored once.

export type PackedColumn = { v: unknown[] } | { r: unknown[] };
export interface PackedTasks {
  n: number;
  cols: Record<string, PackedColumn>;
}

export function packTasks(tasks: Record<string, WsTask>): PackedTasks {
  const rows = Object.values(tasks);
  const cols: Record<string, PackedColumn> = {};
  const keys = rows[0] ? (Object.keys(rows[0]) as Array<keyof WsTask>) : [];
  for (const key of keys) {
    const values = rows.map((t) => (key === 'k' && t.k === t.id ? null : t[key]));
    const runs: unknown[] = [];
    let last = '';
    for (const v of values) {
      const json = JSON.stringify(v);
      if (runs.length > 0 && json === last) runs[runs.length - 1] = (runs[runs.length - 1] as number) + 1;
      else runs.push(v, 1);
      last = json;
    }
    cols[key] = runs.length < values.length ? { r: runs } : { v: values };
  }
  return { n: rows.length, cols };
}

export function unpackTasks(p: PackedTasks): Record<string, WsTask> {
  const rows: Array<Record<string, unknown>> = Array.from({ length: p.n }, () => ({}));
  for (const [key, col] of Object.entries(p.cols)) {
    if ('v' in col) col.v.forEach((v, n) => (rows[n]![key] = v));
    else {
      let n = 0;
      for (let i = 0; i < col.r.length; i += 2) {
        const count = col.r[i + 1] as number;
        const json = JSON.stringify(col.r[i]);
        for (let c = 0; c < count; c++) rows[n++]![key] = c === 0 ? col.r[i] : JSON.parse(json);
      }
    }
  }
  const out: Record<string, WsTask> = {};
  for (const r of rows) {
    const t = r as unknown as WsTask;
    if (t.k === null) t.k = t.id;
    out[t.id] = t;
  }
  return out;
}
