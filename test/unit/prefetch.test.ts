/**
 * The prefetch bookkeeping (client/prefetch.ts) without a server: who gets a reservation, when it is delivered, and
 * when it goes back.
 */
import { createPrefetch, type LoopFilter, type Reservation } from '../../src/client/prefetch';
import type { ClaimResult, Task } from '../../src/domain/schemas';
import { PREFETCH_MS_DEFAULT, prefetchMsFrom } from '../../src/client/goals';

function claim(id: string, agentId: string, token: number): ClaimResult {
  const task = { id, agent_id: agentId, status: 'claimed', lease_token: token } as unknown as Task;
  return { task, lease_token: token, lease_expires_at: null };
}

function setup(holdMs = 1000) {
  let clock = 0;
  const released: Reservation[] = [];
  const p = createPrefetch({ holdMs, release: (r) => released.push(r), now: () => clock });
  return {
    p,
    released,
    advance: (ms: number) => (clock += ms),
  };
}

const G: LoopFilter = { goalId: 'g' };

/** The agent claims, completes and comes back at once: from now on it is seen to loop. */
function looping(p: ReturnType<typeof setup>['p'], advance: (ms: number) => void, filter = G) {
  p.take('a', filter);
  advance(50);
  p.completed('a', filter.goalId, undefined);
  advance(2);
  p.take('a', filter);
  advance(50);
}

test('an agent seen to loop has its next task reserved; the next matching claim takes it once', () => {
  const { p, advance } = setup();
  expect(p.take('a', G)).toBeUndefined();
  advance(50);
  expect(p.ask('a', 'g')).toBeUndefined(); // one task so far: no loop seen
  p.completed('a', 'g', undefined);
  advance(2);
  expect(p.take('a', G)).toBeUndefined();
  advance(50);
  expect(p.ask('a', 'g')).toEqual({ scope: undefined, tags: undefined, leaseSeconds: undefined });
  expect(p.ask('a', 'other-goal')).toBeUndefined();
  p.completed('a', 'g', claim('g/2', 'a', 7));
  expect(p.held()).toBe(1);
  expect(p.ask('a', 'g')).toBeUndefined(); // one reservation at a time
  advance(2);
  expect(p.take('a', G)?.claim.task?.id).toBe('g/2');
  expect(p.held()).toBe(0);
  expect(p.take('a', G)).toBeUndefined();
});

test('a slow worker is not prefetched for, until it comes back quickly after a completion', () => {
  const { p, advance } = setup();
  p.take('a', G);
  advance(5000); // worked for 5 s
  expect(p.ask('a', 'g')).toBeUndefined();
  p.completed('a', 'g', undefined);
  advance(3000); // thought for 3 s before asking again
  p.take('a', G);
  advance(5000);
  expect(p.ask('a', 'g')).toBeUndefined();
  p.completed('a', 'g', undefined);
  advance(10); // back at once: a loop
  p.take('a', G);
  advance(5000);
  expect(p.ask('a', 'g')).toBeDefined();
  // Another goal, or another filter, is not the same loop.
  expect(p.ask('a', 'other')).toBeUndefined();
  p.completed('a', 'g', undefined);
  advance(10);
  p.take('a', { goalId: 'g', scope: 'src' });
  expect(p.ask('a', 'g')).toBeUndefined();
});

test('a reservation not picked up within the hold is released, once', () => {
  jest.useFakeTimers();
  try {
    const { p, released, advance } = setup(1000);
    looping(p, advance);
    p.completed('a', 'g', claim('g/2', 'a', 3));
    jest.advanceTimersByTime(999);
    expect(released).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(released.map((r) => r.claim.task?.id)).toEqual(['g/2']);
    expect(p.take('a', G)).toBeUndefined();
    jest.advanceTimersByTime(5000);
    expect(released).toHaveLength(1);
  } finally {
    jest.useRealTimers();
  }
});

test('a claim with another filter, or one that must be answerable again, releases the reservation', () => {
  const { p, released, advance } = setup();
  looping(p, advance);
  p.completed('a', 'g', claim('g/2', 'a', 3));
  expect(p.take('a', { goalId: 'g', scope: 'src/api' })).toBeUndefined();
  expect(released.map((r) => r.claim.task?.id)).toEqual(['g/2']);

  looping(p, advance);
  p.completed('a', 'g', claim('g/3', 'a', 4));
  expect(p.take('a', undefined)).toBeUndefined();
  expect(released.map((r) => r.claim.task?.id)).toEqual(['g/2', 'g/3']);
});

test('tags in another order are the same filter', () => {
  const { p, advance } = setup();
  looping(p, advance, { goalId: 'g', tags: ['x', 'y'] });
  p.completed('a', 'g', claim('g/2', 'a', 3));
  expect(p.take('a', { goalId: 'g', tags: ['y', 'x'] })?.claim.task?.id).toBe('g/2');
});

test('a retried completion does not deliver its reservation a second time', () => {
  const { p, advance } = setup();
  looping(p, advance);
  const first = claim('g/2', 'a', 3);
  p.completed('a', 'g', first);
  expect(p.take('a', G)).toBeDefined();
  p.completed('a', 'g', first); // the same answer again (a retry of the same request)
  expect(p.held()).toBe(0);
  // Nor one the agent no longer holds unstarted.
  const started = claim('g/4', 'a', 9);
  (started.task as Task).status = 'in_progress';
  p.completed('a', 'g', started);
  expect(p.held()).toBe(0);
});

test('a completion retried while its reservation waits keeps it: not sent back, still delivered once', () => {
  const { p, advance, released } = setup();
  looping(p, advance);
  const first = claim('g/2', 'a', 3);
  expect(p.completed('a', 'g', first)).toBe(true);
  expect(p.completed('a', 'g', first)).toBe(false); // the retry's answer carries the same reservation
  expect(released).toEqual([]);
  expect(p.heldFor('a')?.claim.lease_token).toBe(3);
  expect(p.take('a', G)?.claim.task?.id).toBe('g/2');
  expect(p.heldFor('a')).toBeUndefined();
});

test('off (0 ms): nothing is asked for or kept', () => {
  const { p, advance } = setup(0);
  looping(p, advance);
  expect(p.ask('a', 'g')).toBeUndefined();
  p.completed('a', 'g', claim('g/2', 'a', 3));
  expect(p.held()).toBe(0);
});

test('a reservation handed over and not taken ends the loop: the next completion reserves nothing', () => {
  const { p, advance } = setup();
  looping(p, advance);
  expect(p.completed('a', 'g', claim('g/2', 'a', 3))).toBe(true);
  advance(2);
  const r = p.take('a', G); // taken at once, to be handed to the agent's front
  expect(r?.claim.task?.id).toBe('g/2');
  p.forgetLoop('a'); // the agent called something else: it came back not taken
  expect(p.ask('a', 'g')).toBeUndefined();
  // Seen to loop again only after a claim that follows a completion within the hold.
  advance(5000);
  p.take('a', G);
  advance(50);
  expect(p.ask('a', 'g')).toBeUndefined();
  p.completed('a', 'g', undefined);
  advance(2);
  p.take('a', G);
  expect(p.ask('a', 'g')).toBeDefined();
});

test('releaseAll sends back every reservation still held', () => {
  const { p, released, advance } = setup();
  for (const a of ['a', 'b']) {
    p.take(a, G);
    p.completed(a, 'g', undefined);
    advance(1);
    p.take(a, G);
    p.completed(a, 'g', claim(`g/${a}`, a, 1));
  }
  p.releaseAll();
  expect(released.map((r) => r.agentId).sort()).toEqual(['a', 'b']);
  expect(p.held()).toBe(0);
});

test('AGENT_RUNTIME_PREFETCH_MS: default 1000, 0 turns it off, anything else is refused with the range', () => {
  expect(prefetchMsFrom({})).toBe(PREFETCH_MS_DEFAULT);
  expect(PREFETCH_MS_DEFAULT).toBe(1000);
  expect(prefetchMsFrom({ AGENT_RUNTIME_PREFETCH_MS: '0' })).toBe(0);
  expect(prefetchMsFrom({ AGENT_RUNTIME_PREFETCH_MS: ' 250 ' })).toBe(250);
  for (const bad of ['-1', '1.5', 'soon', '60001']) {
    expect(() => prefetchMsFrom({ AGENT_RUNTIME_PREFETCH_MS: bad })).toThrow(/from 0 \(off\) to 60000/);
  }
});
