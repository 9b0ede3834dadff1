/**
 * Task-graph workspaces by intent: every change is an Update on the workspace's head workflow (started on first
 * use), reads are Queries on the head merged with its detail shards.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { newWorkspace, padMetrics, type ColdOp, type WsTask } from '../domain/workspace';
import { applyDetailOps } from '../workflows/workspace-shard';
import * as M from '../workflows/workspace-messages';
import { workspaceSearchAttributes } from '../workflows/search-attributes';
import type { workspaceWorkflow } from '../workflows/workspace';
import { AppError, isResourceExhausted } from './errors';
import { isErrorCode } from '../domain/errors';
import type { GoalsClient, WorkflowTarget } from './goals';

export const DEFAULT_WORKSPACE = 'default';

export interface TaskDetail {
  description: string | null;
  attachments: M.ShardRecord['attachments'];
  events: M.ShardRecord['events'];
}

type Json = Record<string, unknown>;

export function createWorkspacesClient(goals: GoalsClient) {
  const started = new Set<string>();

  const entity = (name: string): string => `Workspace ${name}`;
  const target = (name: string): WorkflowTarget => ({ workflowId: M.workspaceWorkflowId(name) });

  async function runUpdate<R>(
    client: Client,
    name: string,
    def: UpdateDefinition<R, [Json]>,
    arg: Json,
    updateId: string,
  ) {
    const id = M.workspaceWorkflowId(name);
    for (let attempt = 0; ; attempt++) {
      try {
        if (started.has(name)) return await client.workflow.getHandle(id).executeUpdate(def, { args: [arg], updateId });
        const start = new WithStartWorkflowOperation<typeof workspaceWorkflow>('workspaceWorkflow', {
          workflowId: id,
          taskQueue: goals.taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ state: newWorkspace(name) }],
          typedSearchAttributes: workspaceSearchAttributes(name),
          staticSummary: `Task-graph workspace: ${name}`,
        });
        const r = await client.workflow.executeUpdateWithStart(def, {
          args: [arg],
          updateId,
          startWorkflowOperation: start,
        });
        started.add(name);
        return r;
      } catch (err) {
        if (isResourceExhausted(err) && attempt < 40) {
          await sleep(Math.min(500, 10 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
          continue;
        }
        if (started.has(name) && /not found|does not exist/i.test(String((err as Error).message)) && attempt < 1) {
          started.delete(name);
          continue;
        }
        throw err;
      }
    }
  }

  function update<R>(name: string, def: UpdateDefinition<R, [Json]>, arg: Json, requestId?: string): Promise<R> {
    return goals.withClient(
      (client) => runUpdate(client, name, def, arg, requestId ?? randomUUID()),
      entity(name),
      target(name),
    );
  }

  async function query<R, A extends unknown[]>(name: string, def: QueryDefinition<R, A>, ...args: A): Promise<R> {
    let out: R;
    try {
      out = await goals.withClient(
        (client) => client.workflow.getHandle(M.workspaceWorkflowId(name)).query(def, ...args),
        entity(name),
        target(name),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') {
        throw new AppError(
          'NOT_FOUND',
          `Workspace ${name} has nothing in it yet; create tasks first (create or create_tree).`,
        );
      }
      throw err;
    }
    const refused = (out as { $error?: { code: string; message: string } } | null)?.$error;
    if (refused) throw new AppError(isErrorCode(refused.code) ? refused.code : 'INTERNAL', refused.message);
    return out;
  }

  /** A shard's details (empty when the shard has not started yet: nothing was shipped to it). */
  async function shardQuery(
    name: string,
    k: number,
    keys?: string[],
  ): Promise<{ lastOp: number; recs: Record<string, M.ShardRecord> }> {
    try {
      return await goals.withClient(
        (client) => {
          const h = client.workflow.getHandle(M.shardWorkflowId(name, k));
          return keys ? h.query(M.shardGetQuery, { keys }) : h.query(M.shardDumpQuery);
        },
        entity(name),
        { workflowId: M.shardWorkflowId(name, k) },
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return { lastOp: 0, recs: {} };
      throw err;
    }
  }

  /** Details of tasks: what the shards hold plus what the head has not delivered yet (read-your-writes). */
  async function details(
    name: string,
    tasks: Array<{ task: WsTask; pending: ColdOp[] }>,
  ): Promise<Map<string, TaskDetail>> {
    const byShard = new Map<number, string[]>();
    for (const { task } of tasks) byShard.set(task.sh, [...(byShard.get(task.sh) ?? []), task.k]);
    const out = new Map<string, TaskDetail>();
    await Promise.all(
      [...byShard.entries()].map(async ([k, keys]) => {
        const got = await shardQuery(name, k, keys);
        const merged: M.ShardState = { workspace: name, k, lastOp: got.lastOp, recs: got.recs };
        applyDetailOps(
          merged,
          tasks.filter((t) => t.task.sh === k).flatMap((t) => t.pending),
        );
        for (const key of keys) {
          const rec = merged.recs[key];
          out.set(key, {
            description: rec?.description ?? null,
            attachments: rec?.attachments ?? [],
            events: rec?.events ?? [],
          });
        }
      }),
    );
    return out;
  }

  /** The head's whole state, read page by page (a 10,000-task workspace does not fit one gRPC message). */
  async function snapshot(name: string): Promise<M.Snapshot> {
    const first = await query(name, M.wsSnapshotQuery, {});
    const snap: M.Snapshot = { ...first };
    let page = first;
    while (page.more) {
      page = await query(name, M.wsSnapshotQuery, {
        afterSeq: snap.tasks[snap.tasks.length - 1]?.seq ?? 0,
        afterOp: snap.outbox[snap.outbox.length - 1]?.o ?? 0,
      });
      snap.tasks.push(...page.tasks);
      snap.outbox.push(...page.outbox);
    }
    return snap;
  }

  /** Everything: the head's snapshot and every shard's details (for query, search and project_history). */
  async function everything(name: string) {
    const snap = await snapshot(name);
    const shards = await Promise.all(snap.shards.map((k) => shardQuery(name, k).then((r) => ({ k, ...r }))));
    const recs: Record<string, M.ShardRecord> = {};
    for (const sh of shards) {
      const merged: M.ShardState = { workspace: name, k: sh.k, lastOp: sh.lastOp, recs: sh.recs };
      applyDetailOps(
        merged,
        snap.outbox.filter((op) => op.sh === sh.k),
      );
      Object.assign(recs, merged.recs);
    }
    // Ops for shards not started yet.
    const fresh: M.ShardState = { workspace: name, k: -1, lastOp: 0, recs: {} };
    applyDetailOps(
      fresh,
      snap.outbox.filter((op) => !snap.shards.includes(op.sh)),
    );
    Object.assign(recs, fresh.recs);
    return { ...snap, recs };
  }

  return {
    update,
    query,
    snapshot,
    details,
    everything,
    async getTasks(name: string, ids: string[]) {
      const views = await query(name, M.wsTasksQuery, { ids });
      const det = await details(name, views);
      return views.map((v) => ({ ...v, detail: det.get(v.task.k) as TaskDetail }));
    },
    metricsOf: (t: WsTask) => ({ task_id: t.id, cost_usd: t.cost_usd, metrics: padMetrics(t.metrics) }),
  };
}

export type WorkspacesClient = ReturnType<typeof createWorkspacesClient>;
