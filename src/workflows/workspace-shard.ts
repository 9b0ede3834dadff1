/**
 * workspaceShardWorkflow (`workspace-<name>-s<k>`): the bulky part of a slice of a task-graph workspace — task
 * descriptions, attachment contents and the state history (task_sequence) — applied in the order its head sent it.
 * Nothing here decides anything; reads merge it with the head's hot rows.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { initPatches } from './patches';
import { continueAsNewSuggested, initContinueAsNew, noteRecordedWork } from './continue-as-new';
import { ShardKeysQuerySchema } from '../domain/workspace-schemas';
import type { ColdOp } from '../domain/workspace';
import { validatedQuery } from './entity';
import {
  shardApplySignal,
  shardDumpQuery,
  shardGetQuery,
  type ShardRecord,
  type ShardState,
} from './workspace-messages';

/** Attachments of one type kept per task (older ones of that type are dropped first). */
const ATTACHMENTS_PER_TASK = 200;
const EVENTS_PER_TASK = 500;

export function applyDetailOps(state: ShardState, ops: ColdOp[]): void {
  for (const op of ops) {
    if (op.o <= state.lastOp) continue;
    state.lastOp = op.o;
    if (op.t === 'del') {
      delete state.recs[op.k];
      continue;
    }
    const rec: ShardRecord = (state.recs[op.k] ??= { description: null, attachments: [], events: [] });
    if (op.t === 'desc') rec.description = op.description;
    else if (op.t === 'att') {
      rec.attachments.push(op.att);
      if (rec.attachments.length > ATTACHMENTS_PER_TASK) rec.attachments.shift();
    } else if (op.t === 'detach') {
      rec.attachments = rec.attachments.filter(
        (a) => (op.type !== null && a.type !== op.type) || (op.name !== null && a.name !== op.name),
      );
    } else {
      // A state change ends the current state's period; a phase change (status null) ends nothing.
      const open = [...rec.events].reverse().find((e) => e.status !== null);
      if (op.ev.status !== null && open && open.end_timestamp === null) open.end_timestamp = op.ev.timestamp;
      rec.events.push({ ...op.ev, end_timestamp: null });
      if (rec.events.length > EVENTS_PER_TASK) rec.events.shift();
    }
  }
}

export async function workspaceShardWorkflow(input: ShardState): Promise<void> {
  initPatches();
  initContinueAsNew();
  const state = input;
  setHandler(shardApplySignal, (ops) => {
    noteRecordedWork();
    applyDetailOps(state, ops);
  });
  validatedQuery(shardGetQuery, ShardKeysQuerySchema, 'getDetails input', ({ keys }) => ({
    lastOp: state.lastOp,
    recs: Object.fromEntries(keys.filter((k) => state.recs[k]).map((k) => [k, state.recs[k] as ShardRecord])),
  }));
  setHandler(shardDumpQuery, () => ({ lastOp: state.lastOp, recs: state.recs }));
  await condition(() => continueAsNewSuggested());
  await condition(allHandlersFinished);
  await continueAsNew<typeof workspaceShardWorkflow>(state);
}
