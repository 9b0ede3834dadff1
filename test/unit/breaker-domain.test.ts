/** Circuit breakers as pure functions. */
import * as b from '../../src/domain/breaker';
import { DomainError } from '../../src/domain/errors';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const fail = (s: b.BreakerState, at: number) =>
  b.recordFailure(s, { failureType: 'timeout', errorMessage: 'slow' }, at);

test('five failures inside the window open it; failures outside the window do not', () => {
  const s = b.newBreakerState('coder', T0);
  for (let i = 0; i < 4; i++) fail(s, T0 + i * 20_000); // spread over 80 s: never 5 inside 60 s
  fail(s, T0 + 100_000);
  expect(s.state).toBe('CLOSED');
  for (let i = 0; i < 5; i++) fail(s, T0 + 200_000 + i);
  expect(s.state).toBe('OPEN');
  expect(s.transitions.at(-1)?.reason).toMatch(/5 failures within 60 s/);
});

test('OPEN → HALF_OPEN after the cooldown; probes are limited; two successes close it; a failure reopens', () => {
  const s = b.newBreakerState('coder', T0, { cooldown_seconds: 2 });
  b.trip(s, 'testing', T0);
  expect(() => b.checkAdmit(s, T0 + 1000)).toThrow(DomainError);
  expect(b.endCooldown(s, T0 + 1999)).toBe(false);
  expect(b.endCooldown(s, T0 + 2000)).toBe(true);
  expect(b.admit(s, T0 + 2000)).toEqual({ state: 'HALF_OPEN', probe: true });
  expect(() => b.admit(s, T0 + 2000)).toThrow(/probe/);
  b.recordSuccess(s, T0 + 2100);
  b.recordSuccess(s, T0 + 2200);
  expect(s.state).toBe('CLOSED');
  b.trip(s, undefined, T0 + 3000);
  b.endCooldown(s, T0 + 5000);
  fail(s, T0 + 5001);
  expect(s.state).toBe('OPEN');
});

test('an OPEN refusal says how long is left and names the fallback', () => {
  const s = b.newBreakerState('coder', T0, { fallback_agent: 'helper' });
  b.trip(s, undefined, T0);
  try {
    b.checkAdmit(s, T0 + 100_000);
    throw new Error('admitted');
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BREAKER_OPEN');
    expect((err as DomainError).details).toEqual({
      agent_id: 'coder',
      cooldown_remaining_seconds: 200,
      fallback_agent: 'helper',
    });
  }
});

test('status reports counts, the window, the cooldown left and transitions', () => {
  const s = b.newBreakerState('coder', T0);
  for (let i = 0; i < 5; i++) fail(s, T0);
  const v = b.statusOf(s, T0 + 60_000 - 1);
  expect(v).toMatchObject({ state: 'OPEN', failures_in_window: 5, cooldown_remaining_seconds: 241, total_failures: 5 });
  const md = b.renderBreakerDetails(s, T0);
  expect(md).toContain('🔴 coder: OPEN');
  // The cooldown's end as an absolute time, true whenever the details are read.
  const end = new Date(b.cooldownEndsAt(s) as number)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
  expect(md).toContain(`(until ${end} UTC)`);
  expect(md).not.toMatch(/s left/);
  expect(md.endsWith('\n\u00a0\n')).toBe(true);
  b.reset(s, T0 + 1);
  expect(b.statusOf(s, T0 + 1)).toMatchObject({
    state: 'CLOSED',
    failures_in_window: 0,
    cooldown_remaining_seconds: null,
  });
});

test('the gate a claim reads from the memo admits and refuses as the full state does, and survives JSON', () => {
  const s = b.newBreakerState('coder', T0, { cooldown_seconds: 2, fallback_agent: 'helper' });
  const gateNow = () => b.asGate(JSON.parse(JSON.stringify(b.gateOf(s))));
  expect(gateNow()).toEqual({
    agent_id: 'coder',
    state: 'CLOSED',
    opened_at: null,
    half_open_calls: 0,
    config: { cooldown_seconds: 2, half_open_max_calls: 1, fallback_agent: 'helper' },
  });
  b.trip(s, 'testing', T0);
  const open = gateNow() as b.BreakerGate;
  expect(() => b.checkAdmit(open, T0 + 1000)).toThrow(/OPEN: 1 s of cooldown left\. Route the work to helper/);
  b.endCooldown(s, T0 + 2000); // the durable timer
  expect(() => b.checkAdmit(gateNow() as b.BreakerGate, T0 + 2000)).not.toThrow(); // HALF_OPEN: a probe is free
  b.admit(s, T0 + 2000);
  expect(() => b.checkAdmit(gateNow() as b.BreakerGate, T0 + 2000)).toThrow(/probe\(s\) are in use/);
});

test('a memo that is not a gate (a run from before the memo, or anything else) is not read as one', () => {
  const gate = b.gateOf(b.newBreakerState('coder', T0));
  expect(b.asGate(undefined)).toBeUndefined();
  expect(b.asGate('OPEN')).toBeUndefined();
  expect(b.asGate({ ...gate, state: 'AJAR' })).toBeUndefined();
  expect(b.asGate({ ...gate, config: { cooldown_seconds: 300 } })).toBeUndefined();
  expect(b.asGate({ ...gate, half_open_calls: '0' })).toBeUndefined();
  expect(b.asGate(gate)).toEqual(gate);
});
