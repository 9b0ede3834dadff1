/**
 * agent-runtime-mcp's README, example by example (../shared/seeds/agent-runtime-mcp.md, "Usage Examples"), through a
 * spawned stdio server with no AGENT_ID and a spawned HTTP server with no identity. docs/CONFORMANCE.md is the table.
 */
import { replay, RESTART, type Section, type Transport } from './replay';

const run = `${Date.now().toString(36)}`;
const sequential = ['Research requirements for', 'Plan approach for', 'Implement', 'Test', 'Document'];

/** Setup rows: a goal with the README's sequential decomposition, its id kept as `goal`. */
function plannedGoal(): Section['rows'] {
  return [
    {
      tool: 'create_goal',
      args: { name: 'Build REST API', description: 'JWT auth' },
      keep: (r, c) => (c.goal = r.id),
      setup: true,
    },
    { tool: 'decompose_goal', args: (c) => ({ goal_id: c.goal, strategy: 'sequential' }), setup: true },
  ];
}

function sections(t: Transport): Section[] {
  const agent = `researcher_agent-${t}-${run}`; // the README's "researcher_agent", unique per run of the suite
  return [
    {
      name: 'Basic Goal Creation',
      rows: [
        {
          tool: 'create_goal',
          args: {
            name: 'Build REST API',
            description: 'Create RESTful API for user authentication with JWT tokens',
            metadata: { priority: 'high', project: 'auth-service' },
          },
          fields: ['id', 'name', 'status'],
          check: (r) => expect(r).toMatchObject({ name: 'Build REST API', status: 'active' }),
        },
      ],
    },
    ...(['sequential', 'parallel', 'hierarchical'] as const).map((strategy): Section => ({
      name: `Decomposition (${strategy})`,
      rows: [
        {
          tool: 'create_goal',
          args: { name: 'Build REST API', description: 'JWT auth' },
          keep: (r, c) => (c.goal = r.id),
        },
        {
          tool: 'decompose_goal',
          args: (c) => ({ goal_id: c.goal, strategy }),
          fields: ['goal_id', 'strategy', 'tasks_created', 'count'],
          check: (r, c) => {
            expect(r).toMatchObject({
              goal_id: c.goal,
              strategy,
              count: { sequential: 5, parallel: 3, hierarchical: 4 }[strategy],
            });
            expect(r.tasks_created).toHaveLength(r.count);
            if (strategy === 'sequential') {
              expect(r.tasks.map((x: any, k: number) => x.title.startsWith(sequential[k]))).toEqual([
                true,
                true,
                true,
                true,
                true,
              ]);
              expect(r.tasks[1].dependencies).toEqual([r.tasks_created[0]]);
            }
            if (strategy === 'parallel') expect(r.tasks.every((x: any) => x.dependencies.length === 0)).toBe(true);
            if (strategy === 'hierarchical') expect(r.tasks[0].title).toMatch(/^Phase 1: Foundation/);
          },
        },
      ],
    })),
    {
      name: 'Task Queue Processing',
      rows: [
        ...plannedGoal(),
        {
          tool: 'get_next_task',
          fields: ['id', 'title', 'priority'],
          check: (r) =>
            expect(r).toMatchObject({ priority: 10, title: expect.stringMatching(/^Research requirements/) }),
          keep: (r, c) => (c.task = r.id),
        },
        {
          tool: 'update_task_status',
          args: (c) => ({ task_id: c.task, status: 'in_progress' }),
          fields: ['id', 'status'],
          check: (r) => expect(r.status).toBe('in_progress'),
        },
        {
          tool: 'update_task_status',
          args: (c) => ({
            task_id: c.task,
            status: 'completed',
            result: 'Requirements documented in docs/api-spec.md',
          }),
          fields: ['id', 'status', 'result'],
          check: (r) => expect(r).toMatchObject({ status: 'completed', acted_as: 'anonymous' }),
        },
        {
          tool: 'get_next_task',
          fields: ['id', 'title'],
          check: (r) => expect(r.title).toMatch(/^Plan approach/), // "since Research (101) is complete"
        },
      ],
    },
    {
      name: 'Manual Task Creation with Dependencies',
      rows: [
        ...plannedGoal(),
        {
          // The README's [103, 104] are the goal's Implementation and Testing tasks: numbers 3 and 4 of this goal.
          tool: 'create_task',
          args: (c) => ({
            goal_id: c.goal,
            title: 'Deploy to production',
            description: 'Deploy authentication service',
            priority: 7,
            dependencies: [3, 4],
          }),
          fields: ['id', 'title', 'priority', 'dependencies', 'status'],
          check: (r, c) => {
            expect(r.dependencies).toEqual([`${c.goal}/3`, `${c.goal}/4`]);
            expect(r.status).toBe('pending');
          },
        },
      ],
    },
    {
      name: 'Relay Race Pipeline (48-Agent)',
      rows: [
        {
          tool: 'create_relay_pipeline',
          args: {
            name: 'Research Paper Analysis',
            goal: 'Extract insights from 10 AGI papers',
            agent_types: ['researcher', 'analyzer', 'synthesizer', 'validator', 'formatter'],
            token_budget: 100000,
          },
          fields: ['pipeline_id', 'agent_count'],
          check: (r) => expect(r.agent_count).toBe(5),
          keep: (r, c) => (c.pipeline = r.pipeline_id),
        },
        {
          tool: 'get_relay_status',
          args: (c) => ({ pipeline_id: c.pipeline }),
          fields: ['current_step', 'total_steps', 'status', 'quality_scores', 'tokens_used'],
          check: (r) =>
            expect(r).toMatchObject({ total_steps: 5, status: 'pending', quality_scores: [], tokens_used: 0 }),
        },
        {
          tool: 'get_relay_baton',
          args: (c) => ({ pipeline_id: c.pipeline }),
          fields: ['baton', 'prompt', 'baton.baton_id', 'baton.sequence_position'],
        },
        {
          tool: 'advance_relay',
          args: (c) => ({
            pipeline_id: c.pipeline,
            quality_score: 0.88,
            l_score: 0.85,
            output_entity_id: 456,
            tokens_used: 8234,
            output_summary: 'Found 3 key patterns across papers',
          }),
          fields: ['success', 'next_baton', 'next_step', 'total_steps'],
          check: (r) => {
            expect(r).toMatchObject({ success: true, next_step: 2, total_steps: 5 });
            expect(r.next_baton.input_entity_id).toBe('456');
          },
        },
        {
          tool: 'advance_relay',
          args: (c) => ({ pipeline_id: c.pipeline, quality_score: 0.9, l_score: 0.8, tokens_used: 1000 }),
          setup: true,
        },
        {
          tool: 'advance_relay', // the synthesizer's step misses its gate, so step 2 has something to retry
          args: (c) => ({ pipeline_id: c.pipeline, quality_score: 0.2, l_score: 0.8, tokens_used: 1000 }),
          setup: true,
          check: (r) => expect(r).toMatchObject({ success: false, status: 'failed', state: 'awaiting_retry' }),
        },
        {
          tool: 'retry_relay_step',
          args: (c) => ({ pipeline_id: c.pipeline, step_index: 2 }),
          fields: ['success', 'baton', 'retry_count'],
          check: (r) => expect(r.retry_count).toBe(1),
        },
        {
          tool: 'list_relay_pipelines',
          args: { status: 'in_progress' },
          fields: ['count', 'pipelines'],
          check: (r, c) => expect(r.pipelines.map((p: any) => p.pipeline_id)).toContain(c.pipeline),
        },
      ],
    },
    {
      name: 'Circuit Breaker (Fault Tolerance)',
      rows: [
        {
          tool: 'circuit_breaker_status',
          args: { agent_id: agent },
          fields: ['agent_id', 'state', 'failure_count', 'success_count'],
          check: (r) => expect(r).toMatchObject({ agent_id: agent, state: 'CLOSED', failure_count: 0 }),
        },
        {
          tool: 'circuit_breaker_record_failure',
          args: { agent_id: agent, failure_type: 'timeout', error_message: 'API request timed out after 30s' },
          check: (r) => expect(r.failure_count).toBe(1),
        },
        {
          tool: 'circuit_breaker_list',
          fields: ['total_breakers', 'open_circuits', 'half_open_circuits', 'breakers'],
          check: (r) => expect(r.breakers.map((b: any) => b.agent_id)).toContain(agent),
        },
        {
          tool: 'circuit_breaker_configure',
          args: {
            agent_id: agent,
            failure_threshold: 5,
            window_seconds: 60,
            cooldown_seconds: 300,
            fallback_agent: 'generalist',
          },
          check: (r) => expect(r.config).toMatchObject({ failure_threshold: 5, fallback_agent: 'generalist' }),
        },
        {
          tool: 'circuit_breaker_trip',
          args: { agent_id: agent, reason: 'Manual intervention - debugging required' },
          check: (r) => expect(r).toMatchObject({ state: 'OPEN', can_execute: false }),
        },
        {
          tool: 'circuit_breaker_list',
          check: (r) => expect(r.open_circuits).toContain(agent),
        },
        {
          tool: 'circuit_breaker_reset',
          args: { agent_id: agent },
          check: (r) => expect(r.state).toBe('CLOSED'),
        },
        { tool: 'circuit_breaker_record_success', args: { agent_id: agent }, fields: ['success_count'] },
      ],
    },
    {
      name: 'Cross-Session Resume',
      rows: [
        { tool: 'create_goal', args: { name: 'Big Project' }, keep: (r, c) => (c.goal = r.id) },
        { tool: 'decompose_goal', args: (c) => ({ goal_id: c.goal }) },
        { tool: 'get_next_task', fields: ['id'], keep: (r, c) => (c.task1 = r.id) },
        { tool: 'update_task_status', args: (c) => ({ task_id: c.task1, status: 'in_progress' }) },
        RESTART, // [Close Claude Code, restart later]
        {
          tool: 'list_tasks',
          args: { status: 'in_progress' },
          check: (r, c) => expect(r.tasks.map((x: any) => x.id)).toEqual([c.task1]), // still marked as in_progress
        },
        {
          tool: 'update_task_status',
          args: (c) => ({ task_id: c.task1, status: 'completed' }),
          check: (r) => expect(r.status).toBe('completed'),
        },
        {
          tool: 'get_next_task',
          check: (r, c) => expect(r.id).toBe(`${c.goal}/2`), // task2, next in the dependency chain
        },
      ],
    },
  ];
}

describe.each(['stdio', 'http'] as const)('agent-runtime-mcp README over %s, no identity', (transport) => {
  test.each(sections(transport).map((s) => [s.name, s] as const))('%s', async (_name, section) => {
    await replay(section, transport);
  });
});
