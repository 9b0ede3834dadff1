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
