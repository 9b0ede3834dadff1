/**
 * circuitBreakerWorkflow: one per agent (`breaker-<agentId>`), started on first use by update-with-start. Holds the
 * state, the failures inside the window, the config and the transition history; the cooldown is a durable timer, so
 * OPEN turns HALF_OPEN on time across worker restarts with nobody calling anything.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch, initPatches, startedHolding } from './patches';
import { continueAsNewSuggested, initContinueAsNew, noteRecordedWork } from './continue-as-new';
import * as breaker from '../domain/breaker';
import { updateRegistrar } from './entity';
import {
  admitUpdate,
  BREAKER_GATE_MEMO,
  breakerStateQuery,
  configureUpdate,
  recordFailureUpdate,
  recordSuccessUpdate,
  resetUpdate,
  tripUpdate,
  type BreakerWorkflowInput,
} from './messages';
import { breakerSearchAttributes } from './search-attributes';

export async function circuitBreakerWorkflow(input: BreakerWorkflowInput): Promise<void> {
  initPatches();
  initContinueAsNew();
  const state = input.state;
  const applied = new Map<string, unknown>(input.applied ?? []);
  let rearm = false;
  // A run with the patch baseline started with its search attributes (breakerStartOptions): written again only when
  // the state moves.
  let published = startedHolding(breakerSearchAttributes(state.agent_id, state.state)) ? state.state : '';
  // What a claim needs of the breaker, in its memo: the server answers a claim's read alone (no worker, no Query).
  // Written in the workflow task of every change that moves it; a run started with it right writes nothing more, and
  // a run from before the patch writes it at its next change (the patch is asked where the memo would be written).
  let lastGate = JSON.stringify(workflowInfo().memo?.[BREAKER_GATE_MEMO] ?? null);

  const publish = (): void => {
    if (published !== state.state) {
      published = state.state;
      upsertSearchAttributes(breakerSearchAttributes(state.agent_id, state.state));
    }
    setCurrentDetails(breaker.renderBreakerDetails(state, Date.now()));
    const gate = breaker.gateOf(state);
    const key = JSON.stringify(gate);
    if (key !== lastGate && hasPatch('breaker-gate-memo')) {
      lastGate = key;
      upsertMemo({ [BREAKER_GATE_MEMO]: gate });
    }
  };
  const afterChange = (): void => {
    rearm = true;
    publish();
  };
  const update = updateRegistrar({ applied, afterChange });
  const status = (now: number) => breaker.statusOf(state, now);

  update(
    recordFailureUpdate,
    breaker.FailureInputSchema,
    'recordFailure input',
    () => undefined,
    (i, now) => {
      breaker.recordFailure(state, i, now);
      return status(now);
    },
  );
  update(
    recordSuccessUpdate,
    breaker.EmptyInputSchema,
    'recordSuccess input',
    () => undefined,
    (_i, now) => {
      breaker.recordSuccess(state, now);
      return status(now);
    },
  );
  update(
    tripUpdate,
    breaker.TripInputSchema.optional(),
    'trip input',
    () => undefined,
    (i, now) => {
      breaker.trip(state, i?.reason, now);
      return status(now);
    },
  );
  update(
    resetUpdate,
    breaker.EmptyInputSchema,
    'reset input',
    () => undefined,
    (_i, now) => {
      breaker.reset(state, now);
      return status(now);
    },
  );
  update(
    configureUpdate,
    breaker.ConfigureInputSchema,
    'configure input',
    () => undefined,
    (i, now) => {
      breaker.configure(state, i, now);
      return status(now);
    },
  );
  update(
    admitUpdate,
    breaker.EmptyInputSchema,
    'admit input',
    (_i, now) => breaker.checkAdmit(state, now),
    (_i, now) => breaker.admit(state, now),
  );
  setHandler(breakerStateQuery, () => state);

  publish();
  for (;;) {
    rearm = false;
    const end = breaker.cooldownEndsAt(state);
    const wake = (): boolean => rearm || continueAsNewSuggested();
    if (end === undefined) await condition(wake);
    else await condition(wake, Math.max(1, end - Date.now()), { summary: `breaker cooldown of ${state.agent_id}` });
    noteRecordedWork(); // a handler woke the loop, or the cooldown timer fired
    // The durable cooldown timer: OPEN → HALF_OPEN on time, whether or not anyone calls.
    if (breaker.endCooldown(state, Date.now())) publish();
    if (continueAsNewSuggested()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof circuitBreakerWorkflow>({ state, applied: [...applied.entries()] });
    }
  }
}
