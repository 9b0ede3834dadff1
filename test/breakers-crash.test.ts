/**
 * The cooldown is a durable timer and the failure window is workflow state: a killed worker changes neither.
 */
import { eventually, ok, uid, useWorkerProcess } from './support/harness';

const env = useWorkerProcess();

test('OPEN turns HALF_OPEN when the worker was killed during the cooldown and restarted after it ended', async () => {
  const agent = uid('sleeper');
  await ok(env.mcp, 'circuit_breaker_configure', { agent_id: agent, cooldown_seconds: 2 });
  expect((await ok(env.mcp, 'circuit_breaker_trip', { agent_id: agent })).state).toBe('OPEN');
  await env.kill();
  await new Promise((r) => setTimeout(r, 3000)); // the cooldown ends while no worker runs
  env.start();
  const s = await eventually(
    async () => {
      const v = await ok(env.mcp, 'circuit_breaker_status', { agent_id: agent });
      return v.state === 'HALF_OPEN' ? v : undefined;
    },
    60_000,
    250,
  );
  expect(s.transitions.at(-1).reason).toMatch(/cooldown of 2 s ended/);
}, 120_000);

test('a restart does not forget the failures inside the window', async () => {
  const agent = uid('remember');
  await ok(env.mcp, 'circuit_breaker_configure', { agent_id: agent, window_seconds: 600 });
  for (let i = 0; i < 4; i++) {
    await ok(env.mcp, 'circuit_breaker_record_failure', {
      agent_id: agent,
      failure_type: 'timeout',
      error_message: `t${i}`,
    });
  }
  await env.kill();
  env.start();
  const fifth = await ok(env.mcp, 'circuit_breaker_record_failure', { agent_id: agent, failure_type: 'rate_limited' });
  expect(fifth).toMatchObject({ state: 'OPEN', failures_in_window: 5 });
}, 120_000);
