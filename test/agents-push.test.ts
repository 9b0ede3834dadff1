/**
 * Push assignment: a task that needs capabilities goes to an online, idle agent of its codebase that has them all
 * (fewest queued first); the goal records the assignment, so only that agent can take it; with no fitting agent it is
 * queued, and only a fitting agent takes it from the pool.
 */
import { call, eventually, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function registered(mcp: Awaited<ReturnType<Harness['mcp']>>, names: Array<[string, string[], string]>) {
  for (const [name, capabilities, codebase] of names) {
    await ok(mcp, 'register_agent', { name, capabilities, codebase_id: codebase });
  }
  await eventually(async () => {
    const board = await ok(mcp, 'get_task_board', {});
    return names.every(([n]) => board.agents.some((r: any) => r.agent_id === n && r.online));
  });
}

test('a task is pushed to the fitting idle agent of its codebase, and only that agent can take it', async () => {
  const mcp = await h.mcp();
  const web = uid('web');
  const [full, half, other] = [uid('full'), uid('half'), uid('other')];
  await registered(mcp, [
    [full, ['ts', 'react'], web],
    [half, ['ts'], web],
    [other, ['ts', 'react'], uid('api')],
  ]);
  const created = await ok(mcp, 'create_task', {
    title: 'build the form',
    codebase_id: web,
    required_capabilities: ['ts', 'react'],
    priority: 'high',
    agent_id: 'lead',
  });
  expect(created).toMatchObject({ status: 'assigned', assigned_to: full, task_status: 'ready', priority: 8 });
  const stolen = await ok(mcp, 'get_next_task', { goal_id: web, agent_id: half });
  expect(stolen.claimed).toBe(false);
  expect(
    (await call(mcp, 'update_task_status', { task_id: created.id, status: 'in_progress', agent_id: half })).error?.code,
  ).toBe('CONFLICT');
  const board = await ok(mcp, 'get_task_board', { agent_id: full });
  expect(board.agents[0].pending_tasks).toBe(1);
  const mine = await ok(mcp, 'get_next_task', { agent_id: full }); // no goal: its inbox first
  expect(mine).toMatchObject({ claimed: true, id: created.id, agent_id: full });
  const done = await ok(mcp, 'complete_task', { agent_id: full, result: 'shipped' });
  expect(done).toMatchObject({ task_id: created.id, status: 'completed' });
  const after = await eventually(async () => {
    const r = (await ok(mcp, 'get_task_board', { agent_id: full })).agents[0];
    return r?.status === 'idle' && r.completed_tasks === 1 ? r : undefined;
  });
  expect(after.pending_tasks).toBe(0);
});

test('with no fitting agent the task is queued, and an unfit agent cannot take it from the pool', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const [pythonist, rustacean] = [uid('py'), uid('rs')];
  await registered(mcp, [[pythonist, ['python'], cb]]);
  const created = await ok(mcp, 'create_task', {
    title: 'port to rust',
    codebase_id: cb,
    required_capabilities: ['rust'],
  });
  expect(created).toMatchObject({ status: 'queued', assigned_to: null });
  expect((await ok(mcp, 'get_next_task', { goal_id: cb, agent_id: pythonist })).claimed).toBe(false);
  // A fitting agent that registers is pushed the queued task at once.
  const reg = await ok(mcp, 'register_agent', { name: rustacean, capabilities: ['rust'], codebase_id: cb });
  expect(reg.pending_tasks).toBe(1);
  const taken = await ok(mcp, 'get_next_task', { agent_id: rustacean });
  expect(taken).toMatchObject({ claimed: true, id: created.id });
  // Busy now: a new rust task is queued, and pushed to it once it is idle again (its completion does not wait).
  const later = await ok(mcp, 'create_task', { title: 'more rust', codebase_id: cb, required_capabilities: ['rust'] });
  expect(later.status).toBe('queued');
  await ok(mcp, 'complete_task', { agent_id: rustacean, result: 'ported' });
  const history = await eventually(async () => {
    const r = await ok(mcp, 'get_agent_task_history', { agent_id: rustacean });
    return r.planned.length > 0 ? r : undefined;
  });
  expect(history.planned.map((t: any) => t.task_id)).toEqual([later.id]);
  expect(await ok(mcp, 'get_task', { task_id: later.id })).toMatchObject({ status: 'ready' });
  const next = await ok(mcp, 'get_next_task', { agent_id: rustacean });
  expect(next).toMatchObject({ claimed: true, id: later.id });
});

test('an offline agent is never pushed to', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const sleepy = uid('sleepy');
  await ok(mcp, 'register_agent', { name: sleepy, capabilities: ['go'], codebase_id: cb, agent_ttl_seconds: 1 });
  await eventually(async () => (await ok(mcp, 'get_task_board', { agent_id: sleepy })).agents[0]?.status === 'offline');
  const created = await ok(mcp, 'create_task', { title: 'go work', codebase_id: cb, required_capabilities: ['go'] });
  expect(created).toMatchObject({ status: 'queued', assigned_to: null });
});

test('create_agent_task and register_task_set go straight into one agent’s inbox', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const solo = uid('solo');
  await registered(mcp, [[solo, ['docs'], cb]]);
  const one = await ok(mcp, 'create_agent_task', { agent_id: solo, title: 'write the README', priority: 'urgent' });
  expect(one.tasks).toHaveLength(1);
  const set = await ok(mcp, 'register_task_set', {
    agent: solo,
    task_set: [{ title: 'changelog' }, { title: 'api docs', priority: 'low' }],
  });
  expect(set.pending_tasks).toBe(3);
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    const t = await ok(mcp, 'get_next_task', { agent_id: solo });
    order.push(t.title);
    await ok(mcp, 'complete_task', { agent_id: solo, task_id: t.id });
  }
  expect(order).toEqual(['write the README', 'changelog', 'api docs']); // urgent, normal, low
  const history = await ok(mcp, 'get_agent_task_history', { agent_id: solo });
  expect(history).toMatchObject({ current_task: null, planned: [], completed_tasks: 3 });
  expect(history.history.map((h: any) => `${h.event} ${h.title}`).slice(0, 2)).toEqual([
    'completed api docs',
    'taken api docs',
  ]);
  await ok(mcp, 'create_agent_task', { agent_id: solo, title: 'next week' });
  const detailed = await eventually(async () => {
    const d = (await ok(mcp, 'get_detailed_task_board', { agent_id: solo })).agents[0];
    return d?.planned?.length === 1 ? d : undefined;
  });
  expect(detailed.planned[0].title).toBe('next week');
  expect(detailed.recent.at(-1)).toMatchObject({ event: 'completed', title: 'api docs' });
  expect((await call(mcp, 'create_agent_task', { agent_id: uid('nobody'), title: 'x' })).error?.code).toBe('NOT_FOUND');
});

test('50 agents, 500 tasks created at once: each pushed to one fitting agent (or queued), balanced, all done exactly once', async () => {
  const mcp = await h.mcp();
  const cb = uid('team');
  const pool = ['ts', 'py', 'go', 'rust'];
  const names = Array.from({ length: 50 }, (_, i) => `${cb}-a${i}`);
  const capsOf = new Map(names.map((n, i) => [n, [pool[i % 4] as string, pool[(i + 1) % 4] as string]]));
  await Promise.all(
    names.map((n) => ok(mcp, 'register_agent', { name: n, capabilities: capsOf.get(n), codebase_id: cb })),
  );
  await eventually(async () => (await ok(mcp, 'get_task_board', { codebase_id: cb })).online === 50, 60_000);

  const needs = Array.from({ length: 500 }, (_, i) => pool[(i * 7) % 4] as string);
  const created: any[] = new Array(500);
  let next = 0;
  await Promise.all(
    Array.from({ length: 25 }, async () => {
      while (next < needs.length) {
        const i = next++;
        created[i] = await ok(mcp, 'create_task', {
          title: `t${i}`,
          codebase_id: cb,
          required_capabilities: [needs[i]],
        });
      }
    }),
  );
  const pushes = new Map(names.map((n) => [n, 0]));
  created.forEach((c, i) => {
    expect(['assigned', 'queued']).toContain(c.status);
    if (c.status === 'assigned') {
      expect(capsOf.get(c.assigned_to)).toContain(needs[i]); // never to an unfit agent
      pushes.set(c.assigned_to, (pushes.get(c.assigned_to) ?? 0) + 1);
    }
  });
  const { gini } = await import('../src/bench/pull');
  expect(gini([...pushes.values()])).toBeLessThanOrEqual(0.2);

  // Every agent works until nothing is left for it: its inbox first, then the pool (only what it is capable of).
  const doneBy = new Map<string, string>();
  let extra = 0;
  await Promise.all(
    names.map(async (n) => {
      for (;;) {
        const t = await ok(mcp, 'get_next_task', { agent_id: n, goal_id: undefined });
        if (!t.claimed) {
          const pool2 = await ok(mcp, 'get_next_task', { agent_id: n, goal_id: cb });
          if (!pool2.claimed) return;
          doneBy.set(pool2.id, n);
          await ok(mcp, 'complete_task', { agent_id: n, task_id: pool2.id });
          continue;
        }
        expect(doneBy.has(t.id)).toBe(false);
        // Without goal_id an agent may also take fitting work left by other tests of this file: count this goal's.
        if (t.goal_id === cb) doneBy.set(t.id, n);
        else extra += 1;
        await ok(mcp, 'complete_task', { agent_id: n });
      }
    }),
  );
  expect(doneBy.size).toBe(500);
  for (const [taskId, agent] of doneBy) {
    const i = Number((await ok(mcp, 'get_task', { task_id: taskId })).title.slice(1));
    expect(capsOf.get(agent)).toContain(needs[i]);
  }
  const goal = await ok(mcp, 'get_goal', { goal_id: cb });
  expect(goal.task_counts.completed).toBe(500);
  const board = await eventually(async () => {
    const b = await ok(mcp, 'get_task_board', { codebase_id: cb });
    return b.agents.every((r: any) => r.status === 'idle' && r.current_task === null) ? b : undefined;
  }, 60_000);
  // Every completion counted once on the board (plus what the team took from other tests' goals).
  expect(board.agents.reduce((n: number, r: any) => n + r.completed_tasks, 0)).toBe(500 + extra);
}, 300_000);

test('an idle agent long-polling get_next_task is handed a task pushed to it', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const waiter = uid('waiter');
  await registered(mcp, [[waiter, ['sql'], cb]]);
  await ok(mcp, 'create_goal', { name: 'codebase', goal_id: cb });
  const waiting = ok(mcp, 'get_next_task', { agent_id: waiter, goal_id: cb, wait_seconds: 20 });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  const created = await ok(mcp, 'create_task', {
    title: 'index the table',
    codebase_id: cb,
    required_capabilities: ['sql'],
  });
  const got = await waiting;
  expect(Date.now() - t0).toBeLessThan(10_000); // answered by the push, not at the end of its 20 s
  expect(got).toMatchObject({ claimed: true, id: created.id, agent_id: waiter });
  expect(created).toMatchObject({ status: 'assigned', assigned_to: waiter });
  // It holds the task; the task is not also waiting in its inbox.
  const history = await ok(mcp, 'get_agent_task_history', { agent_id: waiter });
  expect(history).toMatchObject({ current_task: { id: created.id }, planned: [] });
});

test('tasks pushed to an agent that stays offline past its grace go back to the pool for others', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const [gone, other] = [uid('gone'), uid('other')];
  await ok(mcp, 'register_agent', {
    name: gone,
    capabilities: ['ops'],
    codebase_id: cb,
    agent_ttl_seconds: 1,
    offline_grace_seconds: 1,
  });
  const pushed = await ok(mcp, 'create_agent_task', { agent_id: gone, title: 'rotate the keys' });
  const taskId = pushed.tasks[0].id;
  await eventually(async () => {
    const t = await ok(mcp, 'get_task', { task_id: taskId });
    return t.metadata.assigned_to === null;
  }, 30_000);
  await ok(mcp, 'register_agent', { name: other, capabilities: ['ops'], codebase_id: cb });
  const taken = await ok(mcp, 'get_next_task', { agent_id: other, goal_id: cb });
  expect(taken).toMatchObject({ claimed: true, id: taskId });
});

test('a task assigned to an agent but never put into its inbox (a push cut off halfway) is freed when the agent leaves', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const [leaver, other] = [uid('leaver'), uid('other')];
  await registered(mcp, [[leaver, ['ops'], cb]]);
  await ok(mcp, 'create_goal', { name: 'codebase', goal_id: cb });
  const created = await h.goals.createTasks(cb, [{ title: 'stranded', tags: ['ops'] }]);
  const taskId = created[0]!.id;
  // What a process that went away between the two steps of a push leaves behind: the assignment, no inbox entry.
  await h.goals.assignTask(taskId, leaver);
  await ok(mcp, 'register_agent', { name: other, capabilities: ['ops'], codebase_id: cb });
  expect((await ok(mcp, 'get_next_task', { agent_id: other, goal_id: cb })).claimed).toBe(false);
  expect((await ok(mcp, 'get_agent_task_history', { agent_id: leaver })).planned).toEqual([]);
  await ok(mcp, 'unregister_agent', { agent_id: leaver, reason: 'done' });
  await eventually(async () => (await ok(mcp, 'get_task', { task_id: taskId })).metadata.assigned_to === null, 30_000);
  expect(await ok(mcp, 'get_next_task', { agent_id: other, goal_id: cb })).toMatchObject({ claimed: true, id: taskId });
});

test('a registration retried with its request_id is offered the same queued task again, not a second one', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const [first, second] = [uid('first'), uid('second')];
  const queued = [];
  for (const title of ['one', 'two']) {
    queued.push(await ok(mcp, 'create_task', { title, codebase_id: cb, required_capabilities: ['go'] }));
  }
  expect(queued.map((t) => t.status)).toEqual(['queued', 'queued']);
  const args = { name: first, capabilities: ['go'], codebase_id: cb, request_id: uid('reg') };
  expect((await ok(mcp, 'register_agent', args)).pending_tasks).toBe(1);
  expect((await ok(mcp, 'register_agent', args)).pending_tasks).toBe(1);
  const planned = (await ok(mcp, 'get_agent_task_history', { agent_id: first })).planned;
  expect(planned).toHaveLength(1);
  // The other queued task is still in the pool: the next fitting agent is offered it.
  expect((await ok(mcp, 'register_agent', { name: second, capabilities: ['go'], codebase_id: cb })).pending_tasks).toBe(
    1,
  );
  const theirs = (await ok(mcp, 'get_agent_task_history', { agent_id: second })).planned;
  expect([planned[0].task_id, theirs[0].task_id].sort()).toEqual(queued.map((t) => t.id).sort());
});

test('a task assigned to an agent but never put into its inbox reaches the inbox when the agent registers again', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const agent = uid('agent');
  await registered(mcp, [[agent, ['ops'], cb]]);
  await ok(mcp, 'create_goal', { name: 'codebase', goal_id: cb });
  const created = await h.goals.createTasks(cb, [{ title: 'stranded', tags: ['ops'] }]);
  await h.goals.assignTask(created[0]!.id, agent);
  expect((await ok(mcp, 'get_agent_task_history', { agent_id: agent })).planned).toEqual([]);
  const again = await ok(mcp, 'register_agent', { name: agent, capabilities: ['ops'], codebase_id: cb, force: true });
  expect(again.pending_tasks).toBe(1);
  const planned = (await ok(mcp, 'get_agent_task_history', { agent_id: agent })).planned;
  expect(planned.map((t: any) => t.task_id)).toEqual([created[0]!.id]);
});

test('an agent of a codebase whose task claimed ahead goes back untaken is offered queued work then', async () => {
  const mcp = await h.mcp();
  const cb = uid('cb');
  const looper = uid('looper');
  await registered(mcp, [[looper, ['go'], cb]]);
  const elsewhere = uid('elsewhere');
  await ok(mcp, 'create_goal', { name: 'elsewhere', goal_id: elsewhere });
  for (const title of ['a', 'b', 'c']) await ok(mcp, 'create_task', { goal_id: elsewhere, title });
  for (let i = 0; i < 2; i++) {
    const c = await ok(mcp, 'get_next_task', { goal_id: elsewhere, agent_id: looper });
    await ok(mcp, 'complete_task', { agent_id: looper, task_id: c.id, result: 'done' });
  }
  // Looping: its second completion claimed `c` for it, so it is busy and a new task of its codebase is queued.
  const queued = await ok(mcp, 'create_task', { title: 'go work', codebase_id: cb, required_capabilities: ['go'] });
  expect(queued.status).toBe('queued');
  // It never asks for `c`: once that goes back (the hold passes), it is idle and offered the queued task.
  const history = await eventually(async () => {
    const r = await ok(mcp, 'get_agent_task_history', { agent_id: looper });
    return r.planned.length > 0 ? r : undefined;
  }, 15_000);
  expect(history.planned.map((t: any) => t.task_id)).toEqual([queued.id]);
  expect(history.current_task).toBeNull();
  expect(await ok(mcp, 'get_task', { task_id: `${elsewhere}/3` })).toMatchObject({ status: 'ready' });
});
