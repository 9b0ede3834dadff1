/**
 * The task-graph workflows (state machines with timed states, phases, gates and role guidance) and skills that ship
 * with the `task-graph` toolset. Written for this project from the semantics task-graph-mcp's users know: a timed
 * state holds a claim, a non-timed one releases it, blocking states make dependents wait.
 */

export interface StateDef {
  exits: string[];
  /** A timed state holds a claim: entering it claims the task, leaving it releases the claim. */
  timed: boolean;
  guidance?: string;
}

export interface GateDef {
  /** Attachment type that satisfies the gate, e.g. `gate/tests`. */
  type: string;
  /** allow: advisory; warn: the update goes through with a warning; reject: the update is refused. */
  enforcement: 'allow' | 'warn' | 'reject';
  description: string;
}

export interface TgWorkflow {
  name: string;
  description: string;
  initial_state: string;
  /** Where a released or expired claim goes. */
  disconnect_state: string;
  /** A dependency on a task in one of these states blocks. */
  blocking_states: string[];
  states: Record<string, StateDef>;
  phases: string[];
  /** Keyed `status:<state>` (checked when a task leaves that state for another that is not a release) or `phase:<p>`. */
  gates: Record<string, GateDef[]>;
  roles: Record<string, string>;
}

/** Dependency types: which start a task (start-blocking), which finish one (completion-blocking), which inform. */
export const DEP_TYPES = {
  blocks: { blocks: 'start', description: 'from must finish before to can be claimed' },
  follows: { blocks: 'start', description: 'to comes after from (sequential siblings)' },
  contains: { blocks: 'completion', description: 'from is the parent of to; a parent completes after its children' },
  duplicate: { blocks: 'none', description: 'the two tasks describe the same work' },
  'see-also': { blocks: 'none', description: 'related, for reading' },
} as const;
export type DepType = keyof typeof DEP_TYPES;
export const DEP_TYPE_NAMES = Object.keys(DEP_TYPES) as DepType[];

const PHASES = [
  'explore',
  'design',
  'plan',
  'implement',
  'test',
  'review',
  'security',
  'doc',
  'integrate',
  'deliver',
  'deploy',
  'triage',
  'diagnose',
  'monitor',
  'optimize',
];

function baseStates(workingGuidance: string): Record<string, StateDef> {
  return {
    pending: { exits: ['assigned', 'working', 'cancelled'], timed: false },
    assigned: {
      exits: ['working', 'pending', 'cancelled'],
      timed: false,
      guidance: 'Assigned to you: read it, then claim it when you start.',
    },
    working: { exits: ['completed', 'failed', 'pending'], timed: true, guidance: workingGuidance },
    completed: {
      exits: ['pending'],
      timed: false,
      guidance: 'Done: attach what others need, then find the next task.',
    },
    failed: {
      exits: ['pending'],
      timed: false,
      guidance: 'Say what you tried and what blocked you (attach type "error"); link a blocker if one exists.',
    },
    cancelled: { exits: [], timed: false },
  };
}

function workflow(
  name: string,
  description: string,
  workingGuidance: string,
  roles: Record<string, string>,
  gates: Record<string, GateDef[]> = {},
): TgWorkflow {
  return {
    name,
    description,
    initial_state: 'pending',
    disconnect_state: 'pending',
    blocking_states: ['pending', 'assigned', 'working'],
    states: baseStates(workingGuidance),
    phases: PHASES,
    gates,
    roles,
  };
}

export const TG_WORKFLOWS: Record<string, TgWorkflow> = {
  default: workflow(
    'default',
    'General purpose: claim, work, complete; phases optional; no required gates.',
    'You hold this task. Call thinking() now and then (it keeps your claim alive), mark files before editing, attach results, then update(status="completed"), "failed", or "pending" to hand it back.',
    { worker: 'Claim one ready task at a time, finish it, attach results.' },
  ),
  swarm: workflow(
    'swarm',
    'Many interchangeable generalists pulling small independent tasks as fast as they can.',
    'Swarm: one task at a time, work fast, release fast. mark_updates() before editing, mark_file() what you touch, thinking() to stay alive, attach a gate/summary for the others.',
    {
      worker:
        'Loop: claim() with no task (or list_tasks(ready=true) then claim(task)), do it, update(status="completed"), repeat until nothing is ready.',
    },
    { 'status:working': [{ type: 'gate/summary', enforcement: 'allow', description: 'A short summary for others.' }] },
  ),
  hierarchical: workflow(
    'hierarchical',
    'A lead plans a tree of tasks and assigns them; workers take what is assigned to them.',
    'Work the task you were given; report to the lead with attachments; complete when the acceptance criteria hold.',
    {
      lead: 'Plan with create_tree, push work with update(assignee=...), watch with list_tasks and project_history.',
      worker: 'Take tasks assigned to you (list_tasks(owner=you) or status "assigned"), claim, work, complete.',
    },
    {
      'status:working': [{ type: 'gate/tests', enforcement: 'warn', description: 'Evidence that the tests pass.' }],
    },
  ),
  relay: workflow(
    'relay',
    'Specialists hand work on through phases; each hand-off carries its context.',
    'Relay: do your phase, attach a gate/handoff for the next specialist, then complete or move the phase on.',
    {
      specialist: 'Claim tasks in your phase, attach a gate/handoff describing what the next one needs, complete.',
    },
    {
      'status:working': [
        { type: 'gate/handoff', enforcement: 'reject', description: 'Context for the next specialist.' },
      ],
    },
  ),
  push: workflow(
    'push',
    'A coordinator pushes each task to a chosen worker; workers do not pick.',
    'Pushed to you: claim it, do it, complete it; ask the coordinator before taking anything else.',
    {
      coordinator: 'Create tasks and push each with update(task, assignee=worker). Watch list_agents for idle workers.',
      worker: 'Wait for tasks assigned to you; claim and finish them one at a time.',
    },
  ),
};

export function workflowNamed(name: string | undefined): TgWorkflow {
  return TG_WORKFLOWS[name ?? 'default'] ?? (TG_WORKFLOWS.default as TgWorkflow);
}

export function firstTimedState(wf: TgWorkflow): string {
  return Object.entries(wf.states).find(([, s]) => s.timed)?.[0] ?? 'working';
}

/** A state that ends the work (no timed state and not the initial or an assignment state). */
export function isTerminal(wf: TgWorkflow, state: string): boolean {
  return !wf.states[state]?.timed && !wf.blocking_states.includes(state);
}

export interface Skill {
  name: string;
  description: string;
  content: string;
}

export const TG_SKILLS: Skill[] = [
  {
    name: 'task-graph-basics',
    description: 'The everyday loop of a worker in a task-graph workspace.',
    content: [
      '# Working in a task-graph workspace',
      '1. connect(tags=[...]) once; keep the worker_id it returns.',
      '2. claim(worker_id) with no task takes the best ready task that fits your tags, atomically.',
      '   (Or list_tasks(ready=true, agent=you) and claim(worker_id, task); on a lost race, list again.)',
      '3. mark_file(agent, file, task) before editing; the mark ends with your claim.',
      '4. thinking(agent, thought) while you work: it shows what you do and keeps your claim alive.',
      '5. attach(task, type="gate/results", content=...), log_metrics(agent, task, cost_usd, values).',
      '6. update(worker_id, task, status="completed"). Repeat from 2 until claim finds nothing.',
    ].join('\n'),
  },
  {
    name: 'task-graph-coordinator',
    description: 'Planning and steering a workspace as a lead.',
    content: [
      '# Coordinating a task-graph workspace',
      '- create_tree(tree) builds a plan; join_mode "then" makes siblings sequential, "also" parallel.',
      '- link(from, to, type="blocks") adds ordering; cycles are refused.',
      '- update(task, assignee=worker) pushes a task to a worker; list_agents shows who is connected and what they hold.',
      '- check_gates(task) shows what a task still needs before it can complete.',
      '- query(sql) answers anything else with read-only SQL over the workspace (get_schema lists the tables).',
    ].join('\n'),
  },
];
