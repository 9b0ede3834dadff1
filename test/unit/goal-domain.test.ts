/** The task state machine as pure functions: no server, no Temporal. */
import { codeOf } from '../support/domain';
import * as g from '../../src/domain/goal';
import { templateTasks } from '../../src/domain/templates';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function goal(leaseSeconds = 0): g.GoalState {
  return g.newGoalState({ id: 'demo', name: 'Demo', leaseSeconds }, T0);
}

describe('creating tasks', () => {
  test('ids carry the goal and count from 1; tasks without open dependencies are ready', () => {
    const s = goal();
    const created = g.addTasks(s, [{ title: 'a' }, { title: 'b', dependencies: [0] }], T0);
    expect(created.map((t) => t.id)).toEqual(['demo/1', 'demo/2']);
    expect(created.map((t) => t.status)).toEqual(['ready', 'pending']);
    expect(created[1]?.dependencies).toEqual(['demo/1']);
  });

  test('a cycle inside a plan is refused and nothing is added', () => {
    const s = goal();
    const code = codeOf(() =>
      g.addTasks(
        s,
        [
          { title: 'a', dependencies: [1] },
          { title: 'b', dependencies: [2] },
          { title: 'c', dependencies: [0] },
        ],
        T0,
      ),
    );
    expect(code).toBe('DEPENDENCY_CYCLE');
    expect(s.tasks).toHaveLength(0);
  });

  test('findCycle returns the closed path', () => {
    expect(g.findCycle(['a', 'b', 'c'], [['b'], ['c'], ['a']])).toEqual(['a', 'b', 'c', 'a']);
    expect(g.findCycle(['a', 'b', 'c'], [['b'], ['c'], []])).toBeUndefined();
  });

  test('unknown dependencies and out-of-range plan indexes are refused', () => {
    const s = goal();
    expect(codeOf(() => g.addTasks(s, [{ title: 'a', dependencies: ['demo/9'] }], T0))).toBe('NOT_FOUND');
    expect(codeOf(() => g.addTasks(s, [{ title: 'a', dependencies: [3] }], T0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => g.addTasks(s, [{ title: 'a', dependencies: ['other/1'] }], T0))).toBe('NOT_FOUND');
  });

  test('the templates match the seed', () => {
    expect(templateTasks('sequential', 'X').map((t) => [t.title, t.priority, t.dependencies])).toEqual([
      ['Research requirements for X', 10, []],
      ['Plan approach for X', 9, [0]],
      ['Implement X', 8, [1]],
      ['Test X', 7, [2]],
      ['Document X', 6, [3]],
    ]);
    expect(templateTasks('parallel', 'X').every((t) => t.dependencies?.length === 0)).toBe(true);
    expect(templateTasks('hierarchical', 'X').map((t) => t.title)[3]).toBe('Phase 4: Optimization');
  });
});

describe('claiming', () => {
  test('highest priority first, then oldest; each claim grows the lease token', () => {
    const s = goal();
    g.addTasks(
      s,
      [
        { title: 'low', priority: 1 },
        { title: 'hi-old', priority: 7 },
        { title: 'hi-new', priority: 7 },
      ],
      T0,
    );
    const a = g.claimTask(s, { agentId: 'a' }, T0);
    const b = g.claimTask(s, { agentId: 'b' }, T0);
    const c = g.claimTask(s, { agentId: 'c' }, T0);
    expect([a.task?.title, b.task?.title, c.task?.title]).toEqual(['hi-old', 'hi-new', 'low']);
    expect([a.lease_token, b.lease_token, c.lease_token]).toEqual([1, 2, 3]);
    expect(codeOf(() => g.claimTask(s, { agentId: 'd' }, T0))).toBe('NO_WORK');
  });

  test('tags are capabilities: a task asking for tags goes only to an agent offering all of them', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'needs rust+wasm', tags: ['rust', 'wasm'], priority: 9 }, { title: 'anyone' }], T0);
    expect(g.pickNextTask(s, { tags: ['rust'] })?.title).toBe('anyone');
    expect(g.pickNextTask(s, { tags: ['wasm', 'rust', 'go'] })?.title).toBe('needs rust+wasm');
    expect(g.pickNextTask(s, {})?.title).toBe('needs rust+wasm');
  });

  test('scope matches the scope itself and anything below it', () => {
    const s = goal();
    g.addTasks(
      s,
      [
        { title: 'api', scope: 'src/api' },
        { title: 'apix', scope: 'src/apix' },
      ],
      T0,
    );
    expect(g.pickNextTask(s, { scope: 'src/api' })?.title).toBe('api');
    expect(g.pickNextTask(s, { scope: 'src' })?.title).toBe('api');
    expect(g.pickNextTask(s, { scope: 'lib' })).toBeUndefined();
  });

  test('no work says why', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }, { title: 'b', dependencies: [0] }], T0);
    g.claimTask(s, { agentId: 'a' }, T0);
    expect(g.noWorkReason(s, {})).toBe(
      'No task of goal demo is ready: 1 waiting on dependencies, 1 held by other agents.',
    );
  });
});

describe('leases and fencing', () => {
  test('an expired lease returns the task to ready and counts an attempt', () => {
    const s = goal(30);
    g.addTasks(s, [{ title: 'a' }], T0);
    const claim = g.claimTask(s, { agentId: 'a' }, T0);
    expect(claim.lease_expires_at).toBe('2026-01-01T00:00:30.000Z');
    expect(g.earliestLeaseExpiry(s)).toBe(T0 + 30_000);
    expect(g.expireLeases(s, T0 + 29_999)).toEqual([]);
    expect(g.expireLeases(s, T0 + 30_000)).toEqual(['demo/1']);
    expect(s.tasks[0]).toMatchObject({ status: 'ready', agent_id: null, attempts: 1 });
    expect(codeOf(() => g.completeTask(s, { taskId: 'demo/1', agentId: 'a' }, T0 + 31_000))).toBe('LEASE_LOST');
  });

  test('heartbeats and holder actions push the lease out', () => {
    const s = goal(30);
    g.addTasks(s, [{ title: 'a' }], T0);
    g.claimTask(s, { agentId: 'a' }, T0);
    g.heartbeat(s, { agentId: 'a' }, T0 + 20_000);
    expect(s.tasks[0]?.lease_expires_at).toBe('2026-01-01T00:00:50.000Z');
    g.startTask(s, { taskId: 'demo/1', agentId: 'a' }, T0 + 40_000);
    expect(g.expireLeases(s, T0 + 60_000)).toEqual([]);
  });

  test('only the holder, with the current token, may act', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }], T0);
    const first = g.claimTask(s, { agentId: 'a' }, T0);
    g.releaseTask(s, { taskId: 'demo/1', agentId: 'a' }, T0);
    const second = g.claimTask(s, { agentId: 'b' }, T0);
    expect(codeOf(() => g.completeTask(s, { taskId: 'demo/1', agentId: 'a' }, T0))).toBe('LEASE_LOST');
    expect(
      codeOf(() => g.completeTask(s, { taskId: 'demo/1', agentId: 'b', leaseToken: first.lease_token as number }, T0)),
    ).toBe('LEASE_LOST');
    const done = g.completeTask(s, { taskId: 'demo/1', agentId: 'b', leaseToken: second.lease_token as number }, T0);
    expect(done.status).toBe('completed');
    expect(s.goal.status).toBe('completed');
  });
});

describe('failure and retry', () => {
  test('failure blocks dependents transitively; retry unblocks them', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }, { title: 'b', dependencies: [0] }, { title: 'c', dependencies: [1] }], T0);
    g.claimTask(s, { agentId: 'x' }, T0);
    g.failTask(s, { taskId: 'demo/1', agentId: 'x', error: 'boom' }, T0);
    expect(s.tasks.map((t) => [t.status, t.blocked_by])).toEqual([
      ['failed', []],
      ['blocked', ['demo/1']],
      ['blocked', ['demo/1']],
    ]);
    g.retryTask(s, 'demo/1', T0);
    expect(s.tasks.map((t) => t.status)).toEqual(['ready', 'pending', 'pending']);
  });

  test('retry is bounded by max_attempts', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a', max_attempts: 1 }], T0);
    g.claimTask(s, { agentId: 'x' }, T0);
    g.failTask(s, { taskId: 'demo/1', agentId: 'x' }, T0);
    expect(codeOf(() => g.retryTask(s, 'demo/1', T0))).toBe('RETRY_EXHAUSTED');
  });

  test('a cancelled task blocks its dependents until retried', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }, { title: 'b', dependencies: [0] }], T0);
    g.cancelTask(s, 'demo/1', 'not needed', T0);
    expect(s.tasks[1]?.status).toBe('blocked');
    expect(codeOf(() => g.cancelTask(s, 'demo/1', undefined, T0))).toBe('CONFLICT');
  });
});

describe('views', () => {
  test('the current details are a markdown table of open tasks', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a | pipe' }, { title: 'b' }], T0);
    g.claimTask(s, { agentId: 'alice', leaseSeconds: 600 }, T0);
    g.addTasks(s, [{ title: 'c', dependencies: ['demo/1'] }], T0);
    const md = g.renderGoalDetails(s, 25, T0);
    expect(md).toContain('### Goal: Demo');
    expect(md).toContain('0/3 completed');
    expect(md).toContain('ready 1 · claimed 1 · in progress 0 · waiting 1 · blocked 0 · failed 0 · cancelled 0');
    // Who holds it until when (an absolute time), attempts left, what blocks a waiting task.
    const lease = s.tasks[0]!.lease_expires_at;
    expect(lease).not.toBeNull();
    const row = md.split('\n').find((l) => l.startsWith('| demo/1 |'));
    expect(row).toBe(
      `| demo/1 | 🔒 claimed | alice | ${lease!.slice(11, 19)} | ${s.tasks[0]!.max_attempts - s.tasks[0]!.attempts} |  |  | 5 | a \\| pipe |`,
    );
    expect(md.split('\n').find((l) => l.startsWith('| demo/3 |'))).toContain('| demo/1 |');
    // The Web UI panel clips the end of the details: they end with a paragraph that renders blank.
    expect(md.endsWith('\n\u00a0\n')).toBe(true);
  });

  test('the event log is bounded', () => {
    const s = goal();
    g.addTasks(
      s,
      Array.from({ length: 10 }, (_, i) => ({ title: `t${i}` })),
      T0,
    );
    for (let i = 0; i < 400; i++) {
      const c = g.claimTask(s, { agentId: 'a' }, T0);
      g.releaseTask(s, { taskId: c.task?.id as string, agentId: 'a' }, T0);
    }
    expect(s.events).toHaveLength(g.MAX_EVENTS);
    expect(s.events.at(-1)?.seq).toBe(s.eventSeq);
  });

  test('an index change reaches Visibility at once only when cross-goal reads decide with it', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a', scope: 'src/a' }, { title: 'b' }, { title: 'c', priority: 9 }], T0);
    const before = g.goalIndex(s);
    const claim = g.claimTask(s, { agentId: 'alice' }, T0); // takes c (priority 9): the top priority changes
    expect(g.indexChangeIsUrgent(before, g.goalIndex(s))).toBe(true);

    const held = g.goalIndex(s);
    g.completeTask(s, { taskId: claim.task?.id as string, agentId: 'alice' }, T0); // counts and progress only
    expect(g.indexChangeIsUrgent(held, g.goalIndex(s))).toBe(false);

    const some = g.goalIndex(s);
    g.claimTask(s, { agentId: 'bob', scope: 'src' }, T0); // a new holder, and the ready scopes change
    expect(g.indexChangeIsUrgent(some, g.goalIndex(s))).toBe(true);

    const one = g.goalIndex(s);
    const last = g.claimTask(s, { agentId: 'bob' }, T0); // nothing ready any more
    expect(g.indexChangeIsUrgent(one, g.goalIndex(s))).toBe(true);

    const none = g.goalIndex(s);
    g.releaseTask(s, { taskId: last.task?.id as string, agentId: 'bob' }, T0); // ready again
    expect(g.indexChangeIsUrgent(none, g.goalIndex(s))).toBe(true);
  });

  test('a new holder alone waits for the refresh (runs started before that publish it at once)', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }, { title: 'b' }, { title: 'c' }], T0);
    g.claimTask(s, { agentId: 'alice' }, T0);
    const before = g.goalIndex(s);
    g.claimTask(s, { agentId: 'bob' }, T0); // still a task ready, same priorities: only the holders change
    const after = g.goalIndex(s);
    expect(after.agents).toEqual(['alice', 'bob']);
    expect(g.indexChangeIsUrgent(before, after)).toBe(false);
    expect(g.indexChangeIsUrgent(before, after, true)).toBe(true);
  });

  test('completing a task of a flat plan leaves the other ready tasks alone', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }, { title: 'b' }, { title: 'c', dependencies: [0] }], T0);
    const c = g.claimTask(s, { agentId: 'alice', taskId: 'demo/1' }, T0);
    g.completeTask(s, { taskId: c.task?.id as string, agentId: 'alice' }, T0 + 1000);
    expect(s.tasks.map((t) => [t.status, t.updated_at])).toEqual([
      ['completed', new Date(T0 + 1000).toISOString()],
      ['ready', new Date(T0).toISOString()],
      ['ready', new Date(T0 + 1000).toISOString()],
    ]);
  });
});

describe('cancelling the goal', () => {
  test('a cancelled goal refuses claims and new tasks, keeps its tasks as they were, and stays cancelled', () => {
    const s = goal();
    g.addTasks(s, [{ title: 'a' }, { title: 'b' }], T0);
    g.claimTask(s, { agentId: 'x', taskId: 'demo/1' }, T0);
    g.cancelGoal(s, T0 + 1000, 'its workflow was cancelled');
    expect(s.goal.status).toBe('cancelled');
    expect(s.events.at(-1)).toMatchObject({ type: 'goal_cancelled' });
    expect(codeOf(() => g.claimTask(s, { agentId: 'y', taskId: 'demo/2' }, T0 + 2000))).toBe('GOAL_CLOSED');
    expect(codeOf(() => g.addTasks(s, [{ title: 'c' }], T0 + 2000))).toBe('GOAL_CLOSED');
    expect(s.tasks.map((t) => t.status)).toEqual(['claimed', 'ready']);
    const logged = s.events.length;
    g.cancelGoal(s, T0 + 3000, 'again');
    expect(s.events).toHaveLength(logged);
  });
});

describe('ridingClaims', () => {
  test('the first claims ride on the answer, at most RIDERS_MAX and RIDERS_MAX_CHARS of them', () => {
    const small = Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, claim: { task: { id: `g/${i}` } } }));
    expect(g.ridingClaims(small).map((h) => h.id)).toEqual(small.slice(0, g.RIDERS_MAX).map((h) => h.id));
    const big = Array.from({ length: 5 }, (_, i) => ({ id: `w${i}`, description: 'x'.repeat(30_000) }));
    expect(g.ridingClaims(big).map((h) => h.id)).toEqual(['w0', 'w1']); // a third would pass 64 KB
    expect(g.ridingClaims([])).toEqual([]);
  });
});
