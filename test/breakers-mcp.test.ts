/** The breakers toolset and its routing, through a real MCP Client on a real dev server and worker. */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { BREAKER_CACHE_MS } from '../src/client/breakers';
import { createServer } from '../src/mcp/server';
import { getEventsQuery } from '../src/workflows/messages';
import { call, eventually, ok, startHarness, uid, watchedGoals, type Harness } from './support/harness';

let h: Harness;
let mcp: Client;

beforeAll(async () => {
  h = await startHarness();
  mcp = await h.mcp('breaker-default', ['all']);
});
afterAll(async () => {
  await h.close();
});

const failN = async (agent: string, n: number, type = 'timeout') => {
  let last: any;
  for (let i = 0; i < n; i++) {
    last = await ok(mcp, 'circuit_breaker_record_failure', {
      agent_id: agent,
      failure_type: type,
      error_message: `boom ${i}`,
    });
  }
  return last;
};

test("the seed's example: status → five failures → OPEN → list → configure → trip → reset", async () => {
  const agent = uid('coder');
  expect(await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).toMatchObject({
    state: 'CLOSED',
    failures_in_window: 0,
  });
  const first = await failN(agent, 1);
  // A breaker this server just created is listed at once, before Visibility has it.
  expect((await ok(mcp, 'circuit_breaker_list', {})).closed.map((b: any) => b.agent_id)).toContain(agent);
  const four = await failN(agent, 3);
  expect([first.state, four.state]).toEqual(['CLOSED', 'CLOSED']);
  const fifth = await failN(agent, 1, 'exception');
  expect(fifth).toMatchObject({ state: 'OPEN', failures_in_window: 5, cooldown_remaining_seconds: 300 });
  const listed = (await ok(mcp, 'circuit_breaker_list', {})).open.find((b: any) => b.agent_id === agent);
  expect(listed.state).toBe('OPEN');
  const configured = await ok(mcp, 'circuit_breaker_configure', {
    agent_id: agent,
    cooldown_seconds: 120,
    fallback_agent: 'helper',
  });
  expect(configured.config).toMatchObject({ cooldown_seconds: 120, fallback_agent: 'helper', failure_threshold: 5 });
  const tripped = await ok(mcp, 'circuit_breaker_trip', { agent_id: agent, reason: 'maintenance' });
  expect(tripped).toMatchObject({ state: 'OPEN', cooldown_remaining_seconds: 120 }); // a manual trip restarts the cooldown
  const reset = await ok(mcp, 'circuit_breaker_reset', { agent_id: agent });
  expect(reset).toMatchObject({ state: 'CLOSED', failures_in_window: 0 });
  expect(reset.transitions.map((t: any) => t.to)).toEqual(['OPEN', 'CLOSED']);
});

test('with a 2 s cooldown OPEN turns HALF_OPEN by itself; two successes close it; a failure in HALF_OPEN reopens it', async () => {
  const agent = uid('flaky');
  await ok(mcp, 'circuit_breaker_configure', { agent_id: agent, cooldown_seconds: 2 });
  await ok(mcp, 'circuit_breaker_trip', { agent_id: agent });
  const half = await eventually(
    async () => {
      const s = await ok(mcp, 'circuit_breaker_status', { agent_id: agent });
      return s.state === 'HALF_OPEN' ? s : undefined;
    },
    15_000,
    200,
  );
  expect(half.transitions.at(-1).reason).toMatch(/cooldown of 2 s ended/);
  await ok(mcp, 'circuit_breaker_record_success', { agent_id: agent });
  const closed = await ok(mcp, 'circuit_breaker_record_success', { agent_id: agent });
  expect(closed.state).toBe('CLOSED');

  await ok(mcp, 'circuit_breaker_trip', { agent_id: agent });
  await eventually(
    async () => (await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).state === 'HALF_OPEN',
    15_000,
    200,
  );
  expect((await failN(agent, 1)).state).toBe('OPEN');
});

test('failures outside the window do not trip it', async () => {
  const agent = uid('windowed');
  await ok(mcp, 'circuit_breaker_configure', { agent_id: agent, window_seconds: 1 });
  await failN(agent, 4);
  await new Promise((r) => setTimeout(r, 1200));
  const s = await failN(agent, 4);
  expect(s).toMatchObject({ state: 'CLOSED', failures_in_window: 4, total_failures: 8 });
});

test('claims route around an OPEN breaker and admit only the probe allowance while HALF_OPEN', async () => {
  const agent = uid('worker');
  const goalId = (await ok(mcp, 'create_goal', { name: uid('routed') })).goal_id;
  await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'parallel' });
  await ok(mcp, 'circuit_breaker_configure', { agent_id: agent, cooldown_seconds: 2, fallback_agent: 'backup' });
  await ok(mcp, 'circuit_breaker_trip', { agent_id: agent });

  const refused = await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
  expect(refused.error?.code).toBe('BREAKER_OPEN');
  expect(refused.error?.details).toMatchObject({ fallback_agent: 'backup' });
  expect(refused.error?.message).toMatch(/s of cooldown left/);
  expect((await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'backup' })).claimed).toBe(true);

  await eventually(
    async () => (await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).state === 'HALF_OPEN',
    15_000,
    200,
  );
  expect((await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).claimed).toBe(true);
  expect((await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).error?.code).toBe('BREAKER_OPEN');
});

test('a relay step whose agent type is OPEN names the fallback; a failed gate and a failed task record failures', async () => {
  const type = uid('analyst');
  const pipeline = (await ok(mcp, 'create_relay_pipeline', { name: uid('p'), goal: 'g', agent_types: [type] }))
    .pipeline_id;
  await ok(mcp, 'circuit_breaker_trip', { agent_id: type });
  const baton = (await ok(mcp, 'get_relay_baton', { pipeline_id: pipeline })).baton;
  expect(baton.fallback_agent).toBe('generalist');
  expect(baton.prompt).toMatch(/generalist takes this step/);
  await ok(mcp, 'circuit_breaker_reset', { agent_id: type });
  await ok(mcp, 'advance_relay', { pipeline_id: pipeline, quality_score: 0.1, l_score: 0.5, tokens_used: 1 });
  expect((await ok(mcp, 'circuit_breaker_status', { agent_id: type })).recent_failures[0].type).toBe('quality_failure');

  const agent = uid('failing');
  const goalId = (await ok(mcp, 'create_goal', { name: uid('g') })).goal_id;
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'doomed' });
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
  await ok(mcp, 'update_task_status', { task_id: claim.task.id, status: 'failed', agent_id: agent, error: 'segfault' });
  const s = await ok(mcp, 'circuit_breaker_status', { agent_id: agent });
  expect(s.recent_failures[0]).toMatchObject({ type: 'exception' });
  expect(s.recent_failures[0].message).toContain('segfault');
});

test('a failed task or gate retried with its request_id records one failure on the breaker', async () => {
  const agent = uid('retrying');
  const goalId = (await ok(mcp, 'create_goal', { name: uid('g') })).goal_id;
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'flaky' });
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
  const failed = { task_id: claim.task.id, status: 'failed', agent_id: agent, error: 'timeout', request_id: 'f-1' };
  for (let i = 0; i < 3; i++) await ok(mcp, 'update_task_status', failed);
  const s = await ok(mcp, 'circuit_breaker_status', { agent_id: agent });
  expect(s.recent_failures).toHaveLength(1);
  expect(s.recent_failures[0].message).toContain('timeout');

  const type = uid('gated');
  const pipeline = (await ok(mcp, 'create_relay_pipeline', { name: uid('p'), goal: 'g', agent_types: [type] }))
    .pipeline_id;
  const advance = { pipeline_id: pipeline, quality_score: 0.1, l_score: 0.5, tokens_used: 1, request_id: 'gate-1' };
  for (let i = 0; i < 2; i++) await ok(mcp, 'advance_relay', advance);
  expect((await ok(mcp, 'circuit_breaker_status', { agent_id: type })).recent_failures).toHaveLength(1);
});

test('`temporal workflow update execute --name reset` resets a breaker', async () => {
  const agent = uid('cli');
  await ok(mcp, 'circuit_breaker_trip', { agent_id: agent });
  await promisify(execFile)(process.env.TEMPORAL_CLI_PATH as string, [
    'workflow',
    'update',
    'execute',
    '-w',
    `breaker-${agent}`,
    '--name',
    'reset',
    '--address',
    h.config.temporalAddress,
  ]);
  expect((await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).state).toBe('CLOSED');
});

/** Trips the agent's breaker from another process: the `temporal` CLI. */
async function tripElsewhere(agent: string): Promise<void> {
  await promisify(execFile)(process.env.TEMPORAL_CLI_PATH as string, [
    ...['workflow', 'update', 'execute', '-w', `breaker-${agent}`, '--name', 'trip'],
    ...['--input', '{"reason":"from the CLI"}', '--address', h.config.temporalAddress],
  ]);
}

test('a breaker tripped by another process (the temporal CLI) stops this server’s claims once its read cache lapses', async () => {
  const agent = uid('elsewhere');
  const { goal_id: goalId } = await ok(mcp, 'create_goal', { name: `elsewhere ${agent}` });
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'one' });
  for (const title of ['two', 'three', 'four']) await ok(mcp, 'create_task', { goal_id: goalId, title });
  await ok(mcp, 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'timeout' }); // it exists, CLOSED
  await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent }); // this server has read it: CLOSED
  await tripElsewhere(agent);
  const refused = await eventually(async () => {
    const r = await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
    return r.isError && r.error;
  }, 10_000);
  expect(refused.code).toBe('BREAKER_OPEN');
});

/** A new goal holding tasks with these titles, and the agent's breaker tripped and then HALF_OPEN (a 1 s cooldown;
 * one success closes it). */
async function goalForAProbe(client: Client, agent: string, titles: string[]): Promise<string> {
  const { goal_id: goalId } = await ok(client, 'create_goal', { name: `probe by ${agent}` });
  for (const title of titles) await ok(client, 'create_task', { goal_id: goalId, title });
  await ok(client, 'circuit_breaker_configure', { agent_id: agent, cooldown_seconds: 1, success_threshold: 1 });
  await ok(client, 'circuit_breaker_trip', { agent_id: agent });
  await eventually(
    async () => (await ok(client, 'circuit_breaker_status', { agent_id: agent })).state === 'HALF_OPEN',
    15_000,
    200,
  );
  return goalId;
}

/**
 * An MCP server for `agent` whose Temporal client notes when each Query, Describe and Update to a workflow is sent and
 * answered.
 */
async function recordedServer(agent: string): Promise<{ client: Client; seen: string[] }> {
  const seen: string[] = [];
  const note = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    seen.push(`${what} sent`);
    try {
      return await run();
    } finally {
      seen.push(`${what} answered`);
    }
  };
  const recorder: WorkflowClientInterceptor = {
    query: (input, next) => note(`query ${input.workflowExecution.workflowId}`, () => next(input)),
    describe: (input, next) => note(`describe ${input.workflowExecution.workflowId}`, () => next(input)),
    startUpdate: (input, next) => note(`update ${input.workflowExecution.workflowId}`, () => next(input)),
  };
  const goals = await watchedGoals(h, recorder);
  const server = createServer({ goals, toolsets: ['all'], context: { agentId: agent } });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'recorded', version: '1.0.0' });
  await client.connect(clientSide);
  return { client, seen };
}

test('a completion records a success on its agent’s HALF_OPEN breaker, read beside the completion’s Update', async () => {
  const agent = uid('probe');
  const { client: recorded, seen } = await recordedServer(agent);
  try {
    const goalId = await goalForAProbe(recorded, agent, ['the probe']);
    const probe = await ok(recorded, 'get_next_task', { goal_id: goalId });
    expect(probe.claimed).toBe(true);

    seen.length = 0;
    const done = await ok(recorded, 'update_task_status', { task_id: probe.id, status: 'completed', result: 'ok' });
    expect(done.status).toBe('completed');
    expect((await ok(recorded, 'circuit_breaker_status', { agent_id: agent })).state).toBe('CLOSED');
    // The breaker was read while the goal applied the completion, not after its answer.
    const readSent = seen.indexOf(`describe breaker-${agent} sent`);
    const completionAnswered = seen.findIndex((e) => e.startsWith(`update goal-${goalId}`) && e.endsWith('answered'));
    expect(readSent).toBeGreaterThanOrEqual(0);
    expect(completionAnswered).toBeGreaterThan(readSent);
  } finally {
    await recorded.close();
  }
});

test('a claim goes out beside its agent’s breaker read, and goes back when the read finds the breaker tripped elsewhere', async () => {
  const agent = uid('beside');
  const { client, seen } = await recordedServer(agent);
  try {
    const { goal_id: goalId } = await ok(client, 'create_goal', { name: `beside ${agent}` });
    for (const title of ['one', 'two', 'three']) await ok(client, 'create_task', { goal_id: goalId, title });
    await ok(client, 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'timeout' }); // CLOSED
    // Changed here a moment ago: this claim waits for the read.
    expect(await ok(client, 'get_next_task', { goal_id: goalId })).toMatchObject({ claimed: true, title: 'one' });

    // Read CLOSED, and the read is older than its reuse: the next claim is sent before the read has answered.
    await sleep(BREAKER_CACHE_MS + 100);
    seen.length = 0;
    expect(await ok(client, 'get_next_task', { goal_id: goalId })).toMatchObject({ claimed: true, title: 'two' });
    const claimSent = seen.findIndex((e) => e.startsWith(`update goal-${goalId}`) && e.endsWith('sent'));
    expect(seen).toContain(`describe breaker-${agent} sent`);
    expect(claimSent).toBeGreaterThanOrEqual(0);
    expect(claimSent).toBeLessThan(seen.indexOf(`describe breaker-${agent} answered`));

    // Tripped by another process: the claim made beside the read is sent back, and the agent is refused.
    await tripElsewhere(agent);
    await sleep(BREAKER_CACHE_MS + 100);
    const refused = await call(client, 'get_next_task', { goal_id: goalId });
    expect(refused.error?.code).toBe('BREAKER_OPEN');
    const three = await h.goals.getTask(`${goalId}/3`);
    expect(three).toMatchObject({ title: 'three', status: 'ready', agent_id: null, attempts: 0 });
    const events = await h.goals.queryGoal(goalId, getEventsQuery, { limit: 100 });
    const undone = events.filter((e) => e.type === 'task_released' && e.task_id === `${goalId}/3`);
    expect(undone.map((e) => e.detail)).toEqual([
      `was held by ${agent}; a claim undone: the agent’s circuit breaker was not closed`,
    ]);
    // Anyone else takes it.
    expect(await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: uid('other') })).toMatchObject({
      title: 'three',
    });
  } finally {
    await client.close();
  }
});

test('a registered agent’s claim undone beside its breaker read is not noted on its row', async () => {
  const agent = uid('registered-beside');
  await ok(mcp, 'register_agent', { name: agent, capabilities: ['x'] });
  const { goal_id: goalId } = await ok(mcp, 'create_goal', { name: `beside ${agent}` });
  for (const title of ['one', 'two']) await ok(mcp, 'create_task', { goal_id: goalId, title });
  await ok(mcp, 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'timeout' }); // CLOSED
  expect(await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).toMatchObject({ title: 'one' });
  await tripElsewhere(agent);
  await sleep(BREAKER_CACHE_MS + 100);
  expect((await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).error?.code).toBe('BREAKER_OPEN');
  expect(await h.goals.getTask(`${goalId}/2`)).toMatchObject({ status: 'ready', agent_id: null, attempts: 0 });
  const events = await h.goals.queryGoal(goalId, getEventsQuery, { limit: 100 });
  expect(events.filter((e) => e.type === 'task_released').map((e) => e.task_id)).toEqual([`${goalId}/2`]);
  const row = await ok(mcp, 'get_agent_task_history', { agent_id: agent });
  expect(row.current_task).toMatchObject({ id: `${goalId}/1`, title: 'one' });
  expect(row.history.map((e: any) => `${e.event} ${e.task_id}`)).toEqual([`taken ${goalId}/1`]);
});

test('a registered agent’s HALF_OPEN probe completed with complete_task closes its breaker, and it claims again', async () => {
  const agent = uid('registered');
  await ok(mcp, 'register_agent', { name: agent, capabilities: ['x'] });
  const goalId = await goalForAProbe(mcp, agent, ['probe', 'next']);
  const probe = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
  expect(probe).toMatchObject({ claimed: true, title: 'probe' });
  expect(await ok(mcp, 'complete_task', { agent_id: agent, result: 'ok' })).toMatchObject({ status: 'completed' });
  expect((await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).state).toBe('CLOSED');
  expect(await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).toMatchObject({ claimed: true });
});

test('a breaker bound to a task queue no worker polls any more still refuses its agent and names its fallback', async () => {
  const agent = uid('moved');
  // The breaker made by a worker on another task queue (as before a change of AGENT_RUNTIME_TASK_QUEUE), then that
  // worker gone: its workflow stays bound to the old queue, which nobody polls.
  const before = await startHarness();
  const old = await before.mcp('breaker-before', ['all']);
  await ok(old, 'circuit_breaker_configure', { agent_id: agent, fallback_agent: 'reviewer' });
  await ok(old, 'circuit_breaker_trip', { agent_id: agent, reason: 'before the move' });
  await before.close();

  const { goal_id: goalId } = await ok(mcp, 'create_goal', { name: `moved ${agent}` });
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'one' });
  // Read from the breaker's memo, which the server answers with no worker: OPEN, not "did not answer, so closed".
  const refused = await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent });
  expect(refused.error).toMatchObject({ code: 'BREAKER_OPEN', details: { fallback_agent: 'reviewer' } });
  expect(await h.goals.getTask(`${goalId}/1`)).toMatchObject({ status: 'ready', agent_id: null, attempts: 0 });
  expect(await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'reviewer' })).toMatchObject({ title: 'one' });
});

test('a breaker terminated from the CLI no longer holds its agent back: it reads as a fresh CLOSED breaker', async () => {
  const agent = uid('terminated');
  const { goal_id: goalId } = await ok(mcp, 'create_goal', { name: `terminated ${agent}` });
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'one' });
  await ok(mcp, 'circuit_breaker_trip', { agent_id: agent });
  expect((await call(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).error?.code).toBe('BREAKER_OPEN');
  await promisify(execFile)(process.env.TEMPORAL_CLI_PATH as string, [
    ...['workflow', 'terminate', '-w', `breaker-${agent}`, '--reason', 'cleared by hand'],
    ...['--address', h.config.temporalAddress],
  ]);
  await sleep(BREAKER_CACHE_MS + 100); // this server's read of it lapses
  expect(await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: agent })).toMatchObject({ title: 'one' });
  expect(await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).toMatchObject({
    state: 'CLOSED',
    total_failures: 0,
    transitions: [],
  });
  // The next change starts a new breaker, as for an agent that never had one.
  expect(await ok(mcp, 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'timeout' })).toMatchObject({
    state: 'CLOSED',
    total_failures: 1,
  });
});

describe('bad input returns isError with a code and changes nothing', () => {
  const agent = uid('strict');
  let before: unknown;
  beforeAll(async () => {
    await failN(agent, 2);
    before = await ok(mcp, 'circuit_breaker_status', { agent_id: agent });
  });
  afterAll(async () => {
    const after = await ok(mcp, 'circuit_breaker_status', { agent_id: agent });
    expect({ ...after, recent_failures: [] }).toEqual({ ...(before as object), recent_failures: [] });
  });
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['unknown failure_type', 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'cosmic_ray' }],
    ['negative threshold', 'circuit_breaker_configure', { agent_id: agent, failure_threshold: -1 }],
    ['zero window', 'circuit_breaker_configure', { agent_id: agent, window_seconds: 0 }],
    ['zero success threshold', 'circuit_breaker_configure', { agent_id: agent, success_threshold: 0 }],
    ['missing agent', 'circuit_breaker_trip', {}],
  ];
  test.each(cases)('%s (%s)', async (_what, tool, args) => {
    const r = await call(mcp, tool, args);
    expect(r.isError).toBe(true);
    expect(r.error?.code).toBe('INVALID_ARGUMENT');
  });
});
