/**
 * relayPipelineWorkflow: one per pipeline (`relay-<pipelineId>`). The first baton exists at creation; advanceRelay
 * checks the step's gate and hands the baton on or waits for retryStep; a claimed step's lease is a durable timer.
 * When the pipeline ends and stands for a goal's task, that task is completed (or failed) through an activity.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { hasPatch, initPatches, startedHolding, startedWithMemo } from './patches';
import { continueAsNewSuggested, initContinueAsNew, noteRecordedWork } from './continue-as-new';
import type { Activities } from '../activities';
import * as relay from '../domain/relay';
import { growthOf } from '../domain/state-size';
import { stateBudget, updateRegistrar } from './entity';
import {
  advanceRelayUpdate,
  claimRelayStepUpdate,
  relayBatonQuery,
  relayStatusQuery,
  RELAY_BATON_MEMO,
  retryStepUpdate,
  type RelayWorkflowInput,
} from './messages';
import { relaySearchAttributes } from './search-attributes';

const { finishGoalTask } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const hasBaton = (r: unknown): r is { next_baton: unknown; outcome: string } =>
  typeof r === 'object' && r !== null && 'next_baton' in r && 'outcome' in r;

export async function relayPipelineWorkflow(input: RelayWorkflowInput): Promise<relay.RelayStatusView> {
  initPatches();
  initContinueAsNew();
  const state = input.state;
  const applied = new Map<string, unknown>(input.applied ?? []);
  let rearm = false;
  let armedFor: number | undefined;
  let lastIndex = '';
  // The current baton in the memo, written in the workflow task of the change: get_relay_baton reads it with one
  // DescribeWorkflowExecution, answered by the server alone, instead of a Query that goes through a worker.
  const batonMemo = hasPatch('relay-baton-memo');
  let lastBaton: string | undefined;
  // A run with the patch baseline started holding its search attributes and baton (relayStartOptions; a continue-as-new
  // keeps the last run's): its first publish writes only what differs.
  const atStart = relay.statusView(state);
  if (startedHolding(relaySearchAttributes(state.name, state.status, atStart.progress_percent))) {
    lastIndex = `${state.status}|${atStart.progress_percent}`;
  }
  const batonAtStart = relay.batonMemoOf(state);
  if (batonMemo && startedWithMemo(RELAY_BATON_MEMO, batonAtStart)) lastBaton = JSON.stringify(batonAtStart);

  const publish = (): void => {
    const view = relay.statusView(state);
    const key = `${state.status}|${view.progress_percent}`;
    if (key !== lastIndex) {
      lastIndex = key;
      upsertSearchAttributes(relaySearchAttributes(state.name, state.status, view.progress_percent));
    }
    setCurrentDetails(relay.renderRelayDetails(state));
    if (batonMemo) {
      const kept = relay.batonMemoOf(state);
      const key = JSON.stringify(kept);
      if (key !== lastBaton) {
        lastBaton = key;
        upsertMemo({ [RELAY_BATON_MEMO]: kept });
      }
    }
  };
  const afterChange = (): void => {
    const expiry = relay.claimExpiry(state);
    if (expiry !== armedFor) rearm = true;
    publish();
  };
  // An advance's summary is weighed first: the state must always fit in its next run's input.
  const budget = stateBudget(
    state,
    applied,
    (holds, ceiling) =>
      `Relay pipeline ${state.id} holds ${holds} of steps and summaries, and this advance could take it past ${ceiling}, the most a pipeline carries from one run to the next. Shorten output_summary (keep large output in a file and pass its path as output_entity_id).`,
  );
  // A remembered advance keeps no baton (its prompt repeats the summary): a retry is handed the baton as it is now.
  const update = updateRegistrar({
    applied,
    afterChange,
    budget,
    ...(budget
      ? {
          compact: (r: unknown) => (hasBaton(r) ? { ...r, next_baton: null, $baton: true } : r),
          rehydrate: (kept: unknown) => {
            if (!hasBaton(kept) || !('$baton' in kept)) return kept;
            const { $baton: _b, ...result } = kept;
            return { ...result, next_baton: kept.outcome === 'advanced' ? relay.batonOf(state) : null };
          },
        }
      : {}),
  });

  update(
    advanceRelayUpdate,
    relay.AdvanceInputSchema,
    'advanceRelay input',
    (i, now) => relay.checkAdvance(state, i, now),
    (i, now) => {
      const result = relay.advance(state, i, now);
      // The next baton comes back with the advance, so the handing-off agent needs no second read.
      return { ...result, next_baton: result.outcome === 'advanced' ? relay.batonOf(state) : null };
    },
    (i) => growthOf(i),
  );
  update(
    retryStepUpdate,
    relay.RetryStepInputSchema,
    'retryStep input',
    (i) => relay.checkRetry(state, i.stepIndex),
    (i, now) => relay.retryStep(state, i.stepIndex, now),
  );
  update(
    claimRelayStepUpdate,
    relay.ClaimStepInputSchema,
    'claimStep input',
    (i, now) => relay.checkClaimStep(state, i, now),
    (i, now) => relay.claimStep(state, i, now),
  );
  setHandler(relayStatusQuery, () => relay.statusView(state));
  setHandler(relayBatonQuery, () => relay.batonOf(state));

  publish();
  const done = (): boolean => state.status === 'completed' || state.status === 'failed';

  while (!done()) {
    rearm = false;
    armedFor = relay.claimExpiry(state);
    const wake = (): boolean => rearm || done() || continueAsNewSuggested();
    if (armedFor === undefined) await condition(wake);
    else {
      const step = state.steps[state.current];
      await condition(wake, Math.max(1, armedFor - Date.now()), {
        summary: `lease of step ${state.current} of relay ${state.name} for ${step?.agent_id ?? 'its holder'}`,
      });
    }
    noteRecordedWork(); // a handler woke the loop, or the lease timer fired
    // A durable timer frees a step whose claim lapsed, even if nobody calls anything.
    if (relay.expireClaim(state, Date.now())) afterChange();
    if (!done() && continueAsNewSuggested()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof relayPipelineWorkflow>({ state, applied: [...applied.entries()] });
    }
  }

  await condition(allHandlersFinished);
  if (state.goal_task_id && state.goal_agent_id) {
    const view = relay.statusView(state);
    await finishGoalTask({
      taskId: state.goal_task_id,
      agentId: state.goal_agent_id,
      outcome: state.status === 'completed' ? 'completed' : 'failed',
      result:
        state.status === 'completed'
          ? `Relay pipeline ${state.id} completed: average quality ${view.average_quality}, ${state.tokens_used} tokens.`
          : `Relay pipeline ${state.id} failed: ${state.failure_reason ?? 'unknown reason'}`,
      requestId: `relay-${state.id}-finish`,
    });
  }
  return relay.statusView(state);
}
