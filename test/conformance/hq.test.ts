/**
 * hq's README, example by example (../shared/seeds/hq.md: "MCP Tools" and "Usage Examples"), through a spawned stdio
 * server with no AGENT_ID and a spawned HTTP server with no identity. Only claim_step and heartbeat name an agent,
 * as in hq: start_step, complete_step and fail_step act for the step's holder. docs/CONFORMANCE.md is the table.
 */
import { replay, type Section, type Transport } from './replay';

const run = Date.now().toString(36);
const STEP = ['id', 'step_num', 'branch', 'scope', 'status', 'agent_id', 'claimed_at'];

function sections(t: Transport): Section[] {
  const auth = `myapp-auth-feature-${t}-${run}`; // project names are global ids: unique per run of the suite
  const flow = `myapp-auth-${t}-${run}`;
  const crash = `${auth}-crash`;
  const idle = `${auth}-idle`;
  const twoSteps = (name: string) => ({
    name,
    base_commit: 'abc123',
    steps: [
      { step_num: 1, branch: 'step1/auth-add-jwt-utils', scope: 'auth', depends_on: [] },
      { step_num: 2, branch: 'step2/auth-add-middleware', scope: 'auth', depends_on: [1] },
    ],
  });
  return [
    {
      name: 'Project Management',
      rows: [
        { tool: 'create_project', args: twoSteps(auth), fields: ['id', 'name', 'base_commit', 'status', 'steps'] },
        {
          tool: 'get_project',
          args: { name: auth },
          fields: ['name', 'status', 'steps'],
          check: (r) => expect(r.steps.map((s: any) => s.status)).toEqual(['not_started', 'not_started']),
        },
        {
          tool: 'list_projects',
          fields: ['projects'],
          check: (r) => expect(r.projects.map((p: any) => p.name)).toContain(auth),
        },
        { tool: 'list_projects', args: { status: 'active' }, check: (r) => expect(r.count).toBeGreaterThan(0) },
      ],
    },
    {
      name: 'Basic Worktree Workflow',
      rows: [
        {
          tool: 'create_project',
          args: {
            name: flow,
            base_commit: 'abc123',
            steps: [
              { step_num: 1, branch: 'step1/auth-add-jwt-utils', scope: 'auth', depends_on: [] },
              { step_num: 2, branch: 'step2/auth-add-middleware', scope: 'auth', depends_on: [1] },
              { step_num: 3, branch: 'step3/api-add-endpoints', scope: 'api', depends_on: [1, 2] },
            ],
          },
        },
        {
          tool: 'claim_step',
          args: { project: flow, agent_id: 'agent-1' },
          fields: STEP,
          check: (r) =>
            expect(r).toMatchObject({
              step_num: 1,
              branch: 'step1/auth-add-jwt-utils',
              status: 'claimed',
              agent_id: 'agent-1',
            }),
          keep: (r, c) => (c.step = r.id),
        },
        {
          tool: 'start_step',
          args: (c) => ({ step_id: c.step, worktree: '/Users/home/myapp-step1-auth-add-jwt-utils' }),
          fields: ['ok'],
          check: (r) => expect(r).toMatchObject({ ok: true, acted_as: 'agent-1' }),
        },
        { tool: 'heartbeat', args: (c) => ({ step_id: c.step, agent_id: 'agent-1' }), fields: ['ok'] },
        {
          tool: 'complete_step',
          args: (c) => ({
            step_id: c.step,
            commit_hash: 'def456',
            files_modified: ['src/utils/jwt.go', 'src/utils/jwt_test.go'],
            notes: 'JWT signing and validation complete',
          }),
          fields: ['ok'],
          check: (r) => expect(r.step).toMatchObject({ status: 'completed', last_commit: 'def456' }),
        },
        {
          tool: 'claim_step',
          args: { project: flow, agent_id: 'agent-2' },
          fields: STEP,
          check: (r) => expect(r).toMatchObject({ step_num: 2, branch: 'step2/auth-add-middleware' }), // step 1 satisfied
          keep: (r, c) => (c.step2 = r.id),
        },
        {
          tool: 'get_step',
          args: (c) => ({ step_id: c.step }),
          fields: [
            'id',
            'project_id',
            'step_num',
            'branch',
            'scope',
            'status',
            'worktree',
            'agent_id',
            'last_commit',
            'files_modified',
            'notes',
          ],
        },
        { tool: 'fail_step', args: (c) => ({ step_id: c.step2, reason: 'middleware tests fail' }), fields: ['ok'] },
        {
          tool: 'get_metrics',
          args: { project: flow },
          fields: ['total_steps', 'completed', 'avg_time_hours'],
          check: (r) => expect(r).toMatchObject({ total_steps: 3, completed: 1 }),
        },
        {
          tool: 'get_metrics',
          args: { agent_id: 'agent-1' },
          fields: ['steps_completed', 'avg_time_hours', 'scopes'],
          check: (r) => expect(r.steps_completed).toBe(1),
        },
        {
          tool: 'get_agent_events',
          args: { agent_id: 'agent-1', project: flow, limit: 100 },
          check: (r) =>
            expect(r.events.map((e: any) => e.type)).toEqual(
              expect.arrayContaining(['task_claimed', 'task_completed']),
            ),
        },
      ],
    },
    {
      name: 'Crash Recovery and the Cross-Project Work Queue',
      rows: [
        { tool: 'create_project', args: twoSteps(crash), setup: true },
        {
          tool: 'claim_step',
          args: { project: crash, agent_id: 'agent-1' },
          keep: (r, c) => (c.step = r.id),
          setup: true,
        },
        {
          tool: 'detect_stale_work',
          args: { timeout_minutes: 15 },
          check: (r) => expect(r.count).toBe(0), // agent-1 claimed a moment ago
        },
        {
          tool: 'detect_stale_work',
          args: { timeout_minutes: 0 },
          check: (r, c) => {
            expect(r.stale.map((s: any) => s.step.id)).toEqual([c.step]);
            expect(r.stale[0].step).toMatchObject({ branch: 'step1/auth-add-jwt-utils', agent_id: 'agent-1' });
          },
        },
        {
          tool: 'recover_step',
          args: (c) => ({ step_id: c.step }),
          fields: ['ok'],
          check: (r) => expect(r.step.status).toBe('not_started'),
        },
        {
          tool: 'get_available_steps',
          args: {},
          check: (r) => expect(r.steps.map((s: any) => s.step_num)).toEqual([1]),
        },
        { tool: 'get_available_steps', args: { scope: 'ui' }, check: (r) => expect(r.steps).toEqual([]) },
        {
          tool: 'claim_step',
          args: { project: crash, agent_id: 'agent-2' },
          check: (r) => expect(r).toMatchObject({ step_num: 1, agent_id: 'agent-2' }), // picks up abandoned work
          keep: (r, c) => (c.step = r.id),
        },
        { tool: 'fail_step', args: (c) => ({ step_id: c.step, reason: 'agent crashed twice' }), setup: true },
        {
          tool: 'recover_failed_step',
          args: (c) => ({ step_id: c.step }),
          fields: ['ok'],
          check: (r) => expect(r.step.status).toBe('not_started'),
        },
      ],
    },
    {
      name: 'No work available',
      rows: [
        { tool: 'create_project', args: twoSteps(idle), setup: true },
        { tool: 'claim_step', args: { project: idle, agent_id: 'agent-1' }, setup: true },
        {
          tool: 'claim_step', // step 2 waits on step 1: "null if no work available", not an error
          args: { project: idle, agent_id: 'agent-2' },
          check: (r) => expect(r).toMatchObject({ claimed: false, step: null }),
        },
      ],
    },
  ];
}

describe.each(['stdio', 'http'] as const)('hq README over %s, no identity', (transport) => {
  test.each(sections(transport).map((s) => [s.name, s] as const))('%s', async (_name, section) => {
    await replay(section, transport);
  });
});
