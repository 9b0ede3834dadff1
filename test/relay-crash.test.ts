/** The worker process is SIGKILLed mid-pipeline and restarted: the baton, scores and tokens are all still there. */
import { setTimeout as sleep } from 'node:timers/promises';
import { BREAKER_CACHE_MS } from '../src/client/breakers';
import { ok, uid, useWorkerProcess } from './support/harness';

const env = useWorkerProcess();

test('the worker killed mid-pipeline loses nothing', async () => {
  const types = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'researcher' : 'analyzer'));
  const id = (
    await ok(env.mcp, 'create_relay_pipeline', { name: uid('crash-relay'), goal: 'survive', agent_types: types })
  ).pipeline_id;
  const advance = (i: number) =>
    ok(env.mcp, 'advance_relay', {
      pipeline_id: id,
      quality_score: 0.9,
      l_score: 0.5,
      tokens_used: 10,
      output_summary: `out ${i}`,
    });
  for (let i = 0; i < 4; i++) await advance(i);

  await env.kill();
  const pending = advance(4); // sent while no worker runs: applied once a worker is back
  await new Promise((r) => setTimeout(r, 500));
  env.start();
  expect((await pending).outcome).toBe('advanced');

  const baton = (await ok(env.mcp, 'get_relay_baton', { pipeline_id: id })).baton;
  expect(baton).toMatchObject({ sequence_position: 6, input_summary: 'out 4', tokens_used: 50 });
  for (let i = 5; i < 10; i++) await advance(i);
  const status = await ok(env.mcp, 'get_relay_status', { pipeline_id: id });
  expect(status).toMatchObject({ status: 'completed', tokens_used: 100, progress_percent: 100 });
  expect(status.quality_chain).toHaveLength(10);
}, 120_000);

test('with no worker running, the next agent still reads the baton the last advance handed on', async () => {
  const id = (
    await ok(env.mcp, 'create_relay_pipeline', {
      name: uid('memo-relay'),
      goal: 'read without a worker',
      agent_types: ['researcher', 'analyzer', 'writer'],
    })
  ).pipeline_id;
  for (const summary of ['found', 'weighed']) {
    await ok(env.mcp, 'advance_relay', {
      pipeline_id: id,
      quality_score: 0.9,
      l_score: 0.5,
      tokens_used: 10,
      output_summary: summary,
    });
  }
  await env.kill();
  try {
    // The workflow keeps its baton in its memo: the server answers the read alone, no worker is asked.
    const { baton } = await ok(env.mcp, 'get_relay_baton', { pipeline_id: id });
    expect(baton).toMatchObject({
      sequence_position: 3,
      agent_type: 'writer',
      input_summary: 'weighed',
      tokens_used: 20,
    });
    expect(baton.prompt).toContain('weighed');
  } finally {
    env.start();
  }
  // The worker back, the pipeline goes on from there.
  const last = await ok(env.mcp, 'advance_relay', {
    pipeline_id: id,
    quality_score: 0.9,
    l_score: 0.5,
    tokens_used: 5,
  });
  expect(last.outcome).toBe('pipeline_completed');
  expect((await ok(env.mcp, 'get_relay_baton', { pipeline_id: id })).baton).toBeNull();
}, 120_000);

test('with no worker running, a baton whose agent type has an OPEN breaker still names its fallback', async () => {
  const writer = uid('writer');
  const id = (
    await ok(env.mcp, 'create_relay_pipeline', {
      name: uid('open-relay'),
      goal: 'route around an OPEN breaker without a worker',
      agent_types: [uid('researcher'), writer],
    })
  ).pipeline_id;
  await ok(env.mcp, 'circuit_breaker_configure', { agent_id: writer, fallback_agent: 'editor' });
  await ok(env.mcp, 'circuit_breaker_trip', { agent_id: writer, reason: 'rate limited' });
  await ok(env.mcp, 'advance_relay', {
    pipeline_id: id,
    quality_score: 0.9,
    l_score: 0.5,
    tokens_used: 10,
    output_summary: 'found',
  });
  await env.kill();
  try {
    await sleep(BREAKER_CACHE_MS + 100); // the advance's own read of the breaker lapses: the next one asks again
    // The breaker keeps what a claim needs in its memo, which the server answers with no worker.
    const { baton } = await ok(env.mcp, 'get_relay_baton', { pipeline_id: id });
    expect(baton).toMatchObject({ agent_type: writer, fallback_agent: 'editor', input_summary: 'found' });
    expect(baton.prompt).toContain(`the circuit breaker of ${writer} is OPEN, so editor takes this step`);
  } finally {
    env.start();
  }
}, 120_000);
