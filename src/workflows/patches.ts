/**
 * Patches decided once per run. Each `patched(id)` a new run asks records a marker, and the SDK adds an upsert of the
 * `TemporalChangeVersion` search attribute beside each: a goal's first workflow task carried six of each, twelve
 * history events and six Visibility writes before it did anything of its own. A run that starts on a build with the
 * baseline records the baseline's marker alone and takes every patch it covers as applied; a run started before the
 * baseline (its first workflow task, replayed, has no baseline marker) asks each patch as it always did, so its
 * history replays as recorded. See docs/DECISIONS.md, "Changing workflow code".
 *
 * A patch added after the baseline is asked with `patched(id)` as usual; once no run from before it is left, a newer
 * baseline may cover it (asked first, then this one, in `initPatches`).
 *
 * Module state is per workflow run: the SDK gives each run its own module instances.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { patched, workflowInfo } from '@temporalio/workflow';
import { holdsSearchAttributes } from './search-attributes';

/** The patches the baseline covers: every patch a workflow of this project asked before 2026-12-08. */
export type BaselinePatch =
  | 'continue-as-new-on-recorded-work'
  | 'state-budget'
  | 'publish-once-per-activation'
  | 'goal-list-memo'
  | 'holders-wait-for-refresh'
  | 'shared-wait-timers'
  | 'agent-lean-changes'
  | 'agent-finish-once'
  | 'agent-take-once'
  | 'relay-baton-memo'
  | 'breaker-gate-memo'
  | 'workspace-lean-timer';

export const PATCH_BASELINE = 'patch-baseline-2026-12';

let baseline = false;

/**
 * Called first thing in every workflow function, before any other patch is asked. Decided in the run's first workflow
 * task and kept: during a replay `patched()` answers false for a marker it has not seen yet, without deciding.
 */
export function initPatches(): void {
  baseline = patched(PATCH_BASELINE);
}

/** Whether this run started with the baseline, which covers every patch before it. */
export function startedWithBaseline(): boolean {
  return baseline;
}

/** `patched(id)` for a patch the baseline covers: true without a marker of its own in a run that has the baseline. */
export function hasPatch(id: BaselinePatch): boolean {
  return baseline || patched(id);
}

/**
 * Whether this run has the baseline and its search attributes already hold these values, as its start (or the run it
 * continues) left them: its first write of them would change nothing, and is skipped. Asked before the first write.
 */
export function startedHolding(pairs: SearchAttributePair[]): boolean {
  return baseline && holdsSearchAttributes(workflowInfo().typedSearchAttributes, pairs);
}

/** Whether this run has the baseline and started with this memo field holding `value` (compared as JSON). */
export function startedWithMemo(field: string, value: unknown): boolean {
  return baseline && JSON.stringify(workflowInfo().memo?.[field] ?? null) === JSON.stringify(value);
}
