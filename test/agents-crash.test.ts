/** Agents across a worker killed with SIGKILL: a message sent meanwhile arrives once, a long-poll still answers. */
import { eventually, ok, uid, useWorkerProcess } from './support/harness';

const w = useWorkerProcess();

test('a message sent while the worker is dead is delivered once when it is back; the waiting fetch answers', async () => {
  const [lead, dev] = [uid('lead'), uid('dev')];
  for (const name of [lead, dev]) await ok(w.mcp, 'register_agent', { name, capabilities: ['x'] });
  const polling = ok(w.mcp, 'fetch_inbox', { agent_id: dev, wait_seconds: 60 });
  await new Promise((r) => setTimeout(r, 300));
  await w.kill();
  const sending = ok(w.mcp, 'send_message', {
    sender: lead,
    to: [dev],
    body: 'during the crash',
    request_id: 'crash-1',
  });
  await new Promise((r) => setTimeout(r, 500));
  w.start();
  const sent = await sending;
  expect(sent.delivered_to).toEqual([dev]);
  const got = await polling;
  expect(got.messages.map((m: any) => m.body)).toEqual(['during the crash']);
  // The sender retries after the crash with the same request_id: still one message.
  await ok(w.mcp, 'send_message', { sender: lead, to: [dev], body: 'during the crash', request_id: 'crash-1' });
  const inbox = await ok(w.mcp, 'fetch_inbox', { agent_id: dev });
  expect(inbox.count).toBe(1);
});

test('a push made while the worker is dead lands once, in one inbox, and is taken once', async () => {
  const cb = uid('crashcb');
  const dev = uid('pushee');
  await ok(w.mcp, 'register_agent', { name: dev, capabilities: ['ts'], codebase_id: cb });
  await eventually(async () => (await ok(w.mcp, 'get_task_board', { agent_id: dev })).agents[0]?.online === true);
  await w.kill();
  const creating = ok(w.mcp, 'create_task', {
    title: 'survive the crash',
    codebase_id: cb,
    required_capabilities: ['ts'],
    request_id: 'push-crash-1',
  });
  await new Promise((r) => setTimeout(r, 500));
  w.start();
  const created = await creating;
  expect(created).toMatchObject({ status: 'assigned', assigned_to: dev });
  // The creator retries after the crash with the same request_id: still one task, still one push.
  const again = await ok(w.mcp, 'create_task', {
    title: 'survive the crash',
    codebase_id: cb,
    required_capabilities: ['ts'],
    request_id: 'push-crash-1',
  });
  expect(again.id).toBe(created.id);
  const row = await eventually(async () => {
    const r = (await ok(w.mcp, 'get_task_board', { agent_id: dev })).agents[0];
    return r?.pending_tasks === 1 ? r : undefined;
  });
  expect(row.pending_tasks).toBe(1);
  const taken = await ok(w.mcp, 'get_next_task', { agent_id: dev });
  expect(taken).toMatchObject({ claimed: true, id: created.id });
  expect((await ok(w.mcp, 'get_next_task', { agent_id: dev, goal_id: cb })).claimed).toBe(false);
  expect((await ok(w.mcp, 'get_goal', { goal_id: cb })).task_counts.total).toBe(1);
});

test('queued work offered after a completion made while the worker is dead reaches its agent once, and is taken once', async () => {
  const cb = uid('offercb');
  const dev = uid('offeree');
  await ok(w.mcp, 'register_agent', { name: dev, capabilities: ['go'], codebase_id: cb });
  const first = await ok(w.mcp, 'create_task', { title: 'first', codebase_id: cb, required_capabilities: ['go'] });
  expect(first).toMatchObject({ status: 'assigned', assigned_to: dev });
  expect(await ok(w.mcp, 'get_next_task', { agent_id: dev })).toMatchObject({ claimed: true, id: first.id });
  // Busy: the next task is queued.
  const queued = await ok(w.mcp, 'create_task', { title: 'queued', codebase_id: cb, required_capabilities: ['go'] });
  expect(queued.status).toBe('queued');
  await w.kill();
  const completing = ok(w.mcp, 'complete_task', { agent_id: dev, task_id: first.id, request_id: 'offer-crash-1' });
  await new Promise((r) => setTimeout(r, 500));
  w.start();
  expect(await completing).toMatchObject({ task_id: first.id, status: 'completed' });
  // Retried after the crash with the same request_id: still one completion, and the queued task offered once.
  await ok(w.mcp, 'complete_task', { agent_id: dev, task_id: first.id, request_id: 'offer-crash-1' });
  const history = await eventually(async () => {
    const r = await ok(w.mcp, 'get_agent_task_history', { agent_id: dev });
    return r.planned.length > 0 ? r : undefined;
  });
  expect(history.planned.map((t: any) => t.task_id)).toEqual([queued.id]);
  expect(await ok(w.mcp, 'get_next_task', { agent_id: dev })).toMatchObject({ claimed: true, id: queued.id });
  await ok(w.mcp, 'complete_task', { agent_id: dev });
  expect((await ok(w.mcp, 'get_next_task', { agent_id: dev, goal_id: cb })).claimed).toBe(false);
  const goal = await ok(w.mcp, 'get_goal', { goal_id: cb });
  expect(goal.task_counts).toMatchObject({ total: 2, completed: 2 });
  const done = await ok(w.mcp, 'get_agent_task_history', { agent_id: dev });
  expect(done).toMatchObject({ current_task: null, planned: [], completed_tasks: 2 });
});
