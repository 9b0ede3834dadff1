/**
 * Updates, Queries and Signals of the task-graph workspace workflows (head `workspace-<name>`, detail shards
 * `workspace-<name>-s<k>`). The names are what `temporal workflow update execute --name …` and `query --name …` take.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ClaimResult,
  ColdOp,
  MarkChange,
  WsAttachment,
  WsDep,
  WsEvent,
  WsMark,
  WsState,
  WsTask,
  WsWorker,
} from '../domain/workspace';
import type { GateReport, PackedTasks } from '../domain/workspace';

export const workspaceWorkflowId = (name: string): string => `workspace-${name}`;
export const shardWorkflowId = (name: string, k: number): string => `workspace-${name}-s${k}`;

export interface WorkspaceInput {
  state: WsState;
  /** The task rows, packed, when the state comes from continue-as-new (its `tasks` is then empty). */
  packed?: PackedTasks;
  applied?: Array<[string, unknown]>;
}

export interface ShardRecord {
  description: string | null;
  attachments: WsAttachment[];
  events: Array<WsEvent & { end_timestamp: number | null }>;
}
export interface ShardState {
  workspace: string;
  k: number;
  lastOp: number;
  recs: Record<string, ShardRecord>;
}

type Json = Record<string, unknown>;

export const wsCreateUpdate = defineUpdate<WsTask, [Json]>('create');
export const wsCreateTreeUpdate = defineUpdate<{ root: WsTask; all_ids: string[]; count: number }, [Json]>(
  'createTree',
);
export const wsClaimUpdate = defineUpdate<ClaimResult, [Json]>('claim');
export const wsUpdateUpdate = defineUpdate<{ task: WsTask } & Json, [Json]>('update');
export const wsDeleteUpdate = defineUpdate<Json, [Json]>('delete');
export const wsRenameUpdate = defineUpdate<{ task: WsTask } & Json, [Json]>('rename');
export const wsLinkUpdate = defineUpdate<Json, [Json]>('link');
export const wsUnlinkUpdate = defineUpdate<Json, [Json]>('unlink');
export const wsRelinkUpdate = defineUpdate<Json, [Json]>('relink');
export const wsAttachUpdate = defineUpdate<Json, [Json]>('attach');
export const wsDetachUpdate = defineUpdate<Json, [Json]>('detach');
export const wsLogMetricsUpdate = defineUpdate<Json, [Json]>('logMetrics');
export const wsMarkUpdate = defineUpdate<Json, [Json]>('markFile');
export const wsUnmarkUpdate = defineUpdate<Json, [Json]>('unmarkFile');
export const wsMarkUpdatesUpdate = defineUpdate<
  { changes: MarkChange[]; count: number; cursor: number; missed?: number },
  [Json]
>('markUpdates');
export const wsConnectUpdate = defineUpdate<WsWorker, [Json]>('connect');
export const wsDisconnectUpdate = defineUpdate<Json, [Json]>('disconnect');
export const wsCleanupUpdate = defineUpdate<Json, [Json]>('cleanupStale');
export const wsThinkingUpdate = defineUpdate<Json, [Json]>('thinking');

export interface TaskView {
  task: WsTask;
  blocked_by: Array<{ task: string; type: string; status: string }>;
  dependencies: WsDep[];
  /** Detail ops not yet delivered to the shard (read-your-writes). */
  pending: ColdOp[];
}
export interface Snapshot {
  tasks: WsTask[];
  deps: WsDep[];
  marks: WsMark[];
  workers: WsWorker[];
  outbox: ColdOp[];
  shards: number[];
}

export const wsTasksQuery = defineQuery<TaskView[], [Json]>('getTasks');
export const wsListQuery = defineQuery<{ tasks: WsTask[]; total: number }, [Json]>('listTasks');
export const wsScanQuery = defineQuery<Json, [Json]>('scan');
export const wsMarksQuery = defineQuery<WsMark[], [Json]>('listMarks');
export const wsPendingMarksQuery = defineQuery<number, [Json]>('pendingMarkUpdates');
export const wsGatesQuery = defineQuery<GateReport, [Json]>('checkGates');
export const wsWorkersQuery = defineQuery<WsWorker[], []>('listWorkers');
/** One page of a snapshot: tasks after `afterSeq`, detail ops after `afterOp`, up to `limit` of each. */
export interface SnapshotPage extends Snapshot {
  more: boolean;
}
export const wsSnapshotQuery = defineQuery<SnapshotPage, [{ afterSeq?: number; afterOp?: number; limit?: number }?]>(
  'snapshot',
);

export const shardApplySignal = defineSignal<[ColdOp[]]>('applyDetails');
export const shardGetQuery = defineQuery<{ lastOp: number; recs: Record<string, ShardRecord> }, [{ keys: string[] }]>(
  'getDetails',
);
export const shardDumpQuery = defineQuery<{ lastOp: number; recs: Record<string, ShardRecord> }, []>('dumpDetails');

export type WsWorkerResult = WsWorker;
export type ClaimOut = ClaimResult;
