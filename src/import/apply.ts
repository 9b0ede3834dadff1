/**
 * Creates the workflows an import plan describes. Each one is started with its whole state at once (it exists whole
 * or not at all) and a memo naming where it came from, so importing the same database again skips what is there.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { createAliasesClient } from '../client/aliases';
import { breakerStartOptions } from '../client/breakers';
import { goalStartOptions, type GoalsClient } from '../client/goals';
import { relayStartOptions } from '../client/relay';
import {
  breakerWorkflowId,
  goalWorkflowId,
  relayWorkflowId,
  type BreakerWorkflowInput,
  type GoalWorkflowInput,
  type RelayWorkflowInput,
} from '../workflows/messages';
import { importKey, type ImportPlan } from './plan';

export type Outcome = 'created' | 'already imported' | 'conflict';

export interface ImportReport {
  system: ImportPlan['system'];
  dryRun: boolean;
  items: Array<{ kind: string; id: string; workflowId: string; outcome: Outcome | 'would create'; detail: string }>;
  aliases: { added: number; unchanged: number; conflicts: Array<{ alias: string; kept: string; refused: string }> };
  notes: string[];
}

interface Start {
  kind: string;
  id: string;
  key: string;
  workflowType: string;
  workflowId: string;
  args: unknown[];
  options: {
    typedSearchAttributes: unknown[];
    staticSummary?: string;
    staticDetails?: string;
    memo?: Record<string, unknown>;
  };
  detail: string;
}

function startsOf(plan: ImportPlan): Start[] {
  const out: Start[] = [];
  for (const g of plan.goals) {
    const s = g.state;
    out.push({
      kind: g.kind,
      id: g.seedId,
      key: importKey(plan.system, g.kind, g.seedId),
      workflowType: 'goalWorkflow',
      workflowId: goalWorkflowId(s.goal.id),
      args: [{ state: s } satisfies GoalWorkflowInput],
      options: goalStartOptions(s),
      detail: `${s.tasks.length} ${g.kind === 'project' ? 'step' : 'task'}(s), ${s.tasks.filter((t) => t.status === 'completed').length} completed, ${s.tasks.filter((t) => t.status === 'claimed' || t.status === 'in_progress').length} held`,
    });
  }
  for (const r of plan.relays) {
    out.push({
      kind: 'pipeline',
      id: r.seedId,
      key: importKey(plan.system, 'pipeline', r.seedId),
      workflowType: 'relayPipelineWorkflow',
      workflowId: relayWorkflowId(r.state.id),
      args: [{ state: r.state } satisfies RelayWorkflowInput],
      options: relayStartOptions(r.state),
      detail: `${r.state.steps.length} step(s), ${r.state.status} at step ${r.state.current}`,
    });
  }
  for (const b of plan.breakers) {
    out.push({
      kind: 'breaker',
      id: b.seedId,
      key: importKey(plan.system, 'breaker', b.seedId),
      workflowType: 'circuitBreakerWorkflow',
      workflowId: breakerWorkflowId(b.state.agent_id),
      args: [{ state: b.state } satisfies BreakerWorkflowInput],
      options: breakerStartOptions(b.state),
      detail: `${b.state.state}, ${b.state.failures.length} failure(s) in the window`,
    });
  }
  return out;
}

async function startOne(client: Client, taskQueue: string, s: Start): Promise<Outcome> {
  try {
    await client.workflow.start(s.workflowType, {
      workflowId: s.workflowId,
      taskQueue,
      args: s.args,
      // A finished pipeline's workflow has closed; starting it again would import it twice.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(s.options as object),
      // the entity's own memo (a goal's list row) and where it came from
      memo: { ...s.options.memo, imported_from: s.key },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const memo = (await client.workflow.getHandle(s.workflowId).describe()).memo;
    return memo?.imported_from === s.key ? 'already imported' : 'conflict';
  }
}

/** Starts every workflow of the plan (or, with dryRun, only says what it would create). */
export async function applyPlan(
  goals: GoalsClient,
  plan: ImportPlan,
  opts: { dryRun?: boolean; progress?: (line: string) => void } = {},
): Promise<ImportReport> {
  const report: ImportReport = {
    system: plan.system,
    dryRun: opts.dryRun === true,
    items: [],
    aliases: { added: 0, unchanged: 0, conflicts: [] },
    notes: [...plan.notes],
  };
  const starts = startsOf(plan);
  let done = 0;
  for (const s of starts) {
    const outcome = opts.dryRun
      ? ('would create' as const)
      : await goals.withClient((client) => startOne(client, goals.taskQueue, s), `${s.kind} ${s.id}`);
    report.items.push({ kind: s.kind, id: s.id, workflowId: s.workflowId, outcome, detail: s.detail });
    if (outcome === 'conflict') {
      report.notes.push(
        `${s.workflowId} already exists and was not imported from this ${plan.system} ${s.kind}; it was left as it is.`,
      );
    }
    done += 1;
    if (done % 25 === 0) opts.progress?.(`…${done} of ${starts.length} workflows`);
  }
  // A seed number names a task only where its goal is the imported one (not a conflicting goal of the same id).
  const ours = new Set(
    report.items
      .filter((i) => i.outcome !== 'conflict' && (i.kind === 'goal' || i.kind === 'project'))
      .map((i) => i.workflowId),
  );
  const aliases = plan.aliases.filter((a) => ours.has(goalWorkflowId(a.taskId.slice(0, a.taskId.lastIndexOf('/')))));
  if (aliases.length > 0) {
    if (opts.dryRun) report.aliases.added = aliases.length;
    else report.aliases = await createAliasesClient(goals).register(aliases);
  }
  return report;
}
