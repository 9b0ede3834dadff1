/**
 * With the runtime's own server settings (DEV_SERVER_DYNAMIC_CONFIG, equal to deploy/dynamicconfig.yaml), a goal
 * continues as new before its history passes about 1,024 events, so a worker that takes it over never replays more
 * than that within the 10 s workflow task timeout (docs/DECISIONS.md, "Continue-as-new at 1,024 history events").
 * One agent, every call its own Update: the longest history per task there is. And what a goal's run starts with: its
 * search attributes and list row from the start, one patch marker (docs/DECISIONS.md, "Changing workflow code").
 */
import { closedRuns, quietRuntime, startHarness, uid } from './support/harness';
import {
  agentWorkflowId,
  breakerWorkflowId,
  goalWorkflowId,
  RELAY_BATON_MEMO,
  relayWorkflowId,
} from '../src/workflows/messages';
import { workspaceWorkflowId } from '../src/workflows/workspace-messages';
import { PATCH_BASELINE } from '../src/workflows/patches';
import {
  AR_AGENTS,
  AR_ENTITY,
  AR_PRIORITY,
  AR_PROGRESS,
  AR_READY_COUNT,
  AR_SCOPES,
  AR_STATUS,
  AR_TOP_PRIORITY,
} from '../src/workflows/search-attributes';

beforeAll(() => quietRuntime());

test('a goal worked call by call continues as new at about 1,024 history events, losing nothing', async () => {
  const h = await startHarness();
  try {
    const tasks = 260; // about five events per task: past 1,024 once
    const goal = await h.goals.createGoal({
      name: 'history cadence',
      tasks: Array.from({ length: tasks }, (_, k) => ({ title: `h${k}` })),
    });
    const done = new Set<string>();
    for (;;) {
      const c = await h.goals.claimNextTask({ goalId: goal.id, agentId: 'cadence' });
      if (!c.claimed || !c.task) break;
      await h.goals.setTaskStatus({ taskId: c.task.id, status: 'completed', agentId: 'cadence', result: 'ok' });
      done.add(c.task.id);
    }
    expect(done.size).toBe(tasks);
    expect((await h.goals.getGoal(goal.id)).goal.task_counts).toMatchObject({ total: tasks, completed: tasks });

    const runs = await closedRuns(await h.lazy.get(), goalWorkflowId(goal.id));
    expect(runs.length).toBeGreaterThanOrEqual(1);
    // Continued as new at the first workflow task after the suggestion, once its handlers were done: a few events on.
    for (const r of runs) expect(r.history.events?.length).toBeLessThan(1_100);
    // Every run, the continued ones too, records the patch baseline alone.
    const markers = (r: (typeof runs)[number]) =>
      (r.history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;
    expect(runs.map(markers)).toEqual(runs.map(() => 1));
  } finally {
    await h.close();
  }
}, 180_000);

test('a new goal starts with its search attributes and list row, and its first workflow task records one patch marker', async () => {
  const h = await startHarness();
  try {
    const goal = await h.goals.createGoal({
      name: 'first workflow task',
      priority: 7,
      tasks: [
        { title: 'api work', scope: 'api', priority: 9 },
        { title: 'docs', priority: 1 },
        { title: 'later', dependencies: [0] },
      ],
    });
    const handle = (await h.lazy.get()).workflow.getHandle(goalWorkflowId(goal.id));
    // What the Web UI and cross-goal claims read, from the start: nothing waits for the workflow's first task.
    const started = await handle.describe();
    expect(started.typedSearchAttributes.get(AR_READY_COUNT)).toBe(2);
    expect(started.typedSearchAttributes.get(AR_TOP_PRIORITY)).toBe(9);
    expect(started.typedSearchAttributes.get(AR_PRIORITY)).toBe(7);
    expect(started.typedSearchAttributes.get(AR_SCOPES)).toEqual(['api']);
    expect(started.typedSearchAttributes.get(AR_AGENTS)).toEqual([]);
    expect(started.typedSearchAttributes.get(AR_PROGRESS)).toBe(0);
    expect(started.memo?.live).toMatchObject({ task_counts: { total: 3, ready: 2, pending: 1 } });

    const claim = await h.goals.claimNextTask({ goalId: goal.id, agentId: 'first' });
    expect(claim.task?.title).toBe('api work');
    const events = (await handle.fetchHistory()).events ?? [];
    const firstUpdate = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const before = events.slice(0, firstUpdate);
    // One marker (the patch baseline, covering every patch before it) instead of one per patch, each with its own
    // TemporalChangeVersion upsert; and no rewrite of what the start set.
    const markers = before.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(markers).toHaveLength(1);
    const upserted = before.flatMap((e) =>
      Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
    );
    expect(upserted).toEqual(['TemporalChangeVersion']);
    expect(before.some((e) => e.workflowPropertiesModifiedEventAttributes)).toBe(false);
    expect((await handle.describe()).searchAttributes.TemporalChangeVersion).toEqual([PATCH_BASELINE]);

    // The claim took the only ready scope: that is urgent for cross-goal claims, and is written at once.
    const after = await handle.describe();
    expect(after.typedSearchAttributes.get(AR_SCOPES) ?? []).toEqual([]); // an empty list is removed
    expect((await h.goals.getGoal(goal.id)).goal.task_counts).toMatchObject({ claimed: 1, ready: 1, pending: 1 });
  } finally {
    await h.close();
  }
});

test('a relay, a breaker, an agent and a workspace start with their search attributes: no first workflow task writes them again', async () => {
  const h = await startHarness();
  try {
    const mcp = await h.mcp('starter');
    const call = async (name: string, args: Record<string, unknown>) => {
      const r = await mcp.callTool({ name, arguments: args });
      expect(r.isError ?? false).toBe(false);
      return r.structuredContent as Record<string, unknown>;
    };
    const relay = await call('create_relay_pipeline', { name: 'starts whole', goal: 'g', agent_types: ['a', 'b'] });
    const pipelineId = relay.pipeline_id as string;
    // The baton is in the memo from the start (what get_relay_baton reads); the first agent claims it.
    const started = await (await h.lazy.get()).workflow.getHandle(relayWorkflowId(pipelineId)).describe();
    expect(started.memo?.[RELAY_BATON_MEMO]).toMatchObject({ baton: { sequence_position: 1, claimed_by: null } });
    const baton = await call('get_relay_baton', { pipeline_id: pipelineId, agent_id: 'a-1' });
    expect(baton.baton).toMatchObject({ sequence_position: 1, claimed_by: 'a-1' });
    const breakerAgent = uid('breaker');
    await call('circuit_breaker_configure', { agent_id: breakerAgent, failure_threshold: 3 }); // stays CLOSED
    const agentId = uid('agent');
    await call('register_agent', { agent_id: agentId, name: agentId, capabilities: ['code'] });
    const workspace = uid('ws');
    // A worker id of this test's own: an agent workflow it registers stays on this test's task queue after it ends.
    await call('connect', { workspace, worker_id: uid('w') });

    const client = await h.lazy.get();
    for (const workflowId of [
      relayWorkflowId(pipelineId),
      breakerWorkflowId(breakerAgent),
      agentWorkflowId(agentId),
      workspaceWorkflowId(workspace),
    ]) {
      const handle = client.workflow.getHandle(workflowId);
      const events = (await handle.fetchHistory()).events ?? [];
      const upserted = events.flatMap((e) =>
        Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
      );
      expect({ workflowId, upserted }).toEqual({ workflowId, upserted: ['TemporalChangeVersion'] });
      const sa = (await handle.describe()).typedSearchAttributes;
      expect(sa.get(AR_ENTITY)).toBe(workflowId.split('-')[0]);
    }
    const relayHandle = client.workflow.getHandle(relayWorkflowId(pipelineId));
    expect((await relayHandle.describe()).typedSearchAttributes.get(AR_PROGRESS)).toBe(0);
    const agentRow = await client.workflow.getHandle(agentWorkflowId(agentId)).describe();
    expect(agentRow.typedSearchAttributes.get(AR_STATUS)).toBe('idle');
  } finally {
    await h.close();
  }
});
