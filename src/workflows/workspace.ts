/**
 * workspaceWorkflow (`workspace-<name>`): a task-graph workspace's coordination head. Every decision that must be
 * atomic — claims, dependency checks, gates, file marks bound to claims, lease expiry — happens here, in one
 * workflow task. Descriptions, attachment contents and the state history are shipped, in order, to the workspace's
 * detail shards (workspaceShardWorkflow), so 10,000 tasks fit (docs/DECISIONS.md "Task-graph workspaces").
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { hasPatch, initPatches, startedHolding } from './patches';
import { continueAsNewSuggested, initContinueAsNew, noteRecordedWork } from './continue-as-new';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as ws from '../domain/workspace';
import * as S from '../domain/workspace-schemas';
import type { DepType } from '../domain/tg-config';
import { parseOrFail } from '../domain/validate';
import { DomainError } from '../domain/errors';
import { unlessCancelled, updateRegistrar } from './entity';
import * as M from './workspace-messages';
import { AR_AGENTS, workspaceSearchAttributes } from './search-attributes';
import { workspaceShardWorkflow } from './workspace-shard';
import { agentWorkflowId, marksChangedSignal } from './messages';

/** Tasks (and detail ops) per snapshot page: a page stays well under the 4 MB a gRPC message may carry. */
const SNAPSHOT_PAGE = 2_000;

/** At most this many undelivered detail ops travel across continue-as-new. */
const CAN_OUTBOX_MAX = 1_000;

/** How long detail ops gather before they are sent (unless FLUSH_BATCH of them are waiting). */
const FLUSH_DELAY_MS = 500;

/** Detail ops sent to one shard in one Signal. */
const FLUSH_BATCH = 2_000;

export async function workspaceWorkflow(input: M.WorkspaceInput): Promise<void> {
  initPatches();
  initContinueAsNew();
  const state = input.state;
  if (input.packed) state.tasks = ws.unpackTasks(input.packed);
  const applied = new Map<string, unknown>(input.applied ?? []);
  let rearm = false;
  let armedFor: number | undefined;
  let dirty = true;

  // mark_updates' long-poll waits in each agent's own workflow: a watching agent is signalled once, at the first
  // change by someone else (a Signal nobody waits for; an agent without a workflow simply is not woken).
  let marksSeen = state.nextMark;
  let wakesInFlight = 0; // sent before continue-as-new: a run that ends with a Signal in flight may never send it
  const wakeMarkWatchers = (): void => {
    if (state.nextMark === marksSeen) return;
    marksSeen = state.nextMark;
    const seq = state.nextMark - 1;
    for (const agent of ws.takeMarkWatchers(state)) {
      wakesInFlight += 1;
      getExternalWorkflowHandle(agentWorkflowId(agent))
        .signal(marksChangedSignal, { workspace: state.name, seq })
        .catch(() => undefined)
        .finally(() => (wakesInFlight -= 1));
    }
  };
  const afterChange = (): void => {
    const next = ws.nextDeadline(state);
    if (next !== undefined && (armedFor === undefined || next < armedFor)) rearm = true;
    dirty = true;
    wakeMarkWatchers();
  };
  const update = updateRegistrar({ applied, afterChange });
  const noCheck = (): void => undefined;
  const exists = (i: { task: string }): void => void ws.getTask(state, i.task);

  update(
    M.wsCreateUpdate,
    S.WsCreateSchema,
    'create input',
    (i) => ws.checkCreate(state, i),
    (i, now) => ws.createTask(state, i, i.agent ?? null, now),
  );
  update(
    M.wsCreateTreeUpdate,
    S.WsCreateTreeSchema,
    'createTree input',
    (i) => ws.checkTree(state, i.tree, i.parent),
    (i, now) => {
      const r = ws.createTree(
        state,
        i.tree,
        i.parent,
        (i.child_type ?? 'contains') as DepType,
        i.sibling_type as DepType | undefined,
        i.agent ?? null,
        now,
      );
      return { ...r, count: r.all_ids.length };
    },
  );
  update(
    M.wsClaimUpdate,
    S.WsClaimSchema,
    'claim input',
    (i) => {
      ws.checkClaim(state, i);
      if (i.files && i.task) ws.checkMark(state, { agent: i.worker_id, files: i.files });
    },
    (i, now) => {
      const r = ws.claim(state, i, now);
      if (r.task && i.files && i.files.length > 0) {
        ws.markFiles(state, { agent: i.worker_id, files: i.files, task: r.task.id }, now);
      }
      return r;
    },
  );
  update(
    M.wsUpdateUpdate,
    S.WsUpdateSchema,
    'update input',
    (i) => ws.checkUpdate(state, i),
    (i, now) => ws.updateTask(state, i, now),
  );
  update(M.wsDeleteUpdate, S.WsDeleteSchema, 'delete input', exists, (i, now) => ws.deleteTask(state, i, now));
  update(M.wsRenameUpdate, S.WsRenameSchema, 'rename input', exists, (i, now) =>
    ws.renameTask(state, i.task, i.new_id, now),
  );
  update(
    M.wsLinkUpdate,
    S.WsLinkSchema,
    'link input',
    (i) => ws.checkLink(state, i.from, i.to, i.type as DepType),
    (i) => ws.link(state, i.from, i.to, i.type as DepType),
  );
  update(M.wsUnlinkUpdate, S.WsLinkSchema, 'unlink input', noCheck, (i) =>
    ws.unlink(state, i.from, i.to, i.type as DepType),
  );
  update(
    M.wsRelinkUpdate,
    S.WsRelinkSchema,
    'relink input',
    (i) => ws.checkRelink(state, { ...i, type: i.type as DepType }),
    (i) => ws.relink(state, { ...i, type: i.type as DepType }),
  );
  update(M.wsAttachUpdate, S.WsAttachSchema, 'attach input', exists, (i, now) => ws.attach(state, i, now));
  update(M.wsDetachUpdate, S.WsDetachSchema, 'detach input', exists, (i, now) => ws.detach(state, i, now));
  update(M.wsLogMetricsUpdate, S.WsMetricsSchema, 'logMetrics input', exists, (i, now) => ws.logMetrics(state, i, now));
  update(
    M.wsMarkUpdate,
    S.WsMarkSchema,
    'markFile input',
    (i) => ws.checkMark(state, i),
    (i, now) => ws.markFiles(state, i, now),
  );
  update(M.wsUnmarkUpdate, S.WsUnmarkSchema, 'unmarkFile input', noCheck, (i, now) => ws.unmarkFiles(state, i, now));
  update(M.wsMarkUpdatesUpdate, S.WsAgentSchema, 'markUpdates input', noCheck, (i, now) =>
    ws.markUpdates(state, i.agent, now, i.watch),
  );
  update(M.wsConnectUpdate, S.WsConnectSchema, 'connect input', noCheck, (i, now) => ws.connect(state, i, now));
  update(M.wsDisconnectUpdate, S.WsDisconnectSchema, 'disconnect input', noCheck, (i, now) =>
    ws.disconnect(state, i.worker_id, i.final_status, now),
  );
  update(M.wsCleanupUpdate, S.WsCleanupSchema, 'cleanupStale input', noCheck, (i, now) =>
    ws.cleanupStale(state, i.timeout_ms, i.final_status, now),
  );
  update(M.wsThinkingUpdate, S.WsThinkingSchema, 'thinking input', noCheck, (i, now) =>
    ws.thinking(state, i.agent, i.thought, now),
  );

  // Queries answer a refusal (an unknown task, a bad input) as { $error } so that callers get its code and sentence.
  const answer =
    <A, R>(fn: (raw: A) => R) =>
    (raw: A): R => {
      try {
        return fn(raw);
      } catch (err) {
        if (err instanceof DomainError) return { $error: { code: err.code, message: err.message } } as R;
        throw err;
      }
    };
  setHandler(
    M.wsTasksQuery,
    answer((raw) => {
      const { ids } = parseOrFail(S.WsIdsSchema, raw, 'getTasks input');
      return ids
        .map((id) => state.tasks[id])
        .filter((t): t is ws.WsTask => t !== undefined && t.deleted_at === null)
        .map((task) => ({
          task,
          blocked_by: ws.openBlockers(state, task),
          dependencies: state.deps.filter((d) => d.from === task.id || d.to === task.id),
          pending: state.outbox.filter((op) => op.k === task.k),
        }));
    }),
  );
  setHandler(
    M.wsListQuery,
    answer((raw) => ws.listTasks(state, parseOrFail(S.WsListSchema, raw ?? {}, 'listTasks input'))),
  );
  setHandler(
    M.wsScanQuery,
    answer((raw) => {
      const i = parseOrFail(S.WsScanSchema, raw, 'scan input');
      return ws.scan(state, i.task, {
        before: i.before ?? 0,
        after: i.after ?? 0,
        above: i.above ?? 0,
        below: i.below ?? 0,
      });
    }),
  );
  setHandler(
    M.wsMarksQuery,
    answer((raw) => ws.listMarks(state, parseOrFail(S.WsMarksQuerySchema, raw ?? {}, 'listMarks input'))),
  );
  setHandler(
    M.wsPendingMarksQuery,
    answer(
      (raw) => ws.pendingMarkUpdates(state, parseOrFail(S.WsAgentSchema, raw, 'pendingMarkUpdates input').agent).length,
    ),
  );
  setHandler(
    M.wsGatesQuery,
    answer((raw) => {
      const i = parseOrFail(S.WsGatesSchema, raw, 'checkGates input');
      return ws.checkGates(state, ws.getTask(state, i.task), i.agent);
    }),
  );
  setHandler(M.wsWorkersQuery, () => Object.values(state.workers));
  setHandler(
    M.wsSnapshotQuery,
    answer((raw) => {
      const page = parseOrFail(S.WsSnapshotPageSchema, raw ?? {}, 'snapshot input');
      const afterSeq = page.afterSeq ?? 0;
      const afterOp = page.afterOp ?? 0;
      const limit = Math.min(page.limit ?? SNAPSHOT_PAGE, SNAPSHOT_PAGE);
      const tasks = Object.values(state.tasks)
        .filter((t) => t.seq > afterSeq)
        .sort((a, b) => a.seq - b.seq);
      const outbox = state.outbox.filter((op) => op.o > afterOp);
      const first = afterSeq === 0 && afterOp === 0;
      return {
        tasks: tasks.slice(0, limit),
        outbox: outbox.slice(0, limit),
        more: tasks.length > limit || outbox.length > limit,
        deps: first ? state.deps : [],
        marks: first ? state.marks : [],
        workers: first ? Object.values(state.workers) : [],
        shards: state.shards,
      };
    }),
  );

  // A run with the patch baseline started with them (the workspace client's start; a continue-as-new keeps them).
  const identity = workspaceSearchAttributes(state.name);
  if (!startedHolding(identity)) upsertSearchAttributes(identity);

  // Ships detail ops to the shards in order: one Signal per shard at a time, removed from the outbox once delivered.
  void (async () => {
    for (;;) {
      await condition(() => state.outbox.length > 0);
      // Ops gather for a moment (reads merge undelivered ops, so nobody waits for them): one Signal per shard carries
      // many changes instead of each change costing the head and a shard a workflow task of their own.
      await condition(() => state.outbox.length >= FLUSH_BATCH || continueAsNewSuggested(), FLUSH_DELAY_MS, {
        summary: `gather detail changes for the shards of workspace ${state.name}`,
      });
      const batch = state.outbox.slice(0, FLUSH_BATCH * 4);
      const byShard = new Map<number, ws.ColdOp[]>();
      for (const op of batch) {
        const k = op.sh;
        const list = byShard.get(k);
        if (list) list.push(op);
        else byShard.set(k, [op]);
      }
      await Promise.all(
        [...byShard.entries()].map(async ([k, ops]) => {
          await ensureShard(k);
          const handle = getExternalWorkflowHandle(M.shardWorkflowId(state.name, k));
          for (let n = 0; n < ops.length; n += FLUSH_BATCH)
            await handle.signal(M.shardApplySignal, ops.slice(n, n + FLUSH_BATCH));
        }),
      );
      const last = batch[batch.length - 1]?.o ?? 0;
      state.outbox = state.outbox.filter((op) => op.o > last);
    }
  })().catch(unlessCancelled);

  const ensureShard = async (k: number): Promise<void> => {
    if (state.shards.includes(k)) return;
    try {
      await startChild(workspaceShardWorkflow, {
        workflowId: M.shardWorkflowId(state.name, k),
        args: [{ workspace: state.name, k, lastOp: 0, recs: {} }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (!state.shards.includes(k)) state.shards.push(k);
  };

  // Who holds claims or marks here, in Visibility (ArAgents): an agent gone past its grace is released from every
  // workspace it holds something in (releaseAgentWork), found without asking each workspace.
  let holders = '';
  const publish = (): void => {
    dirty = false;
    setCurrentDetails(ws.renderDetails(state));
    const now = ws.holdersOf(state);
    if (now.join(',') !== holders) {
      holders = now.join(',');
      upsertSearchAttributes([{ key: AR_AGENTS, value: now }]);
    }
  };
  // The deadline timer is armed once per deadline, not restarted by every change: a change that moves the next
  // deadline later lets the armed timer fire early, find nothing due and arm again; only an earlier deadline restarts
  // it (rearm). The details and holders are written by a loop of their own. Runs started before keep the old commands.
  const lean = hasPatch('workspace-lean-timer');
  if (lean) {
    void (async () => {
      for (;;) {
        await condition(() => dirty);
        publish();
      }
    })().catch(unlessCancelled);
  }
  for (;;) {
    if (dirty && !lean) publish();
    rearm = false;
    armedFor = ws.nextDeadline(state);
    const wake = (): boolean => rearm || (dirty && !lean) || continueAsNewSuggested();
    if (armedFor === undefined) await condition(wake);
    else await condition(wake, Math.max(1, armedFor - Date.now()), { summary: ws.deadlineSummary(state, armedFor) });
    noteRecordedWork(); // a handler woke the loop, or a deadline timer fired
    // A durable timer: a claim nobody renews goes back, with its marks, even if nobody calls anything.
    const gone = ws.expire(state, Date.now());
    if (gone.tasks.length > 0 || gone.marks > 0) afterChange();
    if (continueAsNewSuggested()) {
      // Undelivered detail ops travel in the state (the new run sends them; shards skip what they already have), so a
      // busy workspace still continues as new; only a large backlog of them is waited out first.
      await condition(() => allHandlersFinished() && wakesInFlight === 0 && state.outbox.length <= CAN_OUTBOX_MAX);
      await continueAsNew<typeof workspaceWorkflow>({
        state: { ...state, tasks: {} },
        packed: ws.packTasks(state.tasks),
        applied: [...applied.entries()],
      });
    }
  }
}
