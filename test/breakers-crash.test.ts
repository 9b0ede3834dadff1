/**
 * The cooldown is a durable timer and the failure window is workflow state: a killed worker changes neither.
 */
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { eventually, killHard, ok, spawnWorker, startHarness, uid, type Harness } from './support/harness';

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

test('OPEN turns HALF_OPEN when the worker was killed during the cooldown and restarted after it ended', async () => {
  const agent = uid('sleeper');
  await ok(mcp, 'circuit_breaker_configure', { agent_id: agent, cooldown_seconds: 2 });
  expect((await ok(mcp, 'circuit_breaker_trip', { agent_id: agent })).state).toBe('OPEN');
  await killHard(worker);
  await new Promise((r) => setTimeout(r, 3000)); // the cooldown ends while no worker runs
  worker = spawnWorker(h.config);
  const s = await eventually(
    async () => {
      const v = await ok(mcp, 'circuit_breaker_status', { agent_id: agent });
      return v.state === 'HALF_OPEN' ? v : undefined;
    },
    60_000,
    250,
  );
  expect(s.transitions.at(-1).reason).toMatch(/cooldown of 2 s ended/);
}, 120_000);

test('a restart does not forget the failures inside the window', async () => {
  const agent = uid('remember');
  await ok(mcp, 'circuit_breaker_configure', { agent_id: agent, window_seconds: 600 });
  for (let i = 0; i < 4; i++) {
    await ok(mcp, 'circuit_breaker_record_failure', {
      agent_id: agent,
      failure_type: 'timeout',
      error_message: `t${i}`,
    });
  }
  await killHard(worker);
  worker = spawnWorker(h.config);
  const fifth = await ok(mcp, 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'rate_limited' });
  expect(fifth).toMatchObject({ state: 'OPEN', failures_in_window: 5 });
}, 120_000);
