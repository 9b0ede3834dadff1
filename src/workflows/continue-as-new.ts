/**
 * Temporal's suggestion to continue as new, read so that a replay decides exactly what the first run decided.
 *
 * The server sets the suggestion on every workflow task once the history is long enough — including a task that
 * carried nothing but Updates their validators refused. History keeps no trace of such a task, so a replay never runs
 * it: anything it woke (a lease timer cancelled, a continue-as-new begun) becomes a command the replay does not make,
 * a nondeterminism error on the next worker that loads the run. So the suggestion is taken in only by code that runs
 * because of something history records — an accepted Update, a Signal, a timer that fired (noteRecordedWork) — and
 * every wake-up reads what was taken in (continueAsNewSuggested).
 *
 * Module state is per workflow run: the SDK gives each run its own module instances. Runs started before this rule
 * keep reading the suggestion directly (a patch; see docs/DECISIONS.md, "Changing workflow code").
 */
import { workflowInfo } from '@temporalio/workflow';
import { hasPatch } from './patches';

let gated = false;
let suggested = false;

/** Called once, first thing in every workflow function. */
export function initContinueAsNew(): void {
  gated = hasPatch('continue-as-new-on-recorded-work');
  suggested = false;
}

/** Called by every handler of something history records: an accepted Update, a Signal, a fired timer. */
export function noteRecordedWork(): void {
  if (gated && !suggested && workflowInfo().continueAsNewSuggested) suggested = true;
}

/** Whether the workflow should continue as new, as every wake-up condition reads it. */
export function continueAsNewSuggested(): boolean {
  return gated ? suggested : workflowInfo().continueAsNewSuggested;
}
