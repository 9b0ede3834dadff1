/**
 * agentWorkflow: one per agent (`agent-<agentId>`), started by update-with-start on register_agent. Holds the registry
 * row, the mailbox and the liveness timer: no call for ttl → offline, offline for grace → its claims go back to the
 * pool (through an activity), with nobody calling anything.
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
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch, initPatches, startedHolding } from './patches';
import { continueAsNewSuggested, initContinueAsNew, noteRecordedWork } from './continue-as-new';
import * as agents from '../domain/agents';
import { growthOf } from '../domain/state-size';
import { parseOrFail } from '../domain/validate';
import type { Activities } from '../activities';
import { stateBudget, updateRegistrar } from './entity';
import {
  acknowledgeMessageUpdate,
  agentMessagesQuery,
  agentRowQuery,
  agentStateQuery,
  agentWorkQuery,
  deliverMessageUpdate,
  fetchMessagesUpdate,
  marksChangedSignal,
  noteTaskUpdate,
  popTaskUpdate,
  pushTaskUpdate,
  registerAgentUpdate,
  touchAgentSignal,
  unregisterAgentUpdate,
  waitMarksUpdate,
  type AgentWorkflowInput,
} from './messages';
import { agentSearchAttributes, AR_STATUS } from './search-attributes';

const { releaseAgentWork } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 20, initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** How stale the board's last-heartbeat may be: the memo is rewritten for a heartbeat alone at most this often. */
const HEARTBEAT_PUBLISH_MS = 30_000;

/** Workspaces whose last mark change an agent remembers (the most recently signalled). */
const MARK_WORKSPACES_KEPT = 100;

export async function agentWorkflow(input: AgentWorkflowInput): Promise<void> {
  initPatches();
  initContinueAsNew();
  const state = input.state;
  const applied = new Map<string, unknown>(input.applied ?? []);
  let rearm = false;
  let release = false;
  // A change writes only what it changed. The liveness timer is armed once per ttl, not restarted on every call: a
  // call only moves the deadline later, so the armed timer fires, finds the agent still live and arms again for the
  // rest; it is restarted only when a change brings the deadline closer (a shorter ttl). The search attributes are
  // written when the status changes, not with every memo. Runs started before this change keep the old commands.
  const lean = hasPatch('agent-lean-changes');
  // A finish said again (a completion retried with its request_id) counts once: asked only when one arrives, so a
  // history without one replays as recorded.
  const finishOnce = (): boolean => hasPatch('agent-finish-once');
  // Likewise a take said again (a claim retried with its request_id) is written once.
  const takeOnce = (): boolean => hasPatch('agent-take-once');
  let armedFor: number | undefined;
  const deadlineMoved = (): void => {
    if (!lean) {
      rearm = true;
      return;
    }
    const due = agents.livenessDeadline(state);
    if (due !== undefined && (armedFor === undefined || due < armedFor)) rearm = true;
  };
  let mailWaiters = 0;
  let mailChanged = 0;
  // The last mark change each workspace signalled (mark_updates' long-poll waits on it here, not on the workspace).
  const marks = new Map<string, number>(input.marks ?? []);
  let markWaiters = 0;
  let publishedRow = '';
  // A run with the patch baseline writes its status only when it differs from what the run started holding (a
  // registration starts it `idle`; a continue-as-new keeps the last run's).
  const heldStatus = workflowInfo().typedSearchAttributes.get(AR_STATUS);
  let publishedStatus: string | undefined =
    heldStatus !== undefined && startedHolding(agentSearchAttributes(state.agent_id, heldStatus))
      ? heldStatus
      : undefined;
  let publishedAt = 0;

  const publish = (): void => {
    const row = agents.row(state);
    const { last_heartbeat: _beat, expires_at: _exp, ...rest } = row;
    // The detailed board's extras ride in the memo too: what is planned (the inbox head) and recently done.
    const planned = state.inbox.slice(0, 10);
    const recent = state.history.slice(-10);
    const key = JSON.stringify([rest, planned.map((t) => t.task_id), recent.length, recent[recent.length - 1]]);
    const now = Date.now();
    if (key !== publishedRow || now - publishedAt >= HEARTBEAT_PUBLISH_MS) {
      // The board lists agents from Visibility with this memo: one read for every agent, no query per agent.
      if (lean ? state.status !== publishedStatus : key !== publishedRow) {
        publishedStatus = state.status;
        upsertSearchAttributes(agentSearchAttributes(state.agent_id, state.status));
      }
      upsertMemo({ row, planned, recent });
      publishedRow = key;
      publishedAt = now;
    }
    setCurrentDetails(agents.renderAgentDetails(state));
  };
  const afterChange = (): void => {
    deadlineMoved();
    mailChanged += 1;
    publish();
  };
  // Messages are weighed first, and settled ones kept within a size: the state must always fit in its next run's input.
  const budget = stateBudget(
    state,
    applied,
    (holds, ceiling) =>
      `Agent ${state.agent_id} holds ${holds} of messages and tasks, and this could take it past ${ceiling}, the most an agent carries from one run to the next. Send less (keep large content in a file and pass its path), or wait until it reads and acknowledges what it holds.`,
  );
  const weighed = budget !== undefined;
  const update = updateRegistrar({
    applied,
    afterChange,
    budget,
    ...(weighed
      ? { compact: agents.compactMessageResult, rehydrate: (kept) => agents.rehydrateMessageResult(state, kept) }
      : {}),
  });

  update(
    registerAgentUpdate,
    agents.RegisterInputSchema,
    'registerAgent input',
    (i) => agents.checkRegister(state, i),
    (i, now) => agents.register(state, i, now),
  );
  update(
    unregisterAgentUpdate,
    agents.UnregisterInputSchema,
    'unregisterAgent input',
    () => agents.checkUnregister(state),
    (i, now) => {
      const row = agents.unregister(state, i.reason, now);
      release = true;
      return row;
    },
  );
  update(
    deliverMessageUpdate,
    agents.MessageInputSchema,
    'deliverMessage input',
    () => undefined,
    (i, now) => agents.deliver(state, i, now, weighed ? agents.SETTLED_CHARS_KEPT : undefined),
    (i) => growthOf(i),
  );
  update(
    acknowledgeMessageUpdate,
    agents.AckInputSchema,
    'acknowledgeMessage input',
    (i) => agents.checkAcknowledge(state, i.messageId),
    (i, now) => agents.acknowledge(state, i.messageId, now, weighed ? agents.SETTLED_CHARS_KEPT : undefined),
  );

  update(
    noteTaskUpdate,
    agents.TouchInputSchema,
    'noteTask input',
    () => undefined,
    (i, now) => {
      agents.touch(state, now, i, finishOnce, takeOnce);
      return agents.row(state);
    },
  );
  update(
    pushTaskUpdate,
    agents.TaskRefSchema,
    'pushTask input',
    (i) => agents.checkPush(state, i),
    (i, now) => agents.pushTask(state, i, now),
    (i) => growthOf(i),
  );
  update(
    popTaskUpdate,
    agents.PopInputSchema,
    'popTask input',
    () => undefined,
    (i) => agents.popTask(state, i.taskId),
  );

  // An Update that may wait (fetch_inbox's long-poll): answers the moment a matching message is delivered.
  setHandler(
    fetchMessagesUpdate,
    async (raw) => {
      noteRecordedWork();
      const i = parseOrFail(agents.FetchInputSchema, raw, 'fetchMessages input');
      let found = agents.fetchMessages(state, i);
      if (found.length === 0 && (i.waitMs ?? 0) > 0) {
        const seen = mailChanged;
        mailWaiters += 1;
        await condition(
          () => (mailChanged !== seen && agents.fetchMessages(state, i).length > 0) || continueAsNewSuggested(),
          i.waitMs as number,
          { summary: `fetch_inbox long-poll of ${state.agent_id}` },
        );
        mailWaiters -= 1;
        found = agents.fetchMessages(state, i);
      }
      // Answered as they were, then read: a message read is one the mailbox may let go of (see isHeld).
      const answer = found.map((m) => ({ ...m }));
      agents.markRead(
        state,
        found.map((m) => m.seq),
        Date.now(),
      );
      return answer;
    },
    { validator: (raw) => void parseOrFail(agents.FetchInputSchema, raw, 'fetchMessages input') },
  );
  // mark_updates' long-poll: the workspace signals a watching agent once when another agent changes a mark, so waiting
  // costs the workspace nothing (no Update held open there, no reads while waiting).
  setHandler(marksChangedSignal, (arg) => {
    noteRecordedWork();
    const parsed = agents.MarksChangedSchema.safeParse(arg);
    if (!parsed.success) return;
    const { workspace, seq } = parsed.data;
    if (seq > (marks.get(workspace) ?? 0)) {
      marks.delete(workspace); // most recent last: the oldest go first past MARK_WORKSPACES_KEPT
      marks.set(workspace, seq);
      if (marks.size > MARK_WORKSPACES_KEPT) marks.delete(marks.keys().next().value as string);
    }
  });
  setHandler(
    waitMarksUpdate,
    async (raw) => {
      noteRecordedWork();
      const i = parseOrFail(agents.WaitMarksInputSchema, raw, 'waitMarks input');
      const changed = (): boolean => (marks.get(i.workspace) ?? 0) > i.after;
      if (!changed() && i.waitMs > 0) {
        markWaiters += 1;
        await condition(() => changed() || continueAsNewSuggested(), i.waitMs, {
          summary: `mark_updates long-poll of ${state.agent_id} in workspace ${i.workspace}`,
        });
        markWaiters -= 1;
      }
      return changed();
    },
    { validator: (raw) => void parseOrFail(agents.WaitMarksInputSchema, raw, 'waitMarks input') },
  );
  // A Signal: the agent's other calls do not wait for it.
  setHandler(touchAgentSignal, (arg) => {
    noteRecordedWork();
    const parsed = agents.TouchInputSchema.safeParse(arg ?? {});
    if (parsed.success && agents.touch(state, Date.now(), parsed.data, finishOnce, takeOnce)) {
      deadlineMoved();
      publish(); // a heartbeat alone reaches the board at most every HEARTBEAT_PUBLISH_MS
    }
  });
  setHandler(agentRowQuery, () => agents.row(state));
  setHandler(agentStateQuery, () => state);
  setHandler(agentWorkQuery, () => agents.work(state));
  setHandler(agentMessagesQuery, (raw) =>
    agents.fetchMessages(state, parseOrFail(agents.FetchInputSchema, raw, 'messages input')),
  );

  publish();
  for (;;) {
    rearm = false;
    const due = agents.livenessDeadline(state);
    armedFor = due;
    const wake = (): boolean => rearm || release || continueAsNewSuggested();
    if (due === undefined) await condition(wake);
    else {
      await condition(wake, Math.max(1, due - Date.now()), {
        summary:
          state.status === 'offline'
            ? `grace of offline agent ${state.agent_id} (then its work goes back)`
            : `liveness of agent ${state.agent_id} (offline without a call)`,
      });
    }
    noteRecordedWork(); // a handler woke the loop, or the liveness timer fired
    // The liveness timer: offline after the ttl, its work back to the pool after the grace — with no call made.
    const outcome = agents.checkLiveness(state, Date.now());
    if (outcome) publish();
    if (outcome === 'release' || release) {
      release = false;
      const unassign = state.unassign ?? [];
      const held = state.release_held ?? [];
      const released = await releaseAgentWork({
        agentId: state.agent_id,
        unassign,
        round: state.registrations,
        ...(held.length > 0 ? { held } : {}),
      });
      state.unassign = (state.unassign ?? []).filter((id) => !unassign.includes(id));
      state.release_held = (state.release_held ?? []).filter((id) => !held.includes(id));
      if (released > 0) {
        state.events.push({ at: new Date().toISOString(), type: 'claims_released', detail: `${released} task(s)` });
        publish();
      }
    }
    if (continueAsNewSuggested() && mailWaiters === 0 && markWaiters === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof agentWorkflow>({
        state,
        applied: [...applied.entries()],
        marks: [...marks.entries()],
      });
    }
  }
}
