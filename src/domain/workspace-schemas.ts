/**
 * Inputs of the workspace workflow's Updates and Queries, validated inside the workflow (validators) and shared with
 * the client, so a bad call from the `temporal` CLI is refused with the same sentence as one from a tool.
 */
import type { z } from 'zod';
import { sharedSchemas } from './shared';
import { DEP_TYPE_NAMES } from './tg-config';

// Built once per workflow thread (see ./shared); the names below are those objects.
const schemas = sharedSchemas('domain/workspace-schemas', (z) => {
  const WsIdSchema = z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\s*]+$/, 'a task id has no spaces and no "*"');
  const WorkerIdSchema = z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'a worker id is letters, digits, ".", "_", ":", "@" or "-"');
  const Tag = z.string().trim().min(1).max(64);
  const Tags = z.array(Tag).max(32);
  const Priority = z.number().int().min(0).max(10);
  const FileArg = z.string().trim().min(1).max(1024);
  const LeaseMs = z
    .number()
    .int()
    .min(1000)
    .max(7 * 24 * 3600 * 1000);

  const NewTaskSchema = z.object({
    id: WsIdSchema.optional(),
    title: z.string().trim().min(1).max(500).optional(),
    description: z.string().max(20_000).optional(),
    parent: WsIdSchema.optional(),
    priority: Priority.optional(),
    points: z.number().int().min(0).max(1000).optional(),
    time_estimate_ms: z.number().int().min(0).optional(),
    tags: Tags.optional(),
    needed_tags: Tags.optional(),
    wanted_tags: Tags.optional(),
    phase: z.string().min(1).max(64).optional(),
  });
  const TreeNodeSchema: z.ZodType<TreeNodeInput> = z.lazy(() =>
    NewTaskSchema.extend({
      ref: WsIdSchema.optional(),
      join_mode: z.enum(['then', 'also']).optional(),
      children: z.array(TreeNodeSchema).max(12_000).optional(),
    }),
  );

  const DepTypeSchema = z.enum(DEP_TYPE_NAMES as [string, ...string[]]);

  const WsCreateSchema = NewTaskSchema.extend({ agent: WorkerIdSchema.optional() });
  const WsCreateTreeSchema = z.object({
    tree: TreeNodeSchema,
    parent: WsIdSchema.optional(),
    child_type: DepTypeSchema.optional(),
    sibling_type: DepTypeSchema.optional(),
    agent: WorkerIdSchema.optional(),
  });
  const WsClaimSchema = z.object({
    worker_id: WorkerIdSchema,
    task: WsIdSchema.optional(),
    force: z.boolean().optional(),
    lease_ms: LeaseMs.optional(),
    files: z.array(FileArg).max(200).optional(),
  });
  const AttachmentIn = z.object({
    type: z.string().trim().min(1).max(64),
    content: z.string().max(100_000),
    name: z.string().max(200).optional(),
    mime: z.string().max(100).optional(),
  });
  const WsUpdateSchema = z.object({
    worker_id: WorkerIdSchema.optional(),
    task: WsIdSchema,
    status: z.string().min(1).max(64).optional(),
    phase: z.string().min(1).max(64).optional(),
    title: z.string().trim().min(1).max(500).optional(),
    description: z.string().max(20_000).optional(),
    priority: Priority.optional(),
    points: z.number().int().min(0).max(1000).optional(),
    tags: Tags.optional(),
    needed_tags: Tags.optional(),
    wanted_tags: Tags.optional(),
    time_estimate_ms: z.number().int().min(0).optional(),
    reason: z.string().max(2000).optional(),
    force: z.boolean().optional(),
    assignee: WorkerIdSchema.optional(),
    attachments: z.array(AttachmentIn).max(20).optional(),
    lease_ms: LeaseMs.optional(),
  });
  const WsDeleteSchema = z.object({
    worker_id: WorkerIdSchema.optional(),
    task: WsIdSchema,
    cascade: z.boolean().optional(),
    obliterate: z.boolean().optional(),
    force: z.boolean().optional(),
    reason: z.string().max(2000).optional(),
  });
  const WsRenameSchema = z.object({ task: WsIdSchema, new_id: WsIdSchema });
  const Ends = z.array(z.string().min(1).max(128)).min(1).max(1000);
  const WsLinkSchema = z.object({ from: Ends, to: Ends, type: DepTypeSchema });
  const WsRelinkSchema = z.object({ prev_from: Ends, prev_to: Ends, from: Ends, to: Ends, type: DepTypeSchema });
  const WsAttachSchema = AttachmentIn.extend({ agent: WorkerIdSchema.optional(), task: WsIdSchema });
  const WsDetachSchema = z.object({
    agent: WorkerIdSchema.optional(),
    task: WsIdSchema,
    type: z.string().min(1).max(64).optional(),
    name: z.string().max(200).optional(),
  });
  const WsMetricsSchema = z.object({
    agent: WorkerIdSchema.optional(),
    task: WsIdSchema,
    cost_usd: z.number().min(0).max(1e9).optional(),
    values: z.array(z.number().finite()).max(8).optional(),
  });
  const WsMarkSchema = z.object({
    agent: WorkerIdSchema,
    files: z.array(FileArg).min(1).max(200),
    task: WsIdSchema.optional(),
    reason: z.string().max(2000).optional(),
    ttl_ms: LeaseMs.optional(),
  });
  const WsUnmarkSchema = z.object({
    agent: WorkerIdSchema,
    files: z.array(FileArg).max(200).optional(),
    task: WsIdSchema.optional(),
  });
  const WsAgentSchema = z.object({ agent: WorkerIdSchema, watch: z.boolean().optional() });
  const WsConnectSchema = z.object({
    worker_id: WorkerIdSchema,
    tags: Tags.optional(),
    workflow: z.string().min(1).max(64).optional(),
  });
  const WsDisconnectSchema = z.object({
    worker_id: WorkerIdSchema,
    final_status: z.string().min(1).max(64).optional(),
  });
  const WsCleanupSchema = z.object({
    timeout_ms: z.number().int().min(0),
    final_status: z.string().min(1).max(64).optional(),
  });
  const WsThinkingSchema = z.object({ agent: WorkerIdSchema, thought: z.string().max(10_000) });

  const WsListSchema = z.object({
    status: z.array(z.string().min(1).max(64)).optional(),
    ready: z.boolean().optional(),
    blocked: z.boolean().optional(),
    claimed: z.boolean().optional(),
    owner: z.string().optional(),
    parent: z.string().optional(),
    recursive: z.boolean().optional(),
    agent: z.string().optional(),
    tags_any: z.array(z.string()).optional(),
    tags_all: z.array(z.string()).optional(),
    sort_by: z.enum(['priority', 'created_at', 'updated_at']).optional(),
    sort_order: z.enum(['asc', 'desc']).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    offset: z.number().int().min(0).optional(),
  });
  const WsIdsSchema = z.object({ ids: z.array(z.string()).max(1000) });
  /** A detail shard's getDetails Query input. */
  const ShardKeysQuerySchema = z.object({ keys: z.array(z.string()).max(5_000) });
  const WsScanSchema = z.object({
    task: WsIdSchema,
    before: z.number().int().min(-1).max(1000).optional(),
    after: z.number().int().min(-1).max(1000).optional(),
    above: z.number().int().min(-1).max(1000).optional(),
    below: z.number().int().min(-1).max(1000).optional(),
  });
  const WsMarksQuerySchema = z.object({
    files: z.array(z.string()).optional(),
    agent: z.string().optional(),
    task: z.string().optional(),
  });
  const WsGatesSchema = z.object({ task: WsIdSchema, agent: z.string().optional() });
  const WsSnapshotPageSchema = z.object({
    afterSeq: z.number().int().min(0).optional(),
    afterOp: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(2_000).optional(),
  });

  return {
    WsIdSchema,
    WorkerIdSchema,
    NewTaskSchema,
    TreeNodeSchema,
    DepTypeSchema,
    WsCreateSchema,
    WsCreateTreeSchema,
    WsClaimSchema,
    WsUpdateSchema,
    WsDeleteSchema,
    WsRenameSchema,
    WsLinkSchema,
    WsRelinkSchema,
    WsAttachSchema,
    WsDetachSchema,
    WsMetricsSchema,
    WsMarkSchema,
    WsUnmarkSchema,
    WsAgentSchema,
    WsConnectSchema,
    WsDisconnectSchema,
    WsCleanupSchema,
    WsThinkingSchema,
    WsListSchema,
    WsIdsSchema,
    ShardKeysQuerySchema,
    WsScanSchema,
    WsMarksQuerySchema,
    WsGatesSchema,
    WsSnapshotPageSchema,
  };
});
export const {
  WsIdSchema,
  WorkerIdSchema,
  NewTaskSchema,
  TreeNodeSchema,
  DepTypeSchema,
  WsCreateSchema,
  WsCreateTreeSchema,
  WsClaimSchema,
  WsUpdateSchema,
  WsDeleteSchema,
  WsRenameSchema,
  WsLinkSchema,
  WsRelinkSchema,
  WsAttachSchema,
  WsDetachSchema,
  WsMetricsSchema,
  WsMarkSchema,
  WsUnmarkSchema,
  WsAgentSchema,
  WsConnectSchema,
  WsDisconnectSchema,
  WsCleanupSchema,
  WsThinkingSchema,
  WsListSchema,
  WsIdsSchema,
  ShardKeysQuerySchema,
  WsScanSchema,
  WsMarksQuerySchema,
  WsGatesSchema,
  WsSnapshotPageSchema,
} = schemas;

export interface TreeNodeInput extends z.infer<typeof NewTaskSchema> {
  ref?: string;
  join_mode?: 'then' | 'also';
  children?: TreeNodeInput[];
}
