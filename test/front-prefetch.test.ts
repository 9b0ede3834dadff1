/**
 * Claims handed over ahead: behind a daemon, a looping agent's completion brings its next claim (the reservation it
 * left, client/prefetch.ts) to the agent's stdio front, which answers the agent's next get_next_task by itself. A
 * claim not taken — another call, the hold passing, the front killed — goes back to the queue without counting an
 * attempt; many fronts and a worker killed mid-run lose nothing and claim nothing twice; with the daemon killed, the
 * claim a front holds is still the agent's.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { agentRowQuery, agentWorkflowId, agentWorkQuery } from '../src/workflows/messages';
import { daemonSupport } from './support/daemon';
import { eventually, killHard, loopThroughWorkerKill, ok, uid, useWorkerProcess, within } from './support/harness';

const w = useWorkerProcess();
// A hold longer than the default (1 s), so that steps of these tests on a busy machine still count as a fast loop.
const d = daemonSupport(() => w.h, { AGENT_RUNTIME_PREFETCH_MS: '3000' });
// A hold far longer than any test: a claim back in the queue before it was sent back for another reason.
const patient = daemonSupport(() => w.h, { AGENT_RUNTIME_PREFETCH_MS: '60000' });
beforeAll(async () => {
  await Promise.all([d.start(), patient.start()]);
});
afterAll(async () => {
  await Promise.all([d.close(), patient.close()]);
});

async function newGoal(name: string, tasks: number): Promise<string> {
  const goalId = uid(name.replace(/ /g, '-'));
  await w.h.goals.createGoal({ goalId, name, tasks: Array.from({ length: tasks }, (_, i) => ({ title: `t${i}` })) });
  return goalId;
}

/** Two tasks claimed and completed at once: the second completion leaves the agent's next task claimed for it. */
async function loopTwice(client: Client, goalId: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const c = await ok(client, 'get_next_task', { goal_id: goalId });
    expect(c.claimed).toBe(true);
    await ok(client, 'update_task_status', { task_id: c.id, status: 'completed', lease_token: c.lease_token });
  }
}

/** The agent's next claim made while the daemon is stopped: only its front can answer it (within 10 s). */
async function claimWithDaemonStopped(client: Client, goalId: string): Promise<Record<string, any>> {
  d.process.kill('SIGSTOP');
  try {
    return await within(ok(client, 'get_next_task', { goal_id: goalId }), 10_000, 'the front');
  } finally {
    d.process.kill('SIGCONT');
  }
}

test("a looping agent's next claim comes with its completion, and its front answers get_next_task by itself", async () => {
  const goalId = await newGoal('ahead', 4);
  const { client } = await d.front({ AGENT_ID: 'looper' });
  await loopTwice(client, goalId);
  const held = await w.h.goals.getTask(`${goalId}/3`);
  expect(held).toMatchObject({ status: 'claimed', agent_id: 'looper', attempts: 0 });

  // With the daemon stopped, only the front can answer: it does, with the claim its completion brought.
  const third = await claimWithDaemonStopped(client, goalId);
  expect(third).toMatchObject({ claimed: true, id: held.id, agent_id: 'looper', lease_token: held.lease_token });

  // An ordinary claim: completed with its token, and the loop goes on to the end of the goal.
  await ok(client, 'update_task_status', { task_id: third.id, status: 'completed', lease_token: third.lease_token });
  const fourth = await ok(client, 'get_next_task', { goal_id: goalId });
  expect(fourth).toMatchObject({ claimed: true, id: `${goalId}/4` });
  await ok(client, 'update_task_status', { task_id: fourth.id, status: 'completed', lease_token: fourth.lease_token });
  expect((await ok(client, 'get_next_task', { goal_id: goalId })).claimed).toBe(false);
  const view = await ok(client, 'get_goal', { goal_id: goalId });
  expect(view.goal).toMatchObject({ status: 'completed' });
  expect(view.goal.task_counts.completed).toBe(4);
});

/** The task is back in the queue as if never claimed, and another agent gets it. */
async function expectBack(taskId: string): Promise<void> {
  const back = await eventually(async () => {
    const t = await w.h.goals.getTask(taskId);
    return t.status === 'ready' ? t : undefined;
  }, 20_000);
  expect(back).toMatchObject({ agent_id: null, attempts: 0 });
}

test('a claim handed over and not taken goes back without an attempt: another call, or the hold passing', async () => {
  // The agent calls something else first: the claim goes back though the daemon would hold it for a minute.
  const g1 = await newGoal('other call', 3);
  const busy = await patient.front({ AGENT_ID: 'switcher' });
  await loopTwice(busy.client, g1);
  expect(await w.h.goals.getTask(`${g1}/3`)).toMatchObject({ status: 'claimed', agent_id: 'switcher' });
  await ok(busy.client, 'get_goal', { goal_id: g1 });
  await expectBack(`${g1}/3`);
  const other = await ok(busy.client, 'get_next_task', { goal_id: g1, agent_id: 'someone-else' });
  expect(other).toMatchObject({ claimed: true, id: `${g1}/3`, agent_id: 'someone-else' });

  // The agent never calls again: the claim goes back after the hold.
  const g2 = await newGoal('hold passes', 3);
  const quiet = await d.front({ AGENT_ID: 'quiet' });
  await loopTwice(quiet.client, g2);
  expect(await w.h.goals.getTask(`${g2}/3`)).toMatchObject({ status: 'claimed', agent_id: 'quiet' });
  await expectBack(`${g2}/3`);
});

test('a front killed holding a claim it never answered with: the daemon sends the claim back', async () => {
  const goalId = await newGoal('front killed', 3);
  const doomed = await patient.front({ AGENT_ID: 'doomed' });
  await loopTwice(doomed.client, goalId);
  expect(await w.h.goals.getTask(`${goalId}/3`)).toMatchObject({ status: 'claimed', agent_id: 'doomed' });
  process.kill(doomed.pid, 'SIGKILL');
  await expectBack(`${goalId}/3`);
});

test('12 fronts looping on one goal, the worker killed mid-run: every task completed once, none held twice', async () => {
  const tasks = 120;
  const goalId = await newGoal('many fronts', tasks);
  const fronts = await Promise.all(Array.from({ length: 12 }, (_, i) => d.front({ AGENT_ID: `f${i}` })));
  const { completed, doubles } = await loopThroughWorkerKill(
    w,
    goalId,
    fronts.map((f, i) => ({ client: f.client, name: `f${i}` })),
  );

  expect(doubles).toEqual([]);
  expect(completed).toHaveLength(tasks);
  expect(new Set(completed).size).toBe(tasks);
  const view = await ok(fronts[0]!.client, 'get_goal', { goal_id: goalId });
  expect(view.goal.task_counts.completed).toBe(tasks);
}, 180_000);

test('a registered agent: its next claim comes with its completion, noted on it at once; untaken, the note is struck', async () => {
  const goalId = await newGoal('registered', 4);
  const name = uid('reg-looper');
  const { client } = await d.front({ AGENT_ID: name, AGENT_RUNTIME_TOOLSETS: 'all' });
  await ok(client, 'register_agent', { name, capabilities: ['x'] });
  const agent = (await w.h.lazy.get()).workflow.getHandle(agentWorkflowId(name));
  await loopTwice(client, goalId);
  const held = await w.h.goals.getTask(`${goalId}/3`);
  expect(held).toMatchObject({ status: 'claimed', agent_id: name, attempts: 0 });
  // Noted with the completion that claimed it: the agent is busy with it before it asks for it.
  expect(await agent.query(agentRowQuery)).toMatchObject({ status: 'busy', current_task: { id: held.id } });

  // Its front answers the claim by itself, as for any looping agent.
  const third = await claimWithDaemonStopped(client, goalId);
  expect(third).toMatchObject({ claimed: true, id: held.id, lease_token: held.lease_token });
  await ok(client, 'update_task_status', { task_id: third.id, status: 'completed', lease_token: third.lease_token });

  // The last task is claimed ahead too; the agent never asks: it goes back, and its take is struck from the record.
  const last = `${goalId}/4`;
  expect(await w.h.goals.getTask(last)).toMatchObject({ status: 'claimed', agent_id: name });
  await expectBack(last);
  const row = await eventually(async () => {
    const r = await agent.query(agentRowQuery);
    return r.status === 'idle' ? r : undefined;
  });
  expect(row).toMatchObject({ current_task: null, completed_tasks: 3 });
  const work = await agent.query(agentWorkQuery);
  expect(work.history.map((h) => `${h.event} ${h.task_id.split('/')[1]}`)).toEqual([
    'taken 1',
    'completed 1',
    'taken 2',
    'completed 2',
    'taken 3',
    'completed 3',
  ]);
});

test('8 registered agents looping through their fronts, the worker killed mid-run: each task done once, and each record adds up', async () => {
  const tasks = 80;
  const goalId = await newGoal('registered fronts', tasks);
  const names = Array.from({ length: 8 }, () => uid('reg-front'));
  const fronts = await Promise.all(names.map((name) => d.front({ AGENT_ID: name, AGENT_RUNTIME_TOOLSETS: 'all' })));
  for (const [i, f] of fronts.entries()) await ok(f.client, 'register_agent', { name: names[i], capabilities: ['x'] });
  const { completed, doubles } = await loopThroughWorkerKill(
    w,
    goalId,
    fronts.map((f, i) => ({ client: f.client, name: names[i]! })),
  );

  expect(doubles).toEqual([]);
  expect(completed).toHaveLength(tasks);
  expect(new Set(completed).size).toBe(tasks);
  // Every agent's own record: idle with no task (no claim made ahead left standing), and their completions add up to
  // the goal's, each counted once.
  const client = await w.h.lazy.get();
  const rows = await eventually(async () => {
    const all = await Promise.all(
      names.map((name) => client.workflow.getHandle(agentWorkflowId(name)).query(agentRowQuery)),
    );
    return all.every((r) => r.status === 'idle' && r.current_task === null) ? all : undefined;
  }, 30_000);
  expect(rows.reduce((sum, r) => sum + r.completed_tasks, 0)).toBe(tasks);
}, 180_000);

test('the daemon killed while a front holds a claim handed over: the agent still gets it and completes it', async () => {
  const goalId = await newGoal('daemon killed', 4);
  const { client, stderr } = await patient.front({ AGENT_ID: 'orphan' });
  await loopTwice(client, goalId);
  const held = await w.h.goals.getTask(`${goalId}/3`);
  expect(held).toMatchObject({ status: 'claimed', agent_id: 'orphan' });
  await killHard(patient.process);
  await eventually(() => Promise.resolve(/went away; serving this session directly/.test(stderr())));
  // The claim is durable in the goal, with the agent's lease: the front answers with it, and the agent finishes it
  // through the server the front now runs itself.
  const third = await ok(client, 'get_next_task', { goal_id: goalId });
  expect(third).toMatchObject({ claimed: true, id: held.id, lease_token: held.lease_token });
  await ok(client, 'update_task_status', { task_id: third.id, status: 'completed', lease_token: third.lease_token });
  expect(await w.h.goals.getTask(held.id)).toMatchObject({ status: 'completed', agent_id: 'orphan' });
  await patient.start(); // for afterAll
});
