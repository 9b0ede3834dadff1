/**
 * The relay toolset through a real MCP Client on a real dev server and worker.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, eventually, ok, privateNamespace, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
let mcp: Client;
const FIVE = ['researcher', 'analyzer', 'synthesizer', 'validator', 'formatter'];

beforeAll(async () => {
  // The seed's agent types name breakers the conformance test uses too: this file keeps its own.
  h = await startHarness({ namespace: await privateNamespace() });
  mcp = await h.mcp('relay-default', ['relay', 'goals']);
});
afterAll(async () => {
  await h.close();
});

async function pipeline(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await ok(mcp, 'create_relay_pipeline', {
    name: uid('relay'),
    goal: 'Write a market report',
    agent_types: FIVE,
    ...extra,
  });
  return r.pipeline_id;
}

test("the seed's 5-agent example end to end", async () => {
  const created = await ok(mcp, 'create_relay_pipeline', {
    name: 'Market report',
    goal: 'Write a market report on solid-state batteries',
    agent_types: FIVE,
  });
  expect(created.baton).toMatchObject({
    sequence_position: 1,
    total_agents: 5,
    agent_type: 'researcher',
    quality_threshold: 0.6,
  });
  expect(created.baton.prompt).toContain('advance_relay');
  const id = created.pipeline_id;

  const status = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  expect(status).toMatchObject({
    status: 'pending', // the seed's word for a pipeline nobody has worked on yet
    state: 'running',
    progress_percent: 0,
    current_step: 0,
    tokens_remaining: 100_000,
  });

  const scores = [
    [0.8, 0.5],
    [0.75, 0.6],
    [0.9, 0.7],
    [0.85, 0.4],
    [0.7, 0.8],
  ];
  let last: any;
  for (let i = 0; i < 5; i++) {
    const baton = (await ok(mcp, 'get_relay_baton', { pipeline_id: id })).baton;
    expect(baton.agent_type).toBe(FIVE[i]);
    if (i > 0) expect(last.next_baton).toEqual(baton); // the advance carried exactly what the next agent reads
    if (i > 0) {
      expect(baton.input_summary).toBe(`summary ${i - 1}`);
      expect(baton.input_entity_id).toBe(`entity-${i - 1}`);
      expect(baton.l_score_chain).toHaveLength(i);
    }
    last = await ok(mcp, 'advance_relay', {
      pipeline_id: id,
      quality_score: scores[i]![0],
      l_score: scores[i]![1],
      tokens_used: 1000,
      output_summary: `summary ${i}`,
      output_entity_id: `entity-${i}`,
    });
    if (i < 4) expect(last.next_baton.agent_type).toBe(FIVE[i + 1]);
  }
  expect(last.outcome).toBe('pipeline_completed');
  const final = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  expect(final).toMatchObject({
    status: 'completed',
    progress_percent: 100,
    tokens_used: 5000,
    tokens_remaining: 95_000,
  });
  expect(final.quality_chain).toEqual([0.8, 0.75, 0.9, 0.85, 0.7]);
  expect(final.average_quality).toBe(0.8);
  expect(final.average_l_score).toBe(0.6);
  expect(final.steps.every((s: any) => s.duration_ms !== null)).toBe(true);
  const baton = await ok(mcp, 'get_relay_baton', { pipeline_id: id });
  expect(baton).toEqual({ success: false, baton: null, prompt: null, status: 'completed', state: 'completed' });
});

test('a failed gate waits in awaiting_retry; a retry passes; a fourth retry is refused', async () => {
  const id = await pipeline();
  await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.9, l_score: 0.5, tokens_used: 10 });
  const failed = await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.5, l_score: 0.5, tokens_used: 10 });
  // The seed calls a pipeline whose gate failed `failed` (until retried); the finer state says it awaits a retry.
  expect(failed).toMatchObject({
    outcome: 'gate_failed',
    success: false,
    status: 'failed',
    state: 'awaiting_retry',
    step_index: 1,
  });
  expect(failed.reason).toMatch(/below the analyzer threshold 0.7/);
  const blocked = await call(mcp, 'advance_relay', {
    pipeline_id: id,
    quality_score: 0.9,
    l_score: 0.9,
    tokens_used: 1,
  });
  expect(blocked.error?.code).toBe('CONFLICT');

  const retried = await ok(mcp, 'retry_relay_step', { pipeline_id: id, step_index: 1 });
  expect(retried.baton).toMatchObject({ agent_type: 'analyzer', retry_count: 1 });
  const passed = await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.8, l_score: 0.5, tokens_used: 10 });
  expect(passed.outcome).toBe('advanced');

  // Step 2 fails and is retried three times; the fourth gate failure ends the pipeline and a fourth retry is refused.
  for (let i = 0; i < 3; i++) {
    await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.1, l_score: 0.5, tokens_used: 1 });
    await ok(mcp, 'retry_relay_step', { pipeline_id: id, step_index: 2 });
  }
  const fourth = await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.1, l_score: 0.5, tokens_used: 1 });
  expect(fourth.outcome).toBe('pipeline_failed');
  const refused = await call(mcp, 'retry_relay_step', { pipeline_id: id, step_index: 2 });
  expect(refused.error?.code).toBe('RETRY_EXHAUSTED');
});

test('exceeding the token budget fails the pipeline with a clear reason', async () => {
  const id = await pipeline({ token_budget: 1500 });
  await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.9, l_score: 0.5, tokens_used: 1000 });
  const over = await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.9, l_score: 0.5, tokens_used: 600 });
  expect(over.outcome).toBe('pipeline_failed');
  const status = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  expect(status.status).toBe('failed');
  expect(status.failure_reason).toBe('token budget exceeded: 1600 tokens used of 1500 (step 1, analyzer)');
});

test('a claimed step can be advanced only by its holder; an unclaimed one by anyone', async () => {
  const id = await pipeline();
  await ok(mcp, 'advance_relay', {
    pipeline_id: id,
    quality_score: 0.9,
    l_score: 0.5,
    tokens_used: 1,
    agent_id: 'anyone',
  });
  const claimed = await ok(mcp, 'get_relay_baton', { pipeline_id: id, agent_id: 'analyst-1' });
  expect(claimed.baton.claimed_by).toBe('analyst-1');
  const other = await call(mcp, 'get_relay_baton', { pipeline_id: id, agent_id: 'analyst-2' });
  expect(other.error?.code).toBe('CONFLICT');
  const stolen = await call(mcp, 'advance_relay', {
    pipeline_id: id,
    quality_score: 0.9,
    l_score: 0.5,
    tokens_used: 1,
    agent_id: 'analyst-2',
  });
  expect(stolen.error?.code).toBe('LEASE_LOST');
  const mine = await ok(mcp, 'advance_relay', {
    pipeline_id: id,
    quality_score: 0.9,
    l_score: 0.5,
    tokens_used: 1,
    agent_id: 'analyst-1',
    lease_token: claimed.baton.lease_token,
  });
  expect(mine.outcome).toBe('advanced');
});

test('a 48-step pipeline completes', async () => {
  const types = Array.from({ length: 48 }, (_, i) => FIVE[i % 5] as string);
  const id = (await ok(mcp, 'create_relay_pipeline', { name: uid('long'), goal: 'long chain', agent_types: types }))
    .pipeline_id;
  for (let i = 0; i < 48; i++) {
    const r = await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.95, l_score: 0.9, tokens_used: 100 });
    expect(r.outcome).toBe(i === 47 ? 'pipeline_completed' : 'advanced');
  }
  expect((await ok(mcp, 'get_relay_status', { pipeline_id: id })).progress_percent).toBe(100);
});

test('a relay that is part of a goal completes its task, and the goal’s dependents become ready', async () => {
  const goalId = (await ok(mcp, 'create_goal', { name: uid('composed') })).goal_id;
  const created = await ok(mcp, 'create_relay_pipeline', {
    name: uid('sub'),
    goal: 'sub work',
    agent_types: ['researcher'],
    goal_id: goalId,
  });
  const relayTask = created.status.goal_task_id;
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'after the relay', dependencies: [relayTask] });
  expect((await ok(mcp, 'get_task', { task_id: relayTask })).task.status).toBe('in_progress');
  await ok(mcp, 'advance_relay', {
    pipeline_id: created.pipeline_id,
    quality_score: 0.9,
    l_score: 0.9,
    tokens_used: 5,
  });
  const done = await eventually(async () => {
    const t = (await ok(mcp, 'get_task', { task_id: relayTask })).task;
    return t.status === 'completed' ? t : undefined;
  });
  expect(done.result).toMatch(/completed/);
  expect((await ok(mcp, 'list_tasks', { goal_id: goalId, status: 'ready' })).tasks[0].title).toBe('after the relay');
});

test('list_relay_pipelines filters by status and shows the caller its own changes at once; the CLI retryStep retries exactly as the tool does', async () => {
  // The caller's own changes show at once (pipelines this server changed a moment ago are read live).
  const listed = async (status: string) =>
    (await ok(mcp, 'list_relay_pipelines', { status, limit: 1000 })).pipelines.find((p: any) => p.pipeline_id === id);
  const id = await pipeline();
  expect(await listed('pending')).toMatchObject({ current_step: 0 });
  await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.1, l_score: 0.5, tokens_used: 1 });
  expect(await listed('awaiting_retry')).toMatchObject({ current_step: 0 });
  expect(await listed('running')).toBeUndefined();
  await ok(mcp, 'retry_relay_step', { pipeline_id: id, step_index: 0 });
  expect(await listed('running')).toMatchObject({ current_step: 0 });
  expect(await listed('awaiting_retry')).toBeUndefined();
  await ok(mcp, 'advance_relay', { pipeline_id: id, quality_score: 0.1, l_score: 0.5, tokens_used: 1 });

  const cli = promisify(execFile);
  await cli(process.env.TEMPORAL_CLI_PATH as string, [
    'workflow',
    'update',
    'execute',
    '-w',
    `relay-${id}`,
    '--name',
    'retryStep',
    '-i',
    '{"stepIndex":0}',
    '--address',
    h.config.temporalAddress,
    '--namespace',
    h.config.namespace,
  ]);
  const status = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  expect(status).toMatchObject({ status: 'in_progress', state: 'running', total_retries: 2 });
  const metadata = await cli(process.env.TEMPORAL_CLI_PATH as string, [
    'workflow',
    'metadata',
    '-w',
    `relay-${id}`,
    '--address',
    h.config.temporalAddress,
    '--namespace',
    h.config.namespace,
  ]);
  expect(metadata.stdout).toContain('| step_index | agent type | status | quality |');
});

describe('bad input returns isError with a code and changes nothing', () => {
  let id: string;
  let before: unknown;
  beforeAll(async () => {
    id = await pipeline();
    before = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  });
  afterAll(async () => {
    expect(await ok(mcp, 'get_relay_status', { pipeline_id: id })).toEqual(before);
  });
  const cases: Array<[string, string, () => Record<string, unknown>, string]> = [
    ['unknown pipeline', 'get_relay_status', () => ({ pipeline_id: 'no-such-pipeline' }), 'NOT_FOUND'],
    ['unknown pipeline', 'get_relay_baton', () => ({ pipeline_id: 'no-such-pipeline' }), 'NOT_FOUND'],
    [
      'unknown pipeline',
      'advance_relay',
      () => ({ pipeline_id: 'no-such-pipeline', quality_score: 1, l_score: 1, tokens_used: 1 }),
      'NOT_FOUND',
    ],
    ['step index out of range', 'retry_relay_step', () => ({ pipeline_id: id, step_index: 9 }), 'INVALID_ARGUMENT'],
    ['retrying a step that did not fail', 'retry_relay_step', () => ({ pipeline_id: id, step_index: 0 }), 'CONFLICT'],
    [
      'score above 1',
      'advance_relay',
      () => ({ pipeline_id: id, quality_score: 1.5, l_score: 0.5, tokens_used: 1 }),
      'INVALID_ARGUMENT',
    ],
    [
      'negative l_score',
      'advance_relay',
      () => ({ pipeline_id: id, quality_score: 0.5, l_score: -0.1, tokens_used: 1 }),
      'INVALID_ARGUMENT',
    ],
    [
      'negative tokens',
      'advance_relay',
      () => ({ pipeline_id: id, quality_score: 0.9, l_score: 0.5, tokens_used: -5 }),
      'INVALID_ARGUMENT',
    ],
    ['no agent types', 'create_relay_pipeline', () => ({ name: 'x', goal: 'y', agent_types: [] }), 'INVALID_ARGUMENT'],
    [
      'threshold outside 0-1',
      'create_relay_pipeline',
      () => ({ name: 'x', goal: 'y', agent_types: ['a'], quality_thresholds: { a: 2 } }),
      'INVALID_ARGUMENT',
    ],
    ['unknown status', 'list_relay_pipelines', () => ({ status: 'paused' }), 'INVALID_ARGUMENT'],
  ];
  test.each(cases)('%s (%s)', async (_what, tool, args, code) => {
    const r = await call(mcp, tool, args());
    expect(r.isError).toBe(true);
    expect(r.error?.code).toBe(code);
  });
});

test('an advance names its step: 10 concurrent advances of step 0 apply once; a stale lease token is refused', async () => {
  const created = await ok(mcp, 'create_relay_pipeline', {
    name: `race ${uid()}`,
    goal: 'race',
    agent_types: ['researcher', 'analyzer', 'writer'],
  });
  const id = created.pipeline_id as string;
  const first = await ok(mcp, 'get_relay_baton', { pipeline_id: id, agent_id: 'step0-agent' });
  const step0Token = first.baton.lease_token as number;
  const results = await Promise.all(
    Array.from({ length: 10 }, () =>
      call(mcp, 'advance_relay', {
        pipeline_id: id,
        step_index: 0,
        agent_id: 'step0-agent',
        quality_score: 0.9,
        l_score: 0.9,
        tokens_used: 10,
      }),
    ),
  );
  expect(results.filter((r) => !r.isError)).toHaveLength(1);
  for (const r of results.filter((x) => x.isError)) {
    expect(r.error?.code).toBe('CONFLICT');
    expect(r.error?.message).toMatch(/Step 0 of pipeline .* is already advanced; the current step is 1/);
  }
  const status = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  expect(status.current_step).toBe(1);
  // The baton of step 1 names its step too; the claim on step 0 is no pass for step 1.
  const baton = await ok(mcp, 'get_relay_baton', { pipeline_id: id, agent_id: 'step1-agent' });
  expect(baton.baton.lease_token).toBeGreaterThan(step0Token);
  const stale = await call(mcp, 'advance_relay', {
    pipeline_id: id,
    lease_token: step0Token,
    quality_score: 0.9,
    l_score: 0.9,
    tokens_used: 1,
  });
  expect(stale.error?.code).toBe('LEASE_LOST');
  const byBaton = await ok(mcp, 'advance_relay', {
    pipeline_id: id,
    baton_id: baton.baton.baton_id,
    agent_id: 'step1-agent',
    quality_score: 0.9,
    l_score: 0.9,
    tokens_used: 1,
  });
  expect(byBaton.step_index).toBe(1);
  expect(
    (
      await call(mcp, 'advance_relay', {
        pipeline_id: id,
        baton_id: baton.baton.baton_id,
        quality_score: 1,
        l_score: 1,
        tokens_used: 1,
      })
    ).error?.code,
  ).toBe('CONFLICT');
  // Step 2 is unclaimed: the claim token of step 1 is no pass for it either.
  const reused = await call(mcp, 'advance_relay', {
    pipeline_id: id,
    lease_token: baton.baton.lease_token,
    quality_score: 0.9,
    l_score: 0.9,
    tokens_used: 1,
  });
  expect(reused.error?.code).toBe('LEASE_LOST');
  expect((await ok(mcp, 'get_relay_status', { pipeline_id: id })).current_step).toBe(2);
});
