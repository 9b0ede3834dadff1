/** Relay pipelines by intent: create, read the baton (claiming it), advance, retry, list. */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  batonMemoOf,
  batonOf,
  newRelayState,
  statusView,
  type AdvanceInput,
  type AdvanceResult,
  type Baton,
  type RelayHead,
  type RelayState,
  type RelayStatus,
  type RelayStatusView,
  type RelayStep,
} from '../domain/relay';
import {
  advanceRelayUpdate,
  claimRelayStepUpdate,
  RELAY_BATON_MEMO,
  relayBatonQuery,
  relayStatusQuery,
  relayWorkflowId,
  retryStepUpdate,
  type RelayWorkflowInput,
} from '../workflows/messages';
import type { relayPipelineWorkflow } from '../workflows/relay-pipeline';
import { AR_ENTITY, AR_STATUS, relaySearchAttributes } from '../workflows/search-attributes';
import { randomUUID } from 'node:crypto';
import { AppError } from './errors';
import { refuseReusedKey } from '../domain/request-ids';
import { createBreakersClient } from './breakers';
import { makeGoalId, type GoalsClient, type WorkflowTarget } from './goals';
import { mergeTouched, RECENT_CHANGE_MS, recentlyTouched } from './recent';

export interface CreateRelayRequest {
  name: string;
  goal: string;
  agentTypes: string[];
  description?: string;
  tokenBudget?: number;
  qualityThresholds?: Record<string, number>;
  maxRetries?: number;
  goalId?: string;
  requestId?: string;
}

/** What a relay workflow starts with besides its state: the search attributes and summary it is found by. */
export function relayStartOptions(state: RelayState) {
  return {
    typedSearchAttributes: relaySearchAttributes(state.name, state.status, statusView(state).progress_percent),
    // The baton an agent reads (get_relay_baton) from the start, as the workflow keeps it after every change.
    memo: { [RELAY_BATON_MEMO]: batonMemoOf(state) },
    staticSummary: `Relay: ${state.name} (${state.steps.length} agents)`.slice(0, 400),
    staticDetails: state.goal.slice(0, 2000),
  };
}

export function createRelayClient(goals: GoalsClient, options: { breakerAutoRecord?: boolean } = {}) {
  const taskQueue = goals.taskQueue;
  const breakers = createBreakersClient(goals);
  const entity = (id: string) => `Pipeline ${id}`;
  const target = (id: string): WorkflowTarget => ({ workflowId: relayWorkflowId(id) });
  /** Pipelines this process created or changed a moment ago, which Visibility may not show as they are yet. */
  const recent = recentlyTouched(RECENT_CHANGE_MS);

  /** Updates on a pipeline; a closed one answers CONFLICT with its final status instead of a bare NOT_FOUND. */
  async function update<R>(
    pipelineId: string,
    run: (h: ReturnType<typeof handleOf>) => Promise<R>,
    onEnded?: (view: RelayStatusView) => AppError | undefined,
  ): Promise<R> {
    recent.touch(pipelineId);
    return goals.withClient(
      async (client) => {
        const handle = client.workflow.getHandle(relayWorkflowId(pipelineId));
        try {
          return await run(handle);
        } catch (err) {
          const closed = await handle.describe().then(
            (d) => (d.status.name === 'RUNNING' ? undefined : d.status.name),
            () => undefined,
          );
          if (closed) {
            const view = await handle.query(relayStatusQuery).catch(() => undefined);
            const specific = view && onEnded?.(view);
            if (specific) throw specific;
            throw new AppError(
              'CONFLICT',
              `Pipeline ${pipelineId} has ended (${view?.status ?? closed.toLowerCase()}${view?.failure_reason ? `: ${view.failure_reason}` : ''}); create a new pipeline for more work.`,
            );
          }
          throw err;
        }
      },
      entity(pipelineId),
      target(pipelineId),
    );
  }
  /** While the breaker of the step's agent type is OPEN, the baton names its fallback agent. */
  async function withFallback(baton: Baton): Promise<Baton> {
    const fallback = await breakers.fallbackFor(baton.agent_type).catch(() => null);
    if (!fallback) return baton;
    return {
      ...baton,
      fallback_agent: fallback,
      prompt: `Routing: the circuit breaker of ${baton.agent_type} is OPEN, so ${fallback} takes this step in its place.\n${baton.prompt}`,
    };
  }

  const handleOf = (client: Parameters<Parameters<GoalsClient['withClient']>[0]>[0], id: string) =>
    client.workflow.getHandle(relayWorkflowId(id));

  /** A pipeline made by this request_id for other arguments: the retry is refused, nothing is created. */
  async function refuseIfKeyedOtherwise(pipelineId: string, requestId: string): Promise<void> {
    const first = await goals
      .withClient((client) => handleOf(client, pipelineId).describe(), entity(pipelineId), target(pipelineId))
      .then((d) => d.memo?.created_by_request)
      .catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      });
    if (typeof first === 'string' && first !== requestId) refuseReusedKey(requestId);
  }

  const api = {
    async create(req: CreateRelayRequest): Promise<{ pipeline_id: string; status: RelayStatusView; baton: Baton }> {
      const pipelineId = makeGoalId(req.name, req.requestId);
      if (req.requestId !== undefined) await refuseIfKeyedOtherwise(pipelineId, req.requestId);
      let goalTaskId: string | undefined;
      let goalAgentId: string | undefined;
      if (req.goalId !== undefined) {
        // The pipeline stands for one task of the goal, held by the pipeline until it ends.
        goalAgentId = `relay:${pipelineId}`;
        const [task] = await goals.createTasks(
          req.goalId,
          [{ title: `Relay pipeline: ${req.name}`, description: req.goal, tags: ['relay'] }],
          req.requestId && `${req.requestId}:task`,
          'create_relay_pipeline',
        );
        goalTaskId = (task as { id: string }).id;
        await goals.claimAndStart(goalTaskId, goalAgentId, 0, req.requestId && `${req.requestId}:hold`);
      }
      recent.touch(pipelineId);
      const state = newRelayState(
        {
          pipelineId,
          name: req.name,
          goal: req.goal,
          description: req.description,
          agentTypes: req.agentTypes,
          tokenBudget: req.tokenBudget,
          qualityThresholds: req.qualityThresholds,
          maxRetries: req.maxRetries,
          goalTaskId,
          goalAgentId,
        },
        Date.now(),
      );
      await goals.withClient(
        async (client) => {
          try {
            await client.workflow.start<typeof relayPipelineWorkflow>('relayPipelineWorkflow', {
              workflowId: relayWorkflowId(pipelineId),
              taskQueue,
              args: [{ state } satisfies RelayWorkflowInput],
              ...relayStartOptions(state),
              ...(req.requestId !== undefined ? { memo: { created_by_request: req.requestId } } : {}),
            });
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError && req.requestId !== undefined)) throw err;
          }
        },
        entity(pipelineId),
        target(pipelineId),
      );
      if (req.requestId !== undefined) {
        const status = await api.status(pipelineId);
        return { pipeline_id: pipelineId, status, baton: (await api.baton(pipelineId)) as Baton };
      }
      return { pipeline_id: pipelineId, status: statusView(state), baton: batonOf(state) as Baton };
    },

    async status(pipelineId: string): Promise<RelayStatusView> {
      return goals.withClient(
        (client) => handleOf(client, pipelineId).query(relayStatusQuery),
        entity(pipelineId),
        target(pipelineId),
      );
    },

    /** The current baton; with an agent id, the step is claimed for that agent first. */
    async baton(
      pipelineId: string,
      agentId?: string,
      leaseSeconds?: number,
      requestId?: string,
    ): Promise<Baton | null> {
      return (await api.batonAndHead(pipelineId, agentId, leaseSeconds, requestId)).baton;
    },

    /** The current baton and where the pipeline stands (get_relay_baton); with an agent id, the step is claimed first. */
    async batonAndHead(
      pipelineId: string,
      agentId?: string,
      leaseSeconds?: number,
      requestId?: string,
    ): Promise<{ baton: Baton | null; head: RelayHead }> {
      if (agentId !== undefined) {
        await update(pipelineId, (h) =>
          h.executeUpdate(claimRelayStepUpdate, {
            args: [{ agentId, leaseSeconds }],
            updateId: requestId ?? randomUUID(),
          }),
        );
      }
      const read = await goals.withClient(
        async (client) => {
          // What the workflow keeps in its memo, written in the workflow task of each change: the server answers it
          // alone (about 2 ms here, where a Query, which goes through a worker, takes about one floor) and with no
          // worker running. A run started before the memo existed is asked by Query.
          const handle = handleOf(client, pipelineId);
          const kept = (await handle.describe()).memo?.[RELAY_BATON_MEMO] as
            { baton?: Baton | null; head?: RelayHead } | undefined;
          if (kept?.head && kept.baton !== undefined) return { baton: kept.baton, head: kept.head };
          const [baton, view] = await Promise.all([handle.query(relayBatonQuery), handle.query(relayStatusQuery)]);
          return { baton, head: { status: view.status, steps: view.steps.slice(0, 1) } };
        },
        entity(pipelineId),
        target(pipelineId),
      );
      return { baton: read.baton && (await withFallback(read.baton)), head: read.head };
    },

    async advance(
      pipelineId: string,
      input: AdvanceInput,
      requestId?: string,
    ): Promise<AdvanceResult & { next_baton: Baton | null }> {
      const result = await update(pipelineId, (h) =>
        h.executeUpdate(advanceRelayUpdate, { args: [input], updateId: requestId ?? randomUUID() }),
      );
      if (options.breakerAutoRecord !== false && !result.gate.passed) {
        await breakers.recordOnTheSide(
          result.agent_type,
          {
            failureType: 'quality_failure',
            errorMessage: `relay ${pipelineId} step ${result.step_index}: quality ${result.gate.quality_score} / ${result.gate.quality_threshold}, l ${result.gate.l_score}`,
          },
          requestId && `${requestId}:breaker`,
        );
      }
      const { next_baton: carried, ...rest } = result;
      let next: Baton | null = null;
      if (result.outcome === 'advanced') {
        // Runs started before the advance carried the next baton answer without it: read it then.
        next = carried ? await withFallback(carried) : await api.baton(pipelineId).catch(() => null);
      }
      return { ...rest, next_baton: next };
    },

    async retry(
      pipelineId: string,
      stepIndex: number,
      requestId?: string,
    ): Promise<{ step: RelayStep; baton: Baton | null }> {
      const step = await update(
        pipelineId,
        (h) => h.executeUpdate(retryStepUpdate, { args: [{ stepIndex }], updateId: requestId ?? randomUUID() }),
        (view) => {
          const failed = view.steps[stepIndex];
          return failed && failed.retries >= view.max_retries
            ? new AppError(
                'RETRY_EXHAUSTED',
                `Step ${stepIndex} (${failed.agent_type}) has been retried ${failed.retries} times, the limit of ${view.max_retries}; pipeline ${pipelineId} has failed.`,
              )
            : undefined;
        },
      );
      return { step, baton: await api.baton(pipelineId) };
    },

    /**
     * Pipelines in any of `statuses` (all when absent), each read live from its workflow. Visibility lags a change by a
     * moment, so pipelines this process changed a moment ago are read live too: a call sees its own changes at once.
     */
    async list(statuses?: readonly RelayStatus[], limit = 50): Promise<RelayStatusView[]> {
      const filter = statuses?.length ? ` AND ${AR_STATUS.name} IN (${statuses.map((s) => `'${s}'`).join(', ')})` : '';
      const found = (await goals.listIndexed(`${AR_ENTITY.name} = 'relay'${filter}`, limit)).map((g) => ({
        id: g.id.replace(/^relay-/, ''),
      }));
      const views = await goals.mapLimited(mergeTouched(found, recent.ids()), 16, (r) =>
        api.status(r.id).catch(() => undefined),
      );
      return views.filter(
        (v): v is RelayStatusView => v !== undefined && (statuses === undefined || statuses.includes(v.status)),
      );
    },
  };
  return api;
}

export type RelayClient = ReturnType<typeof createRelayClient>;
