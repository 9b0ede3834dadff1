/**
 * The goals toolset through a real MCP Client against a real Temporal dev server and worker.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, eventually, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
let mcp: Client;

beforeAll(async () => {
  h = await startHarness();
  mcp = await h.mcp('agent-default');
});
afterAll(async () => {
  await h.close();
});

async function newGoal(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await ok(mcp, 'create_goal', { name: `Goal ${uid()}`, description: 'test goal', ...extra });
  return r.goal_id as string;
}

describe('the seed usage flow', () => {
  test('create → decompose (sequential) → claim → in_progress → completed → the dependent task is next', async () => {
    const created = await ok(mcp, 'create_goal', { name: 'Build auth system', description: 'JWT login and refresh' });
    expect(created.goal.status).toBe('active');
    const goalId = created.goal_id as string;

    const plan = await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'sequential' });
    expect(plan.tasks.map((t: { title: string }) => t.title)).toEqual([
      'Research requirements for Build auth system',
      'Plan approach for Build auth system',
      'Implement Build auth system',
      'Test Build auth system',
      'Document Build auth system',
    ]);
    expect(plan.tasks.map((t: { priority: number }) => t.priority)).toEqual([10, 9, 8, 7, 6]);
    expect(plan.tasks.map((t: { status: string }) => t.status)).toEqual([
      'ready',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);

    const first = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'alice' });
    expect(first.claimed).toBe(true);
    expect(first.task.id).toBe(`${goalId}/1`);
    expect(first.lease_token).toBeGreaterThan(0);

    const nothing = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'bob' });
    expect(nothing.claimed).toBe(false);
    expect(nothing.reason).toMatch(/waiting on dependencies/);

    const started = await ok(mcp, 'update_task_status', {
      task_id: first.task.id,
      status: 'in_progress',
      agent_id: 'alice',
    });
    expect(started.task.status).toBe('in_progress');
    const done = await ok(mcp, 'update_task_status', {
      task_id: first.task.id,
      status: 'completed',
      agent_id: 'alice',
      result: 'requirements.md written',
    });
    expect(done.task.status).toBe('completed');
    expect(done.task.result).toBe('requirements.md written');

    const second = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'bob' });
    expect(second.task.id).toBe(`${goalId}/2`);
    expect(second.task.title).toBe('Plan approach for Build auth system');

    const goal = await ok(mcp, 'get_goal', { goal_id: goalId });
    expect(goal.goal.task_counts).toMatchObject({ total: 5, completed: 1, claimed: 1, pending: 3 });
    expect(goal.goal.progress).toBeCloseTo(0.2);
  });

  test('parallel decomposition makes three tasks ready at once', async () => {
    const goalId = await newGoal({ name: 'Dashboard' });
    const plan = await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'parallel' });
    expect(plan.tasks.map((t: { title: string }) => t.title)).toEqual([
      'Backend work for Dashboard',
      'Frontend work for Dashboard',
      'Testing for Dashboard',
    ]);
    expect(plan.tasks.every((t: { status: string }) => t.status === 'ready')).toBe(true);
    const claims = await Promise.all(
      ['a', 'b', 'c'].map((a) => ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: a })),
    );
    expect(new Set(claims.map((c) => c.task.id)).size).toBe(3);
  });

  test('hierarchical decomposition chains four phases', async () => {
    const goalId = await newGoal({ name: 'Platform' });
    const plan = await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'hierarchical' });
    expect(plan.tasks.map((t: { title: string }) => t.title)).toEqual([
      'Phase 1: Foundation',
      'Phase 2: Core implementation',
      'Phase 3: Integration',
      'Phase 4: Optimization',
    ]);
    expect(plan.tasks[3].dependencies).toEqual([plan.tasks[2].id]);
    expect(plan.tasks.map((t: { status: string }) => t.status)).toEqual(['ready', 'pending', 'pending', 'pending']);
  });

  test('a submitted plan is created atomically with dependencies by index', async () => {
    const goalId = await newGoal();
    const plan = await ok(mcp, 'decompose_goal', {
      goal_id: goalId,
      tasks: [
        { title: 'Write schema', priority: 8 },
        { title: 'Write API', dependencies: [0], scope: 'src/api', tags: ['ts'] },
        { title: 'Write UI', dependencies: [0] },
        { title: 'Ship', dependencies: [1, 2], priority: 1 },
      ],
    });
    expect(plan.strategy).toBe('plan');
    expect(plan.tasks[3].dependencies).toEqual([`${goalId}/2`, `${goalId}/3`]);
    expect(plan.tasks[1].scope).toBe('src/api');
  });

  test('a plan answers with every task as created, whether it rides on the answer (≤ 16) or is read back', async () => {
    for (const n of [16, 17, 40]) {
      const goalId = await newGoal();
      const tasks = Array.from({ length: n }, (_, i) => ({ title: `step ${i}`, dependencies: i > 0 ? [i - 1] : [] }));
      const plan = await ok(mcp, 'decompose_goal', { goal_id: goalId, tasks });
      expect(plan.tasks.map((t: { title: string }) => t.title)).toEqual(tasks.map((t) => t.title));
      expect(plan.tasks.map((t: { status: string }) => t.status)).toEqual(['ready', ...Array(n - 1).fill('pending')]);
      const listed = await ok(mcp, 'list_tasks', { goal_id: goalId, limit: 100 });
      expect(plan.tasks).toEqual(listed.tasks);
    }
  });
});

describe('claims', () => {
  test('20 concurrent agents on 20 ready tasks: 20 distinct claims, no double claim', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'decompose_goal', {
      goal_id: goalId,
      tasks: Array.from({ length: 20 }, (_, i) => ({ title: `independent ${i}` })),
    });
    const agents = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
    const claims = await Promise.all(agents.map((a) => ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: a })));
    expect(claims.every((c) => c.claimed)).toBe(true);
    expect(new Set(claims.map((c) => c.task.id)).size).toBe(20);
    expect(new Set(claims.map((c) => c.lease_token)).size).toBe(20);
    const goal = await ok(mcp, 'get_goal', { goal_id: goalId });
    const holders = goal.tasks.map((t: { agent_id: string }) => t.agent_id).sort();
    expect(holders).toEqual([...agents].sort());
    const extra = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'late' });
    expect(extra.claimed).toBe(false);
  });

  test('highest priority first, then oldest; scope and tags filter', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'decompose_goal', {
      goal_id: goalId,
      tasks: [
        { title: 'low', priority: 1 },
        { title: 'high A', priority: 9 },
        { title: 'high B', priority: 9 },
        { title: 'api', priority: 3, scope: 'src/api' },
        { title: 'rust only', priority: 50, tags: ['rust'] },
      ],
    });
    const a = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'x', tags: ['ts'] });
    expect(a.task.title).toBe('high A');
    const scoped = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'y', scope: 'src' });
    expect(scoped.task.title).toBe('api');
    const rust = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'z', tags: ['rust', 'ts'] });
    expect(rust.task.title).toBe('rust only');
  });

  test('get_next_task without goal_id claims from any goal with ready work', async () => {
    const goalId = await newGoal();
    const created = await ok(mcp, 'create_task', {
      goal_id: goalId,
      title: 'cross-goal work',
      priority: 100,
      scope: `unique-${goalId}`,
    });
    const claim = await eventually(async () => {
      const r = await ok(mcp, 'get_next_task', { agent_id: 'roamer', scope: `unique-${goalId}` });
      return r.claimed ? r : undefined;
    });
    expect(claim.task.id).toBe(created.task.id);
    expect(claim.goal_id).toBe(goalId);
  });

  test('wait_seconds waits for work to become ready', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'decompose_goal', {
      goal_id: goalId,
      tasks: [{ title: 'first' }, { title: 'second', dependencies: [0] }],
    });
    const first = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'w1' });
    const waiting = ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'w2', wait_seconds: 20 });
    await new Promise((r) => setTimeout(r, 300));
    await ok(mcp, 'update_task_status', { task_id: first.task.id, status: 'completed', agent_id: 'w1' });
    const second = await waiting;
    expect(second.claimed).toBe(true);
    expect(second.task.title).toBe('second');
  });

  test('a request_id makes a retried claim apply once', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'parallel' });
    const a = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'r', request_id: 'claim-once' });
    const b = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'r', request_id: 'claim-once' });
    expect(b.task.id).toBe(a.task.id);
    const goal = await ok(mcp, 'get_goal', { goal_id: goalId });
    expect(goal.goal.task_counts.claimed).toBe(1);
  });
});

describe('leases and fencing', () => {
  test('an expired lease puts the task back to ready with nobody calling anything', async () => {
    const goalId = await newGoal({ lease_seconds: 2 });
    await ok(mcp, 'create_task', { goal_id: goalId, title: 'leased work' });
    const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'sleepy' });
    expect(claim.lease_expires_at).not.toBeNull();
    const task = await eventually(
      async () => {
        const r = await ok(mcp, 'get_task', { task_id: claim.task.id });
        return r.task.status === 'ready' ? r.task : undefined;
      },
      15_000,
      250,
    );
    expect(task.agent_id).toBeNull();
    expect(task.attempts).toBe(1);
    const late = await call(mcp, 'update_task_status', {
      task_id: claim.task.id,
      status: 'completed',
      agent_id: 'sleepy',
    });
    expect(late.isError).toBe(true);
    expect(late.error?.code).toBe('LEASE_LOST');
  });

  test('heartbeat extends the lease', async () => {
    const goalId = await newGoal({ lease_seconds: 3 });
    await ok(mcp, 'create_task', { goal_id: goalId, title: 'long work' });
    const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'busy' });
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const hb = await ok(mcp, 'heartbeat', { agent_id: 'busy', task_id: claim.task.id });
      expect(hb.tasks[0].id).toBe(claim.task.id);
    }
    const r = await ok(mcp, 'get_task', { task_id: claim.task.id });
    expect(r.task.status).toBe('claimed');
    expect(r.task.agent_id).toBe('busy');
  });

  test('without lease_seconds an in_progress task waits for its agent across sessions', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'create_task', { goal_id: goalId, title: 'resumable' });
    const before = Date.now();
    const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'resumer' });
    // Until it is followed up, the claim carries the pickup lease (5 minutes by default).
    const pickup = Date.parse(claim.lease_expires_at) - before;
    expect(pickup).toBeGreaterThan(295_000);
    expect(pickup).toBeLessThan(305_000);
    const started = await ok(mcp, 'update_task_status', {
      task_id: claim.task.id,
      status: 'in_progress',
      agent_id: 'resumer',
    });
    expect(started.task.lease_expires_at).toBeNull(); // followed up: no expiry on this goal
    // A new session: a new MCP client with the same agent identity.
    const later = await h.mcp('resumer');
    await new Promise((r) => setTimeout(r, 1500));
    const mine = await ok(later, 'list_tasks', { goal_id: goalId, status: 'in_progress' });
    expect(mine.tasks.map((t: { id: string }) => t.id)).toEqual([claim.task.id]);
    const done = await ok(later, 'update_task_status', {
      task_id: claim.task.id,
      status: 'completed',
      result: 'resumed',
    });
    expect(done.task.status).toBe('completed');
    expect((await ok(later, 'get_goal', { goal_id: goalId })).goal.status).toBe('completed');
  });

  test("a reclaimed task refuses its old holder's completion", async () => {
    const goalId = await newGoal();
    await ok(mcp, 'create_task', { goal_id: goalId, title: 'contested' });
    const old = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'zombie', lease_seconds: 1 });
    await eventually(
      async () => (await ok(mcp, 'get_task', { task_id: old.task.id })).task.status === 'ready',
      15_000,
      200,
    );
    const fresh = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'fresh' });
    expect(fresh.task.id).toBe(old.task.id);
    expect(fresh.lease_token).toBeGreaterThan(old.lease_token);

    const zombie = await call(mcp, 'update_task_status', {
      task_id: old.task.id,
      status: 'completed',
      agent_id: 'zombie',
    });
    expect(zombie.error?.code).toBe('LEASE_LOST');
    const staleToken = await call(mcp, 'update_task_status', {
      task_id: old.task.id,
      status: 'completed',
      agent_id: 'fresh',
      lease_token: old.lease_token,
    });
    expect(staleToken.error?.code).toBe('LEASE_LOST');
    const task = (await ok(mcp, 'get_task', { task_id: old.task.id })).task;
    expect(task).toMatchObject({ status: 'claimed', agent_id: 'fresh', result: null });
    await ok(mcp, 'update_task_status', {
      task_id: old.task.id,
      status: 'completed',
      agent_id: 'fresh',
      lease_token: fresh.lease_token,
    });
  });
});

describe('failure, blocking and retry', () => {
  test('dependents of a failed task are blocked, and return when it is retried', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'sequential' });
    const c = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'f' });
    const failed = await ok(mcp, 'update_task_status', {
      task_id: c.task.id,
      status: 'failed',
      agent_id: 'f',
      error: 'no access',
    });
    expect(failed.task).toMatchObject({ status: 'failed', error: 'no access', attempts: 1 });
    const blocked = await ok(mcp, 'list_tasks', { goal_id: goalId, status: 'blocked' });
    expect(blocked.count).toBe(4);
    expect(blocked.tasks[0].blocked_by).toEqual([c.task.id]);

    const retried = await ok(mcp, 'update_task_status', { task_id: c.task.id, status: 'pending', agent_id: 'f' });
    expect(retried.task.status).toBe('ready');
    const pending = await ok(mcp, 'list_tasks', { goal_id: goalId, status: 'pending' });
    expect(pending.count).toBe(4);
  });

  test('retries stop at max_attempts', async () => {
    const goalId = await newGoal();
    await ok(mcp, 'decompose_goal', { goal_id: goalId, tasks: [{ title: 'flaky', max_attempts: 2 }] });
    for (let i = 0; i < 2; i++) {
      const c = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'f' });
      await ok(mcp, 'update_task_status', { task_id: c.task.id, status: 'failed', agent_id: 'f', error: `try ${i}` });
      if (i === 0) await ok(mcp, 'update_task_status', { task_id: c.task.id, status: 'pending', agent_id: 'f' });
    }
    const exhausted = await call(mcp, 'update_task_status', {
      task_id: `${goalId}/1`,
      status: 'pending',
      agent_id: 'f',
    });
    expect(exhausted.error?.code).toBe('RETRY_EXHAUSTED');
  });
});

describe('bad input returns isError with a code and changes nothing', () => {
  let goalId: string;
  let before: unknown;
  beforeAll(async () => {
    goalId = await newGoal();
    await ok(mcp, 'decompose_goal', { goal_id: goalId, strategy: 'sequential' });
    await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'holder' });
    before = await ok(mcp, 'get_goal', { goal_id: goalId });
  });
  afterAll(async () => {
    expect(await ok(mcp, 'get_goal', { goal_id: goalId })).toEqual(before);
  });

  const cases: Array<[string, string, () => Record<string, unknown>, string]> = [
    ['wrong type', 'create_task', () => ({ goal_id: goalId, title: 'x', priority: true }), 'INVALID_ARGUMENT'],
    ['missing field', 'create_task', () => ({ goal_id: goalId }), 'INVALID_ARGUMENT'],
    ['unknown goal', 'create_task', () => ({ goal_id: 'no-such-goal', title: 'x' }), 'NOT_FOUND'],
    ['unknown task', 'get_task', () => ({ task_id: `${goalId}/999` }), 'NOT_FOUND'],
    ['malformed task id', 'get_task', () => ({ task_id: 'nonsense' }), 'INVALID_ARGUMENT'],
    [
      'unknown status',
      'update_task_status',
      () => ({ task_id: `${goalId}/1`, status: 'done-ish' }),
      'INVALID_ARGUMENT',
    ],
    [
      'status set by the runtime',
      'update_task_status',
      () => ({ task_id: `${goalId}/1`, status: 'blocked' }),
      'INVALID_ARGUMENT',
    ],
    [
      'unknown dependency',
      'create_task',
      () => ({ goal_id: goalId, title: 'x', dependencies: [`${goalId}/77`] }),
      'NOT_FOUND',
    ],
    [
      'dependency cycle',
      'decompose_goal',
      () => ({
        goal_id: goalId,
        tasks: [
          { title: 'a', dependencies: [2] },
          { title: 'b', dependencies: [0] },
          { title: 'c', dependencies: [1] },
        ],
      }),
      'DEPENDENCY_CYCLE',
    ],
    [
      'self dependency',
      'decompose_goal',
      () => ({ goal_id: goalId, tasks: [{ title: 'a', dependencies: [0] }] }),
      'DEPENDENCY_CYCLE',
    ],
    ['oversized title', 'create_task', () => ({ goal_id: goalId, title: 'x'.repeat(5000) }), 'INVALID_ARGUMENT'],
    [
      'oversized result',
      'update_task_status',
      () => ({ task_id: `${goalId}/1`, status: 'completed', agent_id: 'holder', result: 'y'.repeat(100_000) }),
      'INVALID_ARGUMENT',
    ],
    [
      'priority out of range',
      'create_task',
      () => ({ goal_id: goalId, title: 'x', priority: 1000 }),
      'INVALID_ARGUMENT',
    ],
    [
      'not the holder',
      'update_task_status',
      () => ({ task_id: `${goalId}/1`, status: 'completed', agent_id: 'intruder' }),
      'LEASE_LOST',
    ],
    [
      'completing an unclaimed task',
      'update_task_status',
      () => ({ task_id: `${goalId}/2`, status: 'completed', agent_id: 'holder' }),
      'CONFLICT',
    ],
    ['bad goal id', 'get_goal', () => ({ goal_id: 'has spaces/and slashes' }), 'INVALID_ARGUMENT'],
    ['unknown strategy', 'decompose_goal', () => ({ goal_id: goalId, strategy: 'random' }), 'INVALID_ARGUMENT'],
    ['unknown tool', 'no_such_tool', () => ({}), 'NOT_FOUND'],
  ];
  test.each(cases)('%s (%s)', async (_name, tool, args, code) => {
    const r = await call(mcp, tool, args());
    expect(r.isError).toBe(true);
    expect(r.error?.code).toBe(code);
    expect(r.error?.message.length).toBeGreaterThan(20);
  });
});

describe('listing', () => {
  test('list_goals shows the caller its own changes at once, and filters by status', async () => {
    // Visibility shows a change a moment late; goals this server changed a moment ago are read live, so no waiting here.
    for (let round = 0; round < 3; round++) {
      const goalId = await newGoal({ name: 'Listed goal' });
      const { task } = await ok(mcp, 'create_task', { goal_id: goalId, title: 'only task' });
      const active = await ok(mcp, 'list_goals', { status: 'active', limit: 1000 });
      expect(active.goals.find((g: { id: string }) => g.id === goalId)).toMatchObject({
        name: 'Listed goal',
        status: 'active',
        task_counts: { total: 1, ready: 1 },
      });
      const ready = await ok(mcp, 'list_tasks', { status: 'ready', limit: 1000 }); // every goal's, this new one's too
      expect(ready.tasks.map((t: { id: string }) => t.id)).toContain(task.id);
      const notYet = await ok(mcp, 'list_goals', { status: 'completed', limit: 1000 });
      expect(notYet.goals.some((g: { id: string }) => g.id === goalId)).toBe(false);

      await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: 'lister' });
      await ok(mcp, 'update_task_status', { task_id: task.id, status: 'completed', agent_id: 'lister' });
      const completed = await ok(mcp, 'list_goals', { status: 'completed', limit: 1000 });
      expect(completed.goals.find((g: { id: string }) => g.id === goalId)).toMatchObject({ status: 'completed' });
      const stillActive = await ok(mcp, 'list_goals', { status: 'active', limit: 1000 });
      expect(stillActive.goals.some((g: { id: string }) => g.id === goalId)).toBe(false);
    }
  });

  test('create_task without goal_id goes to the inbox goal', async () => {
    const r = await ok(mcp, 'create_task', { title: `loose ${uid()}` });
    expect(r.task.goal_id).toBe('inbox');
  });

  test('the tool list carries input schemas and annotations (output schemas on request, see tool-list.test.ts)', async () => {
    const { tools } = await mcp.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'create_goal',
        'decompose_goal',
        'create_task',
        'get_next_task',
        'update_task_status',
        'heartbeat',
        'list_goals',
        'list_tasks',
        'get_goal',
        'get_task',
      ]),
    );
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema).toBeUndefined();
      expect(t.annotations?.openWorldHint).toBe(false);
    }
    expect(tools.find((t) => t.name === 'get_goal')?.annotations?.readOnlyHint).toBe(true);
    const prompts = await mcp.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toContain('plan_goal');
  });
});

describe('lists page with a cursor', () => {
  test('list_tasks pages through a goal with next_cursor, says when more follow, caps the limit', async () => {
    const { goal_id: goalId } = await ok(mcp, 'create_goal', { name: `paged ${uid()}` });
    await ok(mcp, 'decompose_goal', {
      goal_id: goalId,
      tasks: Array.from({ length: 7 }, (_, n) => ({ title: `t${n}` })),
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await ok(mcp, 'list_tasks', { goal_id: goalId, limit: 3, ...(cursor ? { cursor } : {}) });
      pages++;
      seen.push(...page.tasks.map((t: any) => t.title));
      if (page.next_cursor) expect(page.note).toContain(page.next_cursor);
      else expect(page.note).toBeUndefined();
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    const ready = await ok(mcp, 'list_tasks', { goal_id: goalId, status: 'ready', limit: 5000 });
    expect(ready).toMatchObject({ count: 7, next_cursor: null, note: 'limit is capped at 1000.' });
    expect((await call(mcp, 'list_tasks', { goal_id: goalId, cursor: 'not-a-cursor' })).error?.code).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
