/**
 * The projects toolset (hq's tools) through a real MCP Client on a real dev server and worker.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, eventually, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
let mcp: Client;

beforeAll(async () => {
  h = await startHarness();
  mcp = await h.mcp('hq-default', ['projects', 'goals']);
});
afterAll(async () => {
  await h.close();
});

const HQ_TOOLS = [
  'create_project',
  'get_project',
  'list_projects',
  'claim_step',
  'start_step',
  'heartbeat',
  'complete_step',
  'fail_step',
  'get_step',
  'get_available_steps',
  'detect_stale_work',
  'recover_step',
  'recover_failed_step',
  'get_metrics',
  'get_agent_events',
];

const threeSteps = [
  { step_num: 1, branch: 'feat/schema', scope: 'db', depends_on: [] },
  { step_num: 2, branch: 'feat/api', scope: 'src/api', depends_on: [1] },
  { step_num: 3, branch: 'feat/ui', scope: 'src/ui', depends_on: [1] },
];

describe('hq flows', () => {
  test('the worktree workflow: create → claim → start → heartbeat → complete → the next agent claims the dependent step', async () => {
    const name = uid('proj');
    const created = await ok(mcp, 'create_project', {
      name,
      base_commit: 'abc1234',
      steps: JSON.stringify(threeSteps),
    });
    expect(created.project).toMatchObject({ id: name, base_commit: 'abc1234', status: 'active', lease_seconds: 900 });
    expect(created.steps.map((s: any) => [s.step_num, s.status, s.ready])).toEqual([
      [1, 'not_started', true],
      [2, 'not_started', false],
      [3, 'not_started', false],
    ]);

    const claim = await ok(mcp, 'claim_step', { project: name, agent_id: 'worker-a' });
    expect(claim.claimed).toBe(true);
    expect(claim.step).toMatchObject({
      project_id: name,
      step_num: 1,
      branch: 'feat/schema',
      scope: 'db',
      status: 'claimed',
      agent_id: 'worker-a',
    });
    expect(claim.step.claimed_at).not.toBeNull();
    expect(claim.lease_expires_at).not.toBeNull();

    const started = await ok(mcp, 'start_step', {
      step_id: claim.step.id,
      worktree: '/tmp/wt/schema',
      agent_id: 'worker-a',
    });
    expect(started.step).toMatchObject({ status: 'in_progress', worktree: '/tmp/wt/schema' });
    const hb = await ok(mcp, 'heartbeat', { agent_id: 'worker-a', step_id: claim.step.id });
    expect(hb.tasks[0].lease_expires_at >= claim.lease_expires_at).toBe(true);

    const nothing = await ok(mcp, 'claim_step', { project: name, agent_id: 'worker-b' });
    expect(nothing).toMatchObject({ claimed: false, step: null });
    expect(nothing.reason).toMatch(/waiting on dependencies/);

    const done = await ok(mcp, 'complete_step', {
      step_id: claim.step.id,
      commit_hash: 'def5678',
      files_modified: '["db/schema.sql","db/migrate.sql"]',
      notes: 'schema ready',
      agent_id: 'worker-a',
    });
    expect(done.step).toMatchObject({
      status: 'completed',
      commit_hash: 'def5678',
      files_modified: ['db/schema.sql', 'db/migrate.sql'],
      notes: 'schema ready',
    });

    const next = await ok(mcp, 'claim_step', { project: name, agent_id: 'worker-b' });
    expect(next.step).toMatchObject({ step_num: 2, depends_on: [1], agent_id: 'worker-b' });

    const project = await ok(mcp, 'get_project', { name });
    expect(project.project.step_counts).toMatchObject({ total: 3, completed: 1, claimed: 1, not_started: 1 });
  });

  test('crash recovery: a step whose agent stops heartbeating returns by itself; its late completion is refused', async () => {
    const name = uid('crash');
    await ok(mcp, 'create_project', { name, base_commit: 'c0ffee', steps: threeSteps, lease_seconds: 2 });
    const claim = await ok(mcp, 'claim_step', { project: name, agent_id: 'crashy' });
    await ok(mcp, 'start_step', { step_id: claim.step.id, agent_id: 'crashy' });

    const stale = await ok(mcp, 'detect_stale_work', { timeout_minutes: 0 });
    expect(stale.stale.map((s: any) => s.step.id)).toContain(claim.step.id);

    const back = await eventually(
      async () => {
        const s = (await ok(mcp, 'get_step', { step_id: claim.step.id })).step;
        return s.status === 'not_started' && s.ready ? s : undefined;
      },
      15_000,
      200,
    );
    expect(back).toMatchObject({ agent_id: null, attempts: 1 });
    const late = await call(mcp, 'complete_step', {
      step_id: claim.step.id,
      commit_hash: 'late123',
      agent_id: 'crashy',
    });
    expect(late.error?.code).toBe('LEASE_LOST');

    const events = await ok(mcp, 'get_agent_events', { agent_id: 'crashy', project: name });
    expect(events.events.map((e: any) => e.type)).toEqual(['lease_expired', 'task_started', 'task_claimed']);
  });

  test('recover_step forces a held step back; recover_failed_step archives the failure', async () => {
    const name = uid('recover');
    await ok(mcp, 'create_project', { name, base_commit: 'b0b', steps: threeSteps });
    const claim = await ok(mcp, 'claim_step', { project: name, agent_id: 'slow' });
    const recovered = await ok(mcp, 'recover_step', { step_id: claim.step.id });
    expect(recovered.step).toMatchObject({ status: 'not_started', ready: true, agent_id: null });
    expect((await call(mcp, 'start_step', { step_id: claim.step.id, agent_id: 'slow' })).error?.code).toBe(
      'LEASE_LOST',
    );

    const again = await ok(mcp, 'claim_step', { project: name, agent_id: 'other' });
    const failed = await ok(mcp, 'fail_step', { step_id: again.step.id, reason: 'tests red', agent_id: 'other' });
    expect(failed.step).toMatchObject({ status: 'failed', failure_reason: 'tests red' });
    const dependents = (await ok(mcp, 'get_project', { name })).steps.filter((s: any) => s.step_num > 1);
    expect(dependents.map((s: any) => s.task_status)).toEqual(['blocked', 'blocked']);

    const back = await ok(mcp, 'recover_failed_step', { step_id: again.step.id });
    expect(back.step).toMatchObject({ status: 'not_started', ready: true, failure_reason: null });
    expect(back.step.failures).toEqual([expect.objectContaining({ error: 'tests red' })]);
  });

  test('the cross-project queue, filtered by scope and ordered by project priority', async () => {
    const tag = uid('scope');
    const low = uid('low');
    const high = uid('high');
    const steps = (s: string) => [
      { step_num: 1, branch: 'a', scope: `${tag}/${s}`, depends_on: [] },
      { step_num: 2, branch: 'b', scope: `elsewhere-${tag}`, depends_on: [] },
    ];
    await ok(mcp, 'create_project', { name: low, base_commit: '1', steps: steps('x'), priority: 1 });
    await ok(mcp, 'create_project', { name: high, base_commit: '2', steps: steps('y'), priority: 9 });

    const available = await eventually(async () => {
      const r = await ok(mcp, 'get_available_steps', { scope: tag });
      return r.count === 2 ? r : undefined;
    });
    expect(available.steps.map((s: any) => s.project_id)).toEqual([high, low]);
    expect(available.steps.every((s: any) => s.scope.startsWith(`${tag}/`))).toBe(true);

    const onlyLow = await ok(mcp, 'get_available_steps', { project: low });
    expect(onlyLow.count).toBe(2);

    // Any-goal claims take the higher-priority project first.
    const first = await ok(mcp, 'get_next_task', { agent_id: 'roamer', scope: tag });
    expect(first.goal_id).toBe(high);
    const second = await ok(mcp, 'get_next_task', { agent_id: 'roamer', scope: tag });
    expect(second.goal_id).toBe(low);
  });

  test('metrics per project and per agent, with the scope breakdown', async () => {
    const name = uid('metrics');
    await ok(mcp, 'create_project', { name, base_commit: 'm', steps: threeSteps });
    for (const agent of ['m1', 'm2']) {
      const c = await ok(mcp, 'claim_step', { project: name, agent_id: agent });
      if (!c.claimed) break;
      await ok(mcp, 'start_step', { step_id: c.step.id, agent_id: agent });
      await ok(mcp, 'complete_step', { step_id: c.step.id, commit_hash: `c-${agent}`, agent_id: agent });
    }
    const m = await ok(mcp, 'get_metrics', { project: name });
    expect(m.counts).toMatchObject({ total: 3, completed: 2, not_started: 1 });
    expect(Object.keys(m.by_scope).sort()).toEqual(['db', 'src/api', 'src/ui']);
    expect(m.by_agent.m1).toMatchObject({ completed: 1, failed: 0 });
    expect(m.avg_seconds_claim_to_complete).toBeGreaterThanOrEqual(0);
    const mine = await ok(mcp, 'get_metrics', { project: name, agent_id: 'm2' });
    expect(mine.counts.completed).toBe(1);
    // List rows come from Visibility (the project's memo, refreshed within 2 s of a change).
    const listed = await eventually(async () => {
      const r = await ok(mcp, 'list_projects', {});
      const row = r.projects.find((p: any) => p.id === name);
      return row?.step_counts.completed === 2 ? row : undefined;
    });
    expect(listed.step_counts).toMatchObject({ total: 3, completed: 2, not_started: 1 });
  });
});

describe('concurrency and scale', () => {
  test('50 concurrent claim_step callers: every ready step claimed exactly once, the rest told there is no work', async () => {
    const name = uid('race');
    const steps = Array.from({ length: 20 }, (_, i) => ({
      step_num: i + 1,
      branch: `b${i}`,
      scope: 's',
      depends_on: [],
    }));
    await ok(mcp, 'create_project', { name, base_commit: 'r', steps });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ok(mcp, 'claim_step', { project: name, agent_id: `racer-${i}` })),
    );
    const won = results.filter((r) => r.claimed);
    expect(won).toHaveLength(20);
    expect(new Set(won.map((r) => r.step.id)).size).toBe(20);
    const lost = results.filter((r) => !r.claimed);
    expect(lost).toHaveLength(30);
    expect(lost.every((r) => r.step === null && /held by other agents/.test(r.reason))).toBe(true);
  });

  test('a project of 1,000 steps is created atomically and worked', async () => {
    const name = uid('big');
    const steps = Array.from({ length: 1000 }, (_, i) => ({
      step_num: i + 1,
      branch: `b${i}`,
      scope: `m${i % 10}`,
      depends_on: i >= 100 ? [i - 99] : [],
    }));
    const created = await ok(mcp, 'create_project', { name, base_commit: 'big', steps });
    expect(created.steps).toHaveLength(1000);
    expect(created.steps.filter((s: any) => s.ready)).toHaveLength(100);
    const c = await ok(mcp, 'claim_step', { project: name, agent_id: 'big-agent' });
    expect(c.step.step_num).toBe(1);
    await ok(mcp, 'complete_step', { step_id: c.step.id, commit_hash: 'big0001', agent_id: 'big-agent' });
    const dependent = (await ok(mcp, 'get_project', { name })).steps[100];
    expect(dependent).toMatchObject({ step_num: 101, ready: true });
  });
});

test('100 projects of 100 steps: created, claimed from and listed across projects', async () => {
  const tag = uid('fleet');
  const names = Array.from({ length: 100 }, (_, p) => `${tag}-${p}`);
  const steps = Array.from({ length: 100 }, (_, i) => ({
    step_num: i + 1,
    branch: `b${i}`,
    scope: `${tag}/m${i % 5}`,
    depends_on: i >= 5 ? [i - 4] : [],
  }));
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(
      names.slice(i, i + 10).map((name) => ok(mcp, 'create_project', { name, base_commit: 'f', steps })),
    );
  }
  const claims = await Promise.all(
    names.map((name, p) => ok(mcp, 'claim_step', { project: name, agent_id: `fleet-${p}` })),
  );
  expect(claims.every((c) => c.claimed && c.step.step_num === 1)).toBe(true);
  const available = await eventually(async () => {
    const r = await ok(mcp, 'get_available_steps', { scope: tag });
    return r.count === 100 * 4 ? r : undefined;
  });
  expect(new Set(available.steps.map((s: any) => s.project_id)).size).toBe(100);
}, 120_000);

describe('toolsets', () => {
  test('AGENT_RUNTIME_TOOLSETS=projects lists exactly hq’s tools; all lists every tool', async () => {
    const hq = await h.mcp('x', ['projects']);
    expect((await hq.listTools()).tools.map((t) => t.name).sort()).toEqual([...HQ_TOOLS].sort());
    const all = await h.mcp('x', ['all']);
    const names = (await all.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining([...HQ_TOOLS, 'create_goal', 'get_next_task']));
    expect(names.filter((n) => n === 'heartbeat')).toHaveLength(1);
  });
});

describe('bad input on every tool gives a clear isError and changes nothing', () => {
  let name: string;
  let stepId: string;
  let before: unknown;
  beforeAll(async () => {
    name = uid('bad');
    await ok(mcp, 'create_project', { name, base_commit: 'bad', steps: threeSteps });
    stepId = (await ok(mcp, 'claim_step', { project: name, agent_id: 'holder' })).step.id;
    before = await ok(mcp, 'get_project', { name });
  });
  afterAll(async () => {
    expect(await ok(mcp, 'get_project', { name })).toEqual(before);
  });

  const cases: Array<[string, string, () => Record<string, unknown>, string]> = [
    [
      'steps JSON that does not parse',
      'create_project',
      () => ({ name: uid('p'), base_commit: 'x', steps: '[{"step_num": 1,' }),
      'INVALID_ARGUMENT',
    ],
    [
      'steps missing branch',
      'create_project',
      () => ({ name: uid('p'), base_commit: 'x', steps: [{ step_num: 1, scope: 's' }] }),
      'INVALID_ARGUMENT',
    ],
    [
      'unknown step number',
      'create_project',
      () => ({ name: uid('p'), base_commit: 'x', steps: [{ step_num: 1, branch: 'b', scope: 's', depends_on: [7] }] }),
      'INVALID_ARGUMENT',
    ],
    [
      'a cycle of steps',
      'create_project',
      () => ({
        name: uid('p'),
        base_commit: 'x',
        steps: [
          { step_num: 1, branch: 'a', scope: 's', depends_on: [2] },
          { step_num: 2, branch: 'b', scope: 's', depends_on: [1] },
        ],
      }),
      'DEPENDENCY_CYCLE',
    ],
    [
      'duplicate step number',
      'create_project',
      () => ({
        name: uid('p'),
        base_commit: 'x',
        steps: [
          { step_num: 1, branch: 'a', scope: 's' },
          { step_num: 1, branch: 'b', scope: 's' },
        ],
      }),
      'INVALID_ARGUMENT',
    ],
    ['existing project', 'create_project', () => ({ name, base_commit: 'x', steps: threeSteps }), 'CONFLICT'],
    ['missing base_commit', 'create_project', () => ({ name: uid('p'), steps: threeSteps }), 'INVALID_ARGUMENT'],
    ['unknown project', 'get_project', () => ({ name: 'no-such-project' }), 'NOT_FOUND'],
    ['wrong type', 'list_projects', () => ({ status: 42 }), 'INVALID_ARGUMENT'],
    ['unknown project', 'claim_step', () => ({ project: 'no-such-project', agent_id: 'a' }), 'NOT_FOUND'],
    ['not the holder', 'start_step', () => ({ step_id: stepId, agent_id: 'intruder' }), 'LEASE_LOST'],
    ['unknown step', 'start_step', () => ({ step_id: `${name}/99`, agent_id: 'holder' }), 'NOT_FOUND'],
    ['missing commit_hash', 'complete_step', () => ({ step_id: stepId, agent_id: 'holder' }), 'INVALID_ARGUMENT'],
    [
      'files_modified not a list',
      'complete_step',
      () => ({ step_id: stepId, commit_hash: 'abcd', files_modified: '{"a":1}', agent_id: 'holder' }),
      'INVALID_ARGUMENT',
    ],
    ['missing reason', 'fail_step', () => ({ step_id: stepId, agent_id: 'holder' }), 'INVALID_ARGUMENT'],
    ['malformed step id', 'get_step', () => ({ step_id: 'step twelve' }), 'INVALID_ARGUMENT'],
    ['a bare number no import kept', 'get_step', () => ({ step_id: 987654 }), 'NOT_FOUND'],
    ['bad scope type', 'get_available_steps', () => ({ scope: ['x'] }), 'INVALID_ARGUMENT'],
    ['negative timeout', 'detect_stale_work', () => ({ timeout_minutes: -1 }), 'INVALID_ARGUMENT'],
    ['recovering a step nobody holds', 'recover_step', () => ({ step_id: `${name}/2` }), 'CONFLICT'],
    ['recovering a step that did not fail', 'recover_failed_step', () => ({ step_id: stepId }), 'CONFLICT'],
    ['unknown project', 'get_metrics', () => ({ project: 'no-such-project' }), 'NOT_FOUND'],
    ['limit out of range', 'get_agent_events', () => ({ limit: 0 }), 'INVALID_ARGUMENT'],
    ['heartbeat on a step not held', 'heartbeat', () => ({ agent_id: 'intruder', step_id: stepId }), 'LEASE_LOST'],
  ];
  test.each(cases)('%s (%s)', async (_what, tool, args, code) => {
    const r = await call(mcp, tool, args());
    expect(r.isError).toBe(true);
    expect(r.error?.code).toBe(code);
    expect(r.error?.message.length).toBeGreaterThan(20);
  });
});
