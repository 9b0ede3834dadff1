/** Agents across a worker killed with SIGKILL: a message sent meanwhile arrives once, a long-poll still answers. */
import { ok, uid, useWorkerProcess } from './support/harness';

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
