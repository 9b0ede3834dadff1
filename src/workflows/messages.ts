/**
 * Every Update, Signal and Query of the project's workflows, typed once and shared by the workflows, the client
 * and the tests. The names are what `temporal workflow update execute --name …` and `query --name …` take.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AgentRow,
  AgentState,
  AgentWork,
  FetchInput,
  Message,
  MessageInput,
  RegisterInput,
  TaskRef,
  TouchInput,
} from '../domain/agents';
import type { AliasState, RegisterAliasesInput, RegisterAliasesResult } from '../domain/aliases';
import type { BreakerConfig, BreakerState, BreakerStatus, FailureInput } from '../domain/breaker';
import type { GoalState } from '../domain/goal';
import type {
  AdvanceInput,
  AdvanceResult,
  Baton,
  ClaimStepInput,
  RelayState,
  RelayStatusView,
  RelayStep,
} from '../domain/relay';
import type {
  AssignInput,
  ClaimInput,
  ClaimResult,
  CompleteInput,
  CreatedTasks,
  CreateTasksInput,
  Goal,
  FailInput,
  GoalEvent,
  GoalView,
  HeartbeatInput,
  HeartbeatResult,
  HolderInput,
  ReleaseInput,
  ListTasksInput,
  SetPriorityInput,
  Task,
  TaskRefInput,
  WaitClaimInput,
} from '../domain/schemas';

export { TASK_QUEUE } from '../defaults';

export const goalWorkflowId = (goalId: string): string => `goal-${goalId}`;

/** What a goal workflow starts with and carries across continue-as-new. */
export interface GoalWorkflowInput {
  state: GoalState;
  /** Update ids already applied, with their results, so a retry after continue-as-new is answered, not re-applied. */
  applied?: Array<[string, unknown]>;
}

/** Answers with the new ids only: a 1,000-task plan's full records would bloat history; read them with getTasks. */
export const createTasksUpdate = defineUpdate<CreatedTasks, [CreateTasksInput]>('createTasks');
export const claimTaskUpdate = defineUpdate<ClaimResult, [ClaimInput]>('claimTask');
/**
 * A claim that waits in the workflow until a matching task is ready, and is handed that task in the same workflow
 * task that makes it ready (a completion, a new task, a release, an expiry). Answers `task: null` and the reason when
 * nothing came within waitMs (or the run is about to continue as new: call again).
 */
export const waitForTaskUpdate = defineUpdate<ClaimResult & { reason?: string }, [WaitClaimInput]>('waitForTask');
/**
 * The caller of a waitForTask Update went away (disconnected, or sent MCP notifications/cancelled): that wait ends
 * without claiming anything. A wait already handed a task keeps it; its pickup lease returns it if nobody follows up.
 */
export const cancelWaitSignal = defineSignal<[{ updateId: string }]>('cancelWait');
export const startTaskUpdate = defineUpdate<ClaimResult, [HolderInput]>('startTask');
export const heartbeatUpdate = defineUpdate<HeartbeatResult, [HeartbeatInput]>('heartbeat');
/** With `reserveNext`, the result also carries `reserved`: the completer's next task, claimed in the same step. */
export const completeTaskUpdate = defineUpdate<Task & { reserved?: ClaimResult | null }, [CompleteInput]>(
  'completeTask',
);
export const failTaskUpdate = defineUpdate<Task, [FailInput]>('failTask');
export const releaseTaskUpdate = defineUpdate<Task, [ReleaseInput]>('releaseTask');
export const retryTaskUpdate = defineUpdate<Task, [TaskRefInput]>('retryTask');
export const cancelTaskUpdate = defineUpdate<Task, [TaskRefInput]>('cancelTask');
/** An operator forces a held task back to the queue, whoever holds it. */
export const recoverTaskUpdate = defineUpdate<Task, [TaskRefInput]>('recoverTask');
/** Pushes a task to one agent (or back to anyone with agentId null): only that agent may claim it. */
export const assignTaskUpdate = defineUpdate<Task, [AssignInput]>('assignTask');
/** The goal's priority orders claims across goals. */
export const setPriorityUpdate = defineUpdate<Goal, [SetPriorityInput]>('setPriority');

/** One call inside an applyBatch Update: the Update it stands for, its argument, and its own idempotency id. */
export interface BatchOp {
  id: string;
  update: string;
  input: unknown;
}
export type BatchOpResult =
  { ok: true; value: unknown } | { ok: false; code: string; message: string; details?: Record<string, unknown> };
/**
 * Several hot-path calls (claim, start, heartbeat, complete, fail, release) applied in one Update, in order, each with
 * its own result: the client coalesces concurrent calls on one goal so a busy goal costs one Update per round trip.
 */
export const applyBatchUpdate = defineUpdate<BatchOpResult[], [{ ops: BatchOp[] }]>('applyBatch');
/** The Update names applyBatch accepts. */
export const BATCHABLE_UPDATES = ['claimTask', 'startTask', 'heartbeat', 'completeTask', 'failTask', 'releaseTask'];

export const getGoalQuery = defineQuery<GoalView>('getGoal');
export const getTaskQuery = defineQuery<Task | null, [{ taskId: string }]>('getTask');
export const listTasksQuery = defineQuery<Task[], [ListTasksInput]>('listTasks');
export const getTasksQuery = defineQuery<Task[], [{ taskIds: string[] }]>('getTasks');
export const getEventsQuery = defineQuery<GoalEvent[], [{ limit?: number }]>('getEvents');

// ---- relay pipelines ----

export const relayWorkflowId = (pipelineId: string): string => `relay-${pipelineId}`;

export interface RelayWorkflowInput {
  state: RelayState;
  applied?: Array<[string, unknown]>;
}

/** Records a step's output, checks its gate, hands the baton on (or waits for a retry). */
export const advanceRelayUpdate = defineUpdate<AdvanceResult & { next_baton?: Baton | null }, [AdvanceInput]>(
  'advanceRelay',
);
/** Reopens the step that failed its gate: what retry_relay_step and the CLI do. */
export const retryStepUpdate = defineUpdate<RelayStep, [{ stepIndex: number }]>('retryStep');
/** Claims the current step for one agent (lease and fencing as for tasks). */
export const claimRelayStepUpdate = defineUpdate<RelayStep, [ClaimStepInput]>('claimStep');

export const relayStatusQuery = defineQuery<RelayStatusView>('status');
export const relayBatonQuery = defineQuery<Baton | null>('baton');
/**
 * The memo field holding a pipeline's current baton and head: `{ baton: Baton | null, head: RelayHead }` (the baton is
 * null once the pipeline has ended), rewritten in the workflow task of every change.
 */
export const RELAY_BATON_MEMO = 'relay_baton';

// ---- circuit breakers ----

export const breakerWorkflowId = (agentId: string): string => `breaker-${agentId}`;

export interface BreakerWorkflowInput {
  state: BreakerState;
  applied?: Array<[string, unknown]>;
}

export const recordFailureUpdate = defineUpdate<BreakerStatus, [FailureInput]>('recordFailure');
export const recordSuccessUpdate = defineUpdate<BreakerStatus, [Record<string, never>]>('recordSuccess');
export const tripUpdate = defineUpdate<BreakerStatus, [{ reason?: string }]>('trip');
/** What circuit_breaker_reset and `temporal workflow update execute --name reset` do. */
export const resetUpdate = defineUpdate<BreakerStatus, [Record<string, never>]>('reset');
export const configureUpdate = defineUpdate<BreakerStatus, [Partial<BreakerConfig>]>('configure');
/** Admits a claim while HALF_OPEN, using one probe. */
export const admitUpdate = defineUpdate<{ state: string; probe: boolean }, [Record<string, never>]>('admit');
/** The raw state; the client computes time-dependent figures (cooldown left) with its own clock. */
export const breakerStateQuery = defineQuery<BreakerState>('state');
/**
 * The memo field holding what a claim needs of a breaker (`BreakerGate`: its state, when it opened, the probes in use
 * and three settings), rewritten in the workflow task of every change that moves it.
 */
export const BREAKER_GATE_MEMO = 'breaker_gate';

// ---- numeric aliases of imported task ids ----

export const aliasesWorkflowId = (taskQueue: string): string => `id-aliases-${taskQueue}`;

export interface AliasesWorkflowInput {
  state: AliasState;
  applied?: Array<[string, unknown]>;
}

export const registerAliasesUpdate = defineUpdate<RegisterAliasesResult, [RegisterAliasesInput]>('registerAliases');
export const resolveAliasQuery = defineQuery<string | null, [{ alias: string }]>('resolveAlias');

// ---- agents ----

export const agentWorkflowId = (agentId: string): string => `agent-${agentId}`;

export interface AgentWorkflowInput {
  state: AgentState;
  applied?: Array<[string, unknown]>;
  /** The last mark change each workspace told the agent of (marksChanged), carried across continue-as-new. */
  marks?: Array<[string, number]>;
}

/** Registers (update-with-start) or resumes the agent; refused while it is registered and online, unless forced. */
export const registerAgentUpdate = defineUpdate<AgentRow & { session_token: string }, [RegisterInput]>('registerAgent');
export const unregisterAgentUpdate = defineUpdate<AgentRow, [{ reason?: string }]>('unregisterAgent');
/** Delivers one message, once: a retry with the same message id answers `delivered: false`. */
export const deliverMessageUpdate = defineUpdate<{ delivered: boolean; message: Message }, [MessageInput]>(
  'deliverMessage',
);
/** Reads the mailbox; with waitMs, waits in the workflow until a matching message arrives (a long-poll). */
export const fetchMessagesUpdate = defineUpdate<Message[], [FetchInput]>('fetchMessages');
/** Puts a task reference in the agent's inbox; refused while it is offline or lacks a required capability. */
export const pushTaskUpdate = defineUpdate<AgentRow, [TaskRef]>('pushTask');
/** Takes a task reference out of the inbox (taken, or gone). */
export const popTaskUpdate = defineUpdate<boolean, [{ taskId: string }]>('popTask');
export const acknowledgeMessageUpdate = defineUpdate<Message, [{ messageId: string }]>('acknowledgeMessage');
/** A workspace tells a watching agent that another agent changed a mark there (`seq`: the workspace's last change). */
export const marksChangedSignal = defineSignal<[{ workspace: string; seq: number }]>('marksChanged');
/**
 * mark_updates' long-poll: waits in the agent's own workflow until a workspace signals a change after `after`, or for
 * waitMs; answers whether one came. The changes themselves are read from the workspace.
 */
export const waitMarksUpdate = defineUpdate<boolean, [{ workspace: string; after: number; waitMs: number }]>(
  'waitMarks',
);
/** The agent took or finished a task: an Update, so its row (busy, current task) is right before the call answers. */
export const noteTaskUpdate = defineUpdate<AgentRow, [TouchInput]>('noteTask');
/** Any call of the agent keeps it online (a Signal: nobody waits for the answer). */
export const touchAgentSignal = defineSignal<[TouchInput]>('touch');
export const agentRowQuery = defineQuery<AgentRow>('row');
/** The whole state (mailbox and event log included): for looking at an agent; the client reads less. */
export const agentStateQuery = defineQuery<AgentState>('state');
/** Its inbox, current task and task history, without the mailbox. */
export const agentWorkQuery = defineQuery<AgentWork>('work');
/** The messages a fetch_inbox without a wait answers with, picked in the workflow. */
export const agentMessagesQuery = defineQuery<Message[], [FetchInput]>('messages');
