/** hq's model as pure functions: steps to plans, step views, staleness and metrics. */
import { codeOf } from '../support/domain';
import * as p from '../../src/domain/projects';
import * as g from '../../src/domain/goal';
import {
  computeMetrics,
  parseSteps,
  parseStringList,
  staleSteps,
  stepsToPlan,
  renderProjectDetails,
  toStep,
} from '../../src/domain/projects';

const T0 = Date.parse('2026-01-01T00:00:00Z');

test('steps become a plan ordered by step_num with dependencies by index', () => {
  const plan = stepsToPlan(
    parseSteps(
      JSON.stringify([
        { step_num: 20, branch: 'b', scope: 's/b', depends_on: [10] },
        { step_num: 10, branch: 'a', scope: 's/a' },
      ]),
    ),
  );
  expect(plan.map((p) => [p.title, p.dependencies, p.metadata?.step_num])).toEqual([
    ['Step 10: a', [], 10],
    ['Step 20: b', [0], 20],
  ]);
});

test('bad steps are refused with a reason', () => {
  expect(codeOf(() => parseSteps('[{"step_num":1,'))).toBe('INVALID_ARGUMENT');
  expect(codeOf(() => parseSteps([{ step_num: 1, scope: 's' }]))).toBe('INVALID_ARGUMENT');
  expect(codeOf(() => stepsToPlan([]))).toBe('INVALID_ARGUMENT');
  expect(codeOf(() => stepsToPlan(parseSteps([{ step_num: 1, branch: 'a', scope: 's', depends_on: [2] }])))).toBe(
    'INVALID_ARGUMENT',
  );
  const cyclic = parseSteps([
    { step_num: 1, branch: 'a', scope: 's', depends_on: [3] },
    { step_num: 2, branch: 'b', scope: 's', depends_on: [1] },
    { step_num: 3, branch: 'c', scope: 's', depends_on: [2] },
  ]);
  expect(codeOf(() => stepsToPlan(cyclic))).toBe('DEPENDENCY_CYCLE');
});

test('files_modified as an array, a JSON string or a comma list', () => {
  expect(parseStringList(['a', 'b'], 'f')).toEqual(['a', 'b']);
  expect(parseStringList('["a","b"]', 'f')).toEqual(['a', 'b']);
  expect(parseStringList('a, b', 'f')).toEqual(['a', 'b']);
  expect(codeOf(() => parseStringList('{"a":1}', 'f'))).toBe('INVALID_ARGUMENT');
});

function project(): g.GoalState {
  const s = g.newGoalState({ id: 'p', name: 'p', leaseSeconds: 900 }, T0);
  g.addTasks(
    s,
    stepsToPlan(
      parseSteps([
        { step_num: 1, branch: 'a', scope: 'api' },
        { step_num: 2, branch: 'b', scope: 'ui', depends_on: [1] },
        { step_num: 3, branch: 'c', scope: 'api' },
      ]),
    ),
    T0,
  );
  return s;
}

test('a step shows hq’s fields and vocabulary', () => {
  const s = project();
  g.claimTask(s, { agentId: 'x' }, T0);
  g.startTask(s, { taskId: 'p/1', agentId: 'x', metadata: { worktree: '/wt' } }, T0);
  expect(toStep(s.tasks[0] as never)).toMatchObject({
    id: 'p/1',
    project_id: 'p',
    step_num: 1,
    branch: 'a',
    scope: 'api',
    status: 'in_progress',
    agent_id: 'x',
    worktree: '/wt',
  });
  expect(toStep(s.tasks[1] as never)).toMatchObject({ status: 'not_started', ready: false, depends_on: [1] });
});

test('stale steps are the held ones without a recent heartbeat', () => {
  const s = project();
  g.claimTask(s, { agentId: 'x' }, T0);
  g.claimTask(s, { agentId: 'y' }, T0);
  g.heartbeat(s, { agentId: 'y' }, T0 + 10 * 60_000);
  const stale = staleSteps(s.tasks, T0 + 16 * 60_000, 15);
  expect(stale.map((x) => [x.step.id, x.minutes_since_heartbeat])).toEqual([['p/1', 16]]);
});

test('metrics count per status, scope and agent, with average durations', () => {
  const s = project();
  g.claimTask(s, { agentId: 'x' }, T0);
  g.startTask(s, { taskId: 'p/1', agentId: 'x' }, T0 + 10_000);
  g.completeTask(s, { taskId: 'p/1', agentId: 'x' }, T0 + 70_000);
  g.claimTask(s, { agentId: 'y', taskId: 'p/3' }, T0);
  g.failTask(s, { taskId: 'p/3', agentId: 'y', error: 'no' }, T0 + 5_000);
  const m = computeMetrics(s.tasks);
  expect(m.counts).toEqual({
    total: 3,
    not_started: 1,
    claimed: 0,
    in_progress: 0,
    completed: 1,
    failed: 1,
    cancelled: 0,
  });
  expect(m.avg_seconds_claim_to_complete).toBe(70);
  expect(m.avg_seconds_start_to_complete).toBe(60);
  expect(m.by_scope.api).toMatchObject({ total: 2, completed: 1, failed: 1 });
  expect(m.by_agent).toEqual({
    x: { completed: 1, failed: 0, active: 0, avg_seconds_claim_to_complete: 70 },
    y: { completed: 0, failed: 1, active: 0, avg_seconds_claim_to_complete: null },
  });
});

test('a project’s Web UI details speak hq: its statuses, branches and commits', () => {
  const s = project();
  g.claimTask(s, { agentId: 'x' }, T0);
  const md = renderProjectDetails(s, 25, T0);
  expect(md).toContain('### Project: p');
  expect(md).toContain('| step | status | agent | branch | commit | lease ends (UTC) | blocked by | title |');
  expect(md).toMatch(/\| 1 \| claimed \| x \| a \| {2}\| 00:15:00 \|/);
  expect(md).toContain('| 2 | not_started | ');
  expect(md).toContain('| 3 | not_started (ready) | ');
  expect(md).not.toMatch(/Goal:|\bready \|/);
  expect(md.endsWith('\n\u00a0\n')).toBe(true);
});

test('step counts from a goal row equal those computed from its tasks', () => {
  const tasks = (
    ['pending', 'ready', 'blocked', 'claimed', 'in_progress', 'completed', 'failed', 'completed'] as const
  ).map((status) => ({
    status,
    scope: null,
    agent_id: null,
    completed_at: null,
    claimed_at: null,
    started_at: null,
  })) as unknown as Parameters<typeof p.computeMetrics>[0];
  const counts = {
    total: 0,
    pending: 0,
    ready: 0,
    claimed: 0,
    in_progress: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    blocked: 0,
  };
  for (const t of tasks) {
    counts[t.status] += 1;
    counts.total += 1;
  }
  expect(p.stepCountsOf(counts)).toEqual(p.computeMetrics(tasks).counts);
});
