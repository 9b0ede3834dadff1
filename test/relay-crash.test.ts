/** The worker process is SIGKILLed mid-pipeline and restarted: the baton, scores and tokens are all still there. */
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { killHard, ok, spawnWorker, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
let mcp: Client;
let worker: ChildProcess;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  worker = spawnWorker(h.config);
  mcp = await h.mcp();
});
afterAll(async () => {
  await killHard(worker);
  await h.close();
});

test('the worker killed mid-pipeline loses nothing', async () => {
  const types = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'researcher' : 'analyzer'));
  const id = (await ok(mcp, 'create_relay_pipeline', { name: uid('crash-relay'), goal: 'survive', agent_types: types }))
    .pipeline_id;
  const advance = (i: number) =>
    ok(mcp, 'advance_relay', {
      pipeline_id: id,
      quality_score: 0.9,
      l_score: 0.5,
      tokens_used: 10,
      output_summary: `out ${i}`,
    });
  for (let i = 0; i < 4; i++) await advance(i);

  await killHard(worker);
  const pending = advance(4); // sent while no worker runs: applied once a worker is back
  await new Promise((r) => setTimeout(r, 500));
  worker = spawnWorker(h.config);
  expect((await pending).outcome).toBe('advanced');

  const baton = (await ok(mcp, 'get_relay_baton', { pipeline_id: id })).baton;
  expect(baton).toMatchObject({ sequence_position: 6, input_summary: 'out 4', tokens_used: 50 });
  for (let i = 5; i < 10; i++) await advance(i);
  const status = await ok(mcp, 'get_relay_status', { pipeline_id: id });
  expect(status).toMatchObject({ status: 'completed', tokens_used: 100, progress_percent: 100 });
  expect(status.quality_chain).toHaveLength(10);
}, 120_000);
