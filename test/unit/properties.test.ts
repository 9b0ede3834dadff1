/**
 * Property-based tests of the domain state machines (no server): random sequences of operations, valid and invalid,
 * from several agents and with time passing, must keep the invariants the runtime promises —
 * - goals: one holder per task (a claim never hands out a held task), lease tokens only grow, the dependency graph
 *   stays acyclic, readiness follows dependencies, and a refused operation changes nothing;
 * - breakers: every transition is a legal one and the recorded transitions form one chain;
 * - relays: the current step only moves forward, a passed step is never advanced again, and outputs once written stay.
 */
import fc from 'fast-check';
import { DomainError } from '../../src/domain/errors';
import * as g from '../../src/domain/goal';
import * as b from '../../src/domain/breaker';
import * as r from '../../src/domain/relay';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const AGENTS = ['a1', 'a2', 'a3'];
const RUNS = { numRuns: 300 };

/** Runs `op`; a DomainError (a refusal) must leave the state exactly as it was. Returns whether it was applied. */
function attempt<S>(state: S, op: () => unknown): boolean {
  const before = JSON.stringify(state);
  try {
    op();
    return true;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    expect(JSON.stringify(state)).toBe(before);
    return false;
  }
}

// ------------------------------------------------------------------------------------------------- goals

type GoalOp =
  | { kind: 'claimNext'; agent: number; lease: number }
  | { kind: 'claimId'; agent: number; task: number }
  | { kind: 'start' | 'complete' | 'fail' | 'release' | 'heartbeat'; agent: number; task: number; stale: boolean }
  | { kind: 'retry' | 'recover' | 'cancel'; task: number }
  | { kind: 'add'; deps: number[][] }
  | { kind: 'time'; ms: number };

const goalOp: fc.Arbitrary<GoalOp> = fc.oneof(
  fc.record({ kind: fc.constant('claimNext' as const), agent: fc.nat(2), lease: fc.constantFrom(0, 0, 5, 30) }),
  fc.record({ kind: fc.constant('claimId' as const), agent: fc.nat(2), task: fc.nat(11) }),
  fc.record({
    kind: fc.constantFrom(
      'start' as const,
      'complete' as const,
      'fail' as const,
      'release' as const,
      'heartbeat' as const,
    ),
    agent: fc.nat(2),
    task: fc.nat(11),
    stale: fc.boolean(),
  }),
  fc.record({ kind: fc.constantFrom('retry' as const, 'recover' as const, 'cancel' as const), task: fc.nat(11) }),
  fc.record({
    kind: fc.constant('add' as const),
    // dependencies as plan indexes (forward ones can close a cycle: it must be refused) or existing task numbers
    deps: fc.array(fc.array(fc.integer({ min: -4, max: 3 }), { maxLength: 2 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.constantFrom(1_000, 10_000, 60_000, 400_000) }),
);

function checkGoalInvariants(s: g.GoalState): void {
  const byId = new Map(s.tasks.map((t) => [t.id, t]));
  for (const t of s.tasks) {
    const held = t.status === 'claimed' || t.status === 'in_progress';
    if (held) {
      expect(t.agent_id).not.toBeNull();
      expect(t.lease_token).not.toBeNull();
      expect(t.lease_token).toBeLessThanOrEqual(s.leaseEpoch);
    }
    const open = t.dependencies.filter((d) => byId.get(d)?.status !== 'completed');
    if (t.status === 'ready') expect(open).toEqual([]);
    if (t.status === 'pending') expect(open.length).toBeGreaterThan(0);
  }
  expect(
    g.findCycle(
      s.tasks.map((t) => t.id),
      s.tasks.map((t) => t.dependencies),
    ),
  ).toBeUndefined();
}

test('goals: random operations keep one holder per task, growing lease tokens and an acyclic graph', () => {
  fc.assert(
    fc.property(fc.array(goalOp, { minLength: 1, maxLength: 60 }), (ops) => {
      let now = T0;
      const s = g.newGoalState({ id: 'p', name: 'property' }, now);
      g.addTasks(s, [{ title: 't0' }, { title: 't1', dependencies: [0] }, { title: 't2' }, { title: 't3' }], now);
      const holder = new Map<string, { agent: string; token: number }>(); // the model: who holds what
      let lastToken = 0;
      const idOf = (n: number) => `p/${n + 1}`;
      const claimed = (res: { task: unknown; lease_token: number | null }, agent: string): void => {
        const task = res.task as { id: string } | null;
        if (!task || res.lease_token === null) return;
        expect(holder.has(task.id)).toBe(false); // never handed out while held
        expect(res.lease_token).toBeGreaterThan(lastToken); // tokens only grow
        lastToken = res.lease_token;
        holder.set(task.id, { agent, token: res.lease_token });
      };
      const syncModel = (): void => {
        // what left its holder (completed, failed, released, expired, recovered, cancelled) leaves the model
        for (const [id, h] of holder) {
          const t = g.findTask(s, id);
          if (!t || (t.status !== 'claimed' && t.status !== 'in_progress') || t.lease_token !== h.token) {
            holder.delete(id);
          }
        }
      };
      for (const op of ops) {
        const agent = AGENTS[(op as { agent?: number }).agent ?? 0] as string;
        switch (op.kind) {
          case 'claimNext': {
            const next = g.pickNextTask(s, { agentId: agent });
            if (next) claimed(g.claimTask(s, { agentId: agent, taskId: next.id, leaseSeconds: op.lease }, now), agent);
            break;
          }
          case 'claimId':
            attempt(s, () => claimed(g.claimTask(s, { agentId: agent, taskId: idOf(op.task) }, now), agent));
            break;
          case 'start':
          case 'complete':
          case 'fail':
          case 'release':
          case 'heartbeat': {
            const taskId = idOf(op.task);
            const token = op.stale ? 1 : holder.get(taskId)?.token;
            const input = { taskId, agentId: agent, ...(token !== undefined ? { leaseToken: token } : {}) };
            attempt(s, () => {
              if (op.kind === 'start') g.startTask(s, input, now);
              else if (op.kind === 'complete') g.completeTask(s, { ...input, result: 'r' }, now);
              else if (op.kind === 'fail') g.failTask(s, { ...input, error: 'e' }, now);
              else if (op.kind === 'release') g.releaseTask(s, input, now);
              else g.heartbeat(s, { taskId, agentId: agent }, now);
            });
            // a start of a ready task claims it on the spot
            const t = g.findTask(s, taskId);
            if (op.kind === 'start' && t?.status === 'in_progress' && !holder.has(taskId) && t.lease_token !== null) {
              expect(t.lease_token).toBeGreaterThan(lastToken);
              lastToken = t.lease_token;
              holder.set(taskId, { agent: t.agent_id as string, token: t.lease_token });
            }
            break;
          }
          case 'retry':
            attempt(s, () => g.retryTask(s, idOf(op.task), now));
            break;
          case 'recover':
            attempt(s, () => g.recoverTask(s, idOf(op.task), 'property', now));
            break;
          case 'cancel':
            attempt(s, () => g.cancelTask(s, idOf(op.task), 'property', now));
            break;
          case 'add': {
            const base = s.tasks.length;
            const specs = op.deps.map((deps, i) => ({
              title: `n${base + i}`,
              // negative: an existing task (by number from the end); else an index into this plan
              dependencies: deps
                .map((d) => (d < 0 ? (base + d >= 0 ? idOf(base + d) : undefined) : d))
                .filter((d): d is string | number => d !== undefined && d !== i),
            }));
            if (base + specs.length <= 12) attempt(s, () => g.addTasks(s, specs, now));
            break;
          }
          case 'time':
            now += op.ms;
            g.expireLeases(s, now);
            break;
        }
        syncModel();
        checkGoalInvariants(s);
      }
    }),
    RUNS,
  );
});

// ------------------------------------------------------------------------------------------------- breakers

const LEGAL = new Set([
  'CLOSED>OPEN',
  'OPEN>OPEN',
  'OPEN>HALF_OPEN',
  'HALF_OPEN>OPEN',
  'HALF_OPEN>CLOSED',
  'OPEN>CLOSED',
]);

type BreakerOp = 'failure' | 'success' | 'trip' | 'reset' | 'admit' | 'wait' | 'longWait';

test('breakers: random operations make only legal transitions, recorded as one chain', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.constantFrom<BreakerOp>('failure', 'failure', 'success', 'trip', 'reset', 'admit', 'wait', 'longWait'),
        {
          minLength: 1,
          maxLength: 80,
        },
      ),
      (ops) => {
        let now = T0;
        const s = b.newBreakerState('agent', now, {
          failure_threshold: 3,
          cooldown_seconds: 30,
          success_threshold: 2,
          half_open_max_calls: 2,
        });
        let seen = 0;
        for (const op of ops) {
          const before = s.state;
          if (op === 'failure') b.recordFailure(s, { failureType: 'timeout', errorMessage: 'x' }, now);
          else if (op === 'success') b.recordSuccess(s, now);
          else if (op === 'trip') b.trip(s, 'manual', now);
          else if (op === 'reset') b.reset(s, now);
          else if (op === 'admit') attempt(s, () => b.admit(s, now));
          else {
            now += op === 'wait' ? 5_000 : 40_000;
            b.endCooldown(s, now);
          }
          if (s.state !== before) expect(LEGAL.has(`${before}>${s.state}`)).toBe(true);
          if (s.state === 'OPEN') expect(s.opened_at).not.toBeNull();
          if (s.state === 'HALF_OPEN') expect(s.half_open_calls).toBeLessThanOrEqual(s.config.half_open_max_calls);
          const fresh = s.transitions.slice(seen);
          seen = s.transitions.length;
          for (const t of fresh) expect(LEGAL.has(`${t.from}>${t.to}`) || t.from === t.to).toBe(true);
        }
        for (let i = 1; i < s.transitions.length; i++) {
          expect(s.transitions[i]?.from).toBe(s.transitions[i - 1]?.to);
        }
      },
    ),
    RUNS,
  );
});

// ------------------------------------------------------------------------------------------------- relays

type RelayOp =
  | { kind: 'claim'; agent: number }
  | { kind: 'advance'; agent: number; step: number | null; quality: number }
  | { kind: 'retry'; step: number }
  | { kind: 'time' };

const relayOp: fc.Arbitrary<RelayOp> = fc.oneof(
  fc.record({ kind: fc.constant('claim' as const), agent: fc.nat(2) }),
  fc.record({
    kind: fc.constant('advance' as const),
    agent: fc.nat(2),
    step: fc.option(fc.nat(4), { nil: null }),
    quality: fc.constantFrom(0.1, 0.65, 0.95),
  }),
  fc.record({ kind: fc.constant('retry' as const), step: fc.nat(4) }),
  fc.record({ kind: fc.constant('time' as const) }),
);

test('relays: steps advance once and in order; a passed step keeps its output', () => {
  fc.assert(
    fc.property(fc.array(relayOp, { minLength: 1, maxLength: 60 }), (ops) => {
      let now = T0;
      const s = r.newRelayState(
        {
          pipelineId: 'rp',
          name: 'relay',
          goal: 'g',
          agentTypes: ['researcher', 'analyzer', 'validator', 'formatter'],
        },
        now,
      );
      const outputs = new Map<number, string | null>();
      let current = s.current;
      for (const op of ops) {
        const agent = AGENTS[(op as { agent?: number }).agent ?? 0] as string;
        if (op.kind === 'claim') attempt(s, () => r.claimStep(s, { agentId: agent, leaseSeconds: 10 }, now));
        else if (op.kind === 'advance') {
          const at = s.current;
          const applied = attempt(s, () =>
            r.advance(
              s,
              {
                qualityScore: op.quality,
                lScore: 0.9,
                tokensUsed: 10,
                outputSummary: `out-${at}-${now}`,
                agentId: agent,
                ...(op.step !== null ? { stepIndex: op.step } : {}),
              },
              now,
            ),
          );
          if (applied && op.step !== null) expect(op.step).toBe(at); // only the named current step advances
        } else if (op.kind === 'retry') attempt(s, () => r.retryStep(s, op.step, now));
        else {
          now += 11_000;
          r.expireClaim(s, now);
        }
        expect(s.current).toBeGreaterThanOrEqual(current); // never backwards
        current = s.current;
        for (const step of s.steps) {
          if (step.status !== 'passed') continue;
          if (!outputs.has(step.index)) outputs.set(step.index, step.output_summary);
          expect(step.output_summary).toBe(outputs.get(step.index)); // written once
        }
        for (const step of s.steps.slice(0, s.current)) expect(step.status).toBe('passed');
      }
    }),
    RUNS,
  );
});
