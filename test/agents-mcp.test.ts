/**
 * The agents toolset: registration as a durable workflow, liveness by a durable timer (offline, then the agent's
 * claims back to the pool with no call made), durable mailboxes delivered exactly once with a long-poll, and a board
 * read in one Visibility call.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { defineQuery } from '@temporalio/workflow';
import { readPart } from '../src/client/agents';
import { work, type AgentWork } from '../src/domain/agents';
import {
  agentMessagesQuery,
  agentRowQuery,
  agentStateQuery,
  agentWorkflowId,
  agentWorkQuery,
} from '../src/workflows/messages';
import { call, eventually, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** A registered agent named `prefix-…` (capability x) and a new goal `prefix-…` holding tasks with these titles. */
async function agentAndGoal(mcp: Client, prefix: string, titles: string[]): Promise<{ name: string; goalId: string }> {
  const name = uid(prefix);
  await ok(mcp, 'register_agent', { name, capabilities: ['x'] });
  const goalId = uid(prefix);
  await ok(mcp, 'create_goal', { name: prefix, goal_id: goalId });
  for (const title of titles) await ok(mcp, 'create_task', { goal_id: goalId, title });
  return { name, goalId };
}

test('register, resume after going offline with the mailbox intact, refuse a second live registration unless forced', async () => {
  const mcp = await h.mcp();
  const name = uid('builder');
  const reg = await ok(mcp, 'register_agent', {
    name,
    capabilities: ['typescript', 'testing'],
    codebase_id: 'web',
    agent_ttl_seconds: 1,
    offline_grace_seconds: 60,
  });
  expect(reg).toMatchObject({ agent_id: name, status: 'idle', online: true, capabilities: ['typescript', 'testing'] });
  expect(reg.session_token).toBe(`${name}:1`);
  const dup = await call(mcp, 'register_agent', { name, capabilities: ['x'] });
  expect(dup.error?.code).toBe('CONFLICT');

  await ok(mcp, 'send_message', { sender: 'lead', to: [name], subject: 'hi', body: 'welcome' });
  // No call for a second: offline by the workflow's own timer.
  const offline = await eventually(async () => {
    const b = await ok(mcp, 'get_task_board', { agent_id: name });
    return b.agents[0]?.status === 'offline' ? b.agents[0] : undefined;
  }, 15_000);
  expect(offline.online).toBe(false);
  const back = await ok(mcp, 'register_agent', { name, capabilities: ['typescript'] });
  expect(back).toMatchObject({ status: 'idle', online: true, session_token: `${name}:2` });
  const inbox = await ok(mcp, 'fetch_inbox', { agent: name });
  expect(inbox.messages.map((m: any) => m.body)).toEqual(['welcome']);
  const forced = await ok(mcp, 'register_agent', { name, capabilities: ['go'], force: true });
  expect(forced.capabilities).toEqual(['go']);
});

test('an agent that stops calling goes offline and its claimed task returns to the pool with no call made', async () => {
  const mcp = await h.mcp();
  const name = uid('flaky');
  await ok(mcp, 'register_agent', { name, capabilities: ['any'], agent_ttl_seconds: 1, offline_grace_seconds: 1 });
  const goalId = uid('pool');
  await ok(mcp, 'create_goal', { name: 'pool', goal_id: goalId });
  await ok(mcp, 'create_task', { goal_id: goalId, title: 'work' });
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
  expect(claim.agent_id).toBe(name);
  const task = await eventually(async () => {
    const t = await ok(mcp, 'get_task', { task_id: claim.id });
    return t.status === 'ready' ? t : undefined;
  }, 30_000);
  expect(task.agent_id).toBeNull();
  const events = await h.goals.queryGoal(goalId, (await import('../src/workflows/messages')).getEventsQuery, {});
  expect(events.map((e) => e.type)).toContain('task_recovered');
});

test('an agent working past its ttl stays online on one liveness timer per ttl, and a change writes only what changed', async () => {
  const mcp = await h.mcp();
  const name = uid('steady');
  await ok(mcp, 'register_agent', {
    name,
    capabilities: ['x'],
    codebase_id: `cb-${name}`,
    agent_ttl_seconds: 2,
    offline_grace_seconds: 60,
  });
  // Tasks pushed, taken and completed for 4.5 s (over two ttls): every call moves the deadline.
  const started = Date.now();
  let worked = 0;
  while (Date.now() - started < 4_500 || worked < 12) {
    await ok(mcp, 'create_agent_task', { agent_id: name, title: `t${worked}` });
    const took = await ok(mcp, 'get_next_task', { agent_id: name });
    expect(took.claimed).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await ok(mcp, 'complete_task', { agent_id: name, result: 'ok' });
    worked += 1;
  }
  const client = await h.lazy.get();
  const agent = client.workflow.getHandle(agentWorkflowId(name));
  const state = await agent.query(agentStateQuery);
  expect(state).toMatchObject({ status: 'idle', completed_tasks: worked });
  expect(state.events.map((e) => e.type)).not.toContain('offline'); // never offline while it worked
  const events = (await agent.fetchHistory()).events ?? [];
  const timers = events.filter((e) => e.timerStartedEventAttributes).length;
  const changes = events.filter(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes ?? e.workflowExecutionSignaledEventAttributes,
  ).length;
  expect(changes).toBeGreaterThanOrEqual(3 * worked); // pushed, taken (a Signal), finished
  expect(events.some((e) => e.timerFiredEventAttributes)).toBe(true); // it fired while the agent was live …
  expect(timers).toBeLessThanOrEqual(5); // … and was armed again once per ttl, not restarted by each of them
  expect(events.some((e) => e.timerCanceledEventAttributes)).toBe(false);
  // The search attributes are written when the status changes (busy, idle), not with each push to its inbox.
  const upserts = events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
  expect(upserts).toBeLessThanOrEqual(2 * worked + 5);
  // Then no call: offline within its ttl, by the timer armed last.
  const offline = await eventually(async () => {
    const b = await ok(mcp, 'get_task_board', { agent_id: name });
    return b.agents[0]?.status === 'offline' ? b.agents[0] : undefined;
  }, 15_000);
  expect(offline.online).toBe(false);
});

test('an agent with a short ttl that keeps calling stays online: its calls keep it alive however short the ttl', async () => {
  const mcp = await h.mcp();
  const name = uid('quick');
  await ok(mcp, 'register_agent', { name, capabilities: ['x'], agent_ttl_seconds: 1, offline_grace_seconds: 60 });
  // Nothing but reads of its inbox, every 200 ms for 3 s: three ttls (a touch every 2 s would leave it offline).
  const started = Date.now();
  while (Date.now() - started < 3_000) {
    await ok(mcp, 'fetch_inbox', { agent_id: name });
    await new Promise((r) => setTimeout(r, 200));
  }
  const state = await (await h.lazy.get()).workflow.getHandle(agentWorkflowId(name)).query(agentStateQuery);
  expect(state.events.map((e) => e.type)).not.toContain('offline');
  expect(state.status).toBe('idle');
});

test('reads of an agent with a full mailbox carry what they answer, not the mailbox', async () => {
  const mcp = await h.mcp();
  const name = uid('reader');
  await ok(mcp, 'register_agent', { name, capabilities: ['x'], codebase_id: `cb-${name}` });
  // 30 messages of 20 KB awaiting acknowledgement: 600 KB of mailbox.
  for (let i = 0; i < 30; i++) {
    const body = `${i} `.padEnd(20_000, 'x');
    await ok(mcp, 'send_message', { sender: 'lead', to: [name], subject: `m${i}`, body, ack_required: true });
  }
  await ok(mcp, 'create_agent_task', { agent_id: name, title: 'review' });
  const agent = (await h.lazy.get()).workflow.getHandle(agentWorkflowId(name));
  const size = (v: unknown) => JSON.stringify(v).length;

  const inbox = await ok(mcp, 'fetch_inbox', { agent_id: name, limit: 3 });
  expect(inbox.messages.map((m: any) => m.subject)).toEqual(['m0', 'm1', 'm2']);
  const next = await ok(mcp, 'fetch_inbox', { agent_id: name, limit: 2, since: inbox.messages[2].seq });
  expect(next.messages.map((m: any) => m.subject)).toEqual(['m3', 'm4']);
  // What the workflow answered with: those messages alone, and the work view without the mailbox.
  const picked = await agent.query(agentMessagesQuery, { limit: 2, since: inbox.messages[2].seq });
  expect(picked.map((m) => [m.id, m.body.length])).toEqual(next.messages.map((m: any) => [m.id, 20_000]));
  expect(size(picked)).toBeLessThan(45_000);
  const view = await agent.query(agentWorkQuery);
  expect(view).not.toHaveProperty('mailbox');
  expect(view.inbox.map((t) => t.title)).toEqual(['review']);
  expect(size(view)).toBeLessThan(5_000);
  expect(size(await agent.query(agentStateQuery))).toBeGreaterThan(600_000);

  // The calls that read the inbox and the task history answer from it.
  const took = await ok(mcp, 'get_next_task', { agent_id: name });
  expect(took).toMatchObject({ claimed: true, title: 'review' });
  const history = await ok(mcp, 'get_agent_task_history', { agent_id: name });
  expect(history).toMatchObject({ current_task: { title: 'review' }, planned: [] });
  expect(history.history.map((e: any) => e.event)).toEqual(['taken']);

  // A worker that predates the narrower queries (a rolling upgrade) is read whole, and the part picked here.
  const old = defineQuery<AgentWork>('work-from-a-later-version');
  const fallback = await readPart(
    agent,
    (a) => a.query(old),
    (s) => work(s),
  );
  expect(fallback).toEqual(await agent.query(agentWorkQuery));
});

test('a message nobody has read is never let go of; once read, the mailbox keeps the newest within its size', async () => {
  const mcp = await h.mcp();
  const name = uid('busy');
  await ok(mcp, 'register_agent', { name, capabilities: ['x'] });
  // 30 messages of 20 KB that need no acknowledgement, sent while the agent reads nothing: 600 KB.
  const send = (i: number) =>
    ok(mcp, 'send_message', { sender: 'lead', to: [name], subject: `m${i}`, body: `${i} `.padEnd(20_000, 'x') });
  for (let i = 0; i < 30; i++) expect((await send(i)).delivered_to).toEqual([name]);
  const agent = (await h.lazy.get()).workflow.getHandle(agentWorkflowId(name));
  expect((await agent.query(agentRowQuery)).pending_messages).toBe(30); // all unread

  const first = await ok(mcp, 'fetch_inbox', { agent_id: name, limit: 20 });
  expect(first.messages.map((m: any) => m.subject)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  expect(first.messages.every((m: any) => m.read_at === null)).toBe(true); // the first time it is answered
  // The rest with a long-poll (an Update: read in the same step).
  const rest = await ok(mcp, 'fetch_inbox', { agent_id: name, since: first.messages[19].seq, wait_seconds: 1 });
  expect(rest.count).toBe(10);
  const read = await eventually(async () => {
    const s = await agent.query(agentStateQuery);
    return s.mailbox.every((m) => m.read_at) ? s : undefined;
  });
  expect(read.mailbox).toHaveLength(30);
  expect((await ok(mcp, 'fetch_inbox', { agent_id: name, limit: 1 })).messages[0].read_at).not.toBeNull();

  // Read, they may go: the next delivery keeps the newest read ones within 128 K characters, and the new one.
  await send(30);
  const kept = (await agent.query(agentStateQuery)).mailbox.map((m) => m.subject);
  expect(kept).toEqual(['m24', 'm25', 'm26', 'm27', 'm28', 'm29', 'm30']);
});

test('messages: delivered once per recipient even when the send is retried; long-poll answers at once; acknowledge', async () => {
  const mcp = await h.mcp();
  const [a, b, c] = [uid('a'), uid('b'), uid('c')];
  for (const name of [a, b, c])
    await ok(mcp, 'register_agent', { name, capabilities: ['chat'], codebase_id: `cb-${a}` });

  const waiting = ok(mcp, 'fetch_inbox', { agent_id: b, wait_seconds: 30 });
  await new Promise((r) => setTimeout(r, 300)); // the long-poll is waiting in b's workflow
  const t0 = Date.now();
  const sent = await ok(mcp, 'send_message', {
    sender: a,
    to: [b, c],
    subject: 'plan',
    body: 'take the API',
    importance: 'high',
    ack_required: true,
    request_id: 'send-1',
  });
  expect(sent.delivered_to.sort()).toEqual([b, c].sort());
  const got = await waiting;
  expect(Date.now() - t0).toBeLessThan(10_000); // answered by the send, not at the end of its 30 s
  expect(got.messages).toHaveLength(1);
  expect(got.messages[0]).toMatchObject({ from: a, subject: 'plan', importance: 'high', ack_required: true });

  const again = await ok(mcp, 'send_message', {
    sender: a,
    to: [b, c],
    subject: 'plan',
    body: 'take the API',
    importance: 'high',
    ack_required: true,
    request_id: 'send-1',
  });
  expect(again).toEqual(sent); // the same request_id answers the same, and delivers nothing twice
  expect((await ok(mcp, 'fetch_inbox', { worker_id: c })).count).toBe(1);

  // `*` reaches the online agents of the sender's codebase that the board (Visibility) lists.
  await eventually(async () => (await ok(mcp, 'get_task_board', { codebase_id: `cb-${a}` })).online === 3);
  const broadcast = await ok(mcp, 'send_message', { sender: c, to: ['*'], body: 'standup' });
  expect(broadcast.delivered_to.sort()).toEqual([a, b].sort());

  const acked = await ok(mcp, 'acknowledge_message', { agent_id: b, message_id: got.messages[0].id });
  expect(acked.message.acked_at).not.toBeNull();
  // The board is a Visibility read: it shows the acknowledgement a moment later.
  const board = await eventually(async () => {
    const r = await ok(mcp, 'get_task_board', { codebase_id: `cb-${a}` });
    return r.agents.find((x: any) => x.agent_id === b)?.pending_messages === 1 ? r : undefined;
  });
  expect(board.agents.map((r: any) => r.agent_id).sort()).toEqual([a, b, c].sort());
  expect(board.agents.find((r: any) => r.agent_id === b).pending_messages).toBe(1); // the standup
});

test('bad input gets a clear error and changes nothing', async () => {
  const mcp = await h.mcp();
  const name = uid('careful');
  await ok(mcp, 'register_agent', { name, capabilities: ['x'] });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['register_agent', { name: uid('n'), capabilities: [] }, 'INVALID_ARGUMENT'],
    ['send_message', { sender: name, to: [], body: 'x' }, 'INVALID_ARGUMENT'],
    ['send_message', { sender: name, to: [name], body: 'x'.repeat(1_000_001) }, 'INVALID_ARGUMENT'],
    ['fetch_inbox', { agent_id: uid('nobody') }, 'NOT_FOUND'],
    ['unregister_agent', { agent_id: uid('nobody') }, 'NOT_FOUND'],
    ['acknowledge_message', { agent_id: name, message_id: 'msg-none' }, 'NOT_FOUND'],
    ['fetch_inbox', { agent_id: name, agent: 'someone-else' }, 'INVALID_ARGUMENT'],
  ];
  for (const [tool, args, code] of cases)
    expect([tool, (await call(mcp, tool, args)).error?.code]).toEqual([tool, code]);
  const unknown = await ok(mcp, 'send_message', { sender: name, to: [uid('ghost')], body: 'hello?' });
  expect(unknown.not_delivered).toHaveLength(1);
  expect((await ok(mcp, 'fetch_inbox', { agent_id: name })).count).toBe(0);
  expect((await ok(mcp, 'get_task_board', { agent_id: name })).agents[0]).toMatchObject({
    status: 'idle',
    capabilities: ['x'],
  });
});

test('unregister always succeeds for a registered agent and puts its task back', async () => {
  const mcp = await h.mcp();
  const { name, goalId } = await agentAndGoal(mcp, 'leave', ['half done']);
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
  await ok(mcp, 'update_task_status', { task_id: claim.id, status: 'in_progress', agent_id: name });
  const left = await ok(mcp, 'unregister_agent', { agent_id: name, reason: 'done for today' });
  expect(left).toMatchObject({ status: 'offline', online: false });
  await eventually(async () => (await ok(mcp, 'get_task', { task_id: claim.id })).status === 'ready', 30_000);
});

test('agents that unregister the moment they claim put their task back at once, before Visibility lists them as holders', async () => {
  const mcp = await h.mcp();
  const goalId = uid('flee');
  await ok(mcp, 'create_goal', { name: 'flee', goal_id: goalId });
  const names = Array.from({ length: 4 }, () => uid('flee'));
  for (const name of names) await ok(mcp, 'register_agent', { name, capabilities: ['x'] });
  // One task more than agents: the goal keeps ready work, so a new holder reaches Visibility with the next refresh.
  for (let i = 0; i <= names.length; i += 1) await ok(mcp, 'create_task', { goal_id: goalId, title: `t${i}` });
  const claimed = await Promise.all(
    names.map(async (name) => {
      const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
      await ok(mcp, 'unregister_agent', { agent_id: name, reason: 'gone at once' });
      return claim.id as string;
    }),
  );
  expect(new Set(claimed).size).toBe(names.length);
  // Long before any lease runs out (300 s): every task is ready again, put back by its agent's release.
  await eventually(async () => {
    const { tasks } = await ok(mcp, 'list_tasks', { goal_id: goalId });
    return tasks.every((t: { status: string }) => t.status === 'ready');
  }, 30_000);
  // Each release counted its one task (recorded when the release's activity returns, a moment after the task is back).
  const client = await h.lazy.get();
  for (const name of names) {
    const released = await eventually(async () => {
      const state = await client.workflow.getHandle(agentWorkflowId(name)).query(agentStateQuery);
      const r = state.events.filter((e) => e.type === 'claims_released').map((e) => e.detail);
      return r.length > 0 ? r : undefined;
    });
    expect(released).toEqual(['1 task(s)']);
  }
});

test('the board shows an agent busy with the task it took, then idle with one completion; never busy without a task', async () => {
  const mcp = await h.mcp();
  const { name, goalId } = await agentAndGoal(mcp, 'board', ['write the parser']);
  const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
  const busy = await eventually(async () => {
    const r = (await ok(mcp, 'get_task_board', { agent_id: name })).agents[0];
    return r?.status === 'busy' ? r : undefined;
  });
  expect(busy.current_task).toEqual({ id: claim.id, title: 'write the parser' });
  await ok(mcp, 'update_task_status', { task_id: claim.id, status: 'completed', agent_id: name, result: 'done' });
  const idle = await eventually(async () => {
    const r = (await ok(mcp, 'get_task_board', { agent_id: name })).agents[0];
    return r?.status === 'idle' ? r : undefined;
  });
  expect(idle).toMatchObject({ current_task: null, completed_tasks: 1 });
});

test('a registered agent’s claim and finish are noted with Signals, and its row shows each the moment the call answers', async () => {
  const mcp = await h.mcp();
  const { name, goalId } = await agentAndGoal(mcp, 'noted', ['first', 'second']);
  const agent = (await h.lazy.get()).workflow.getHandle(agentWorkflowId(name));

  for (const title of ['first', 'second']) {
    const claim = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
    expect(claim.title).toBe(title);
    // Read at once, not eventually: the Signal is in the agent's history before the claim answers.
    expect(await agent.query(agentRowQuery)).toMatchObject({ status: 'busy', current_task: { id: claim.id, title } });
    const done = await ok(mcp, 'update_task_status', { task_id: claim.id, status: 'completed', agent_id: name });
    expect(done.status).toBe('completed');
    expect(await agent.query(agentRowQuery)).toMatchObject({ status: 'idle', current_task: null });
  }
  // In the agent's history: each claim and each finish a `touch` Signal saying what it took or finished, in order,
  // and no Update on the agent (its calls never waited for the agent's worker).
  const events = (await agent.fetchHistory()).events ?? [];
  const json = (p: { data?: Uint8Array | null } | undefined) => JSON.parse(Buffer.from(p?.data ?? []).toString());
  const notes = events
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => a?.signalName === 'touch')
    .map((a) => json(a?.input?.payloads?.[0]))
    .filter((n) => n.took || n.finished)
    .map((n) => (n.took ? `took ${n.took.title}` : `finished ${n.finished.completed ? 'completed' : 'failed'}`));
  expect(notes).toEqual(['took first', 'finished completed', 'took second', 'finished completed']);
  const updates = events
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)
    .filter((n) => n !== undefined && n !== 'registerAgent');
  expect(updates).toEqual([]);
});

test('a claim retried with its request_id is one take in the agent’s history, and its completion one finish', async () => {
  const mcp = await h.mcp();
  const { name, goalId } = await agentAndGoal(mcp, 'retake', ['only']);
  const args = { goal_id: goalId, agent_id: name, request_id: uid('claim') };
  const first = await ok(mcp, 'get_next_task', args);
  expect(await ok(mcp, 'get_next_task', args)).toMatchObject({ claimed: true, id: first.id });
  const held = await ok(mcp, 'get_agent_task_history', { agent_id: name });
  expect(held.current_task).toEqual({ id: first.id, title: 'only' });
  expect(held.history.map((e: any) => e.event)).toEqual(['taken']);
  const done = { task_id: first.id, agent_id: name, result: 'done', request_id: uid('done') };
  await ok(mcp, 'complete_task', done);
  await ok(mcp, 'complete_task', done);
  const after = await ok(mcp, 'get_agent_task_history', { agent_id: name });
  expect(after.history.map((e: any) => `${e.event} ${e.task_id}`)).toEqual([
    `completed ${first.id}`,
    `taken ${first.id}`,
  ]);
  expect(after).toMatchObject({ current_task: null, completed_tasks: 1 });
});

test('a registered agent looping on a goal is busy with its next task from its completion, and takes it with its claim', async () => {
  const mcp = await h.mcp();
  const { name, goalId } = await agentAndGoal(mcp, 'ahead', ['one', 'two', 'three']);
  const agent = (await h.lazy.get()).workflow.getHandle(agentWorkflowId(name));
  for (const title of ['one', 'two']) {
    const c = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
    expect(c.title).toBe(title);
    await ok(mcp, 'complete_task', { agent_id: name, result: 'done' });
  }
  // Looping: the second completion claimed `three` for the agent, and said so on the agent with its own note.
  const row = await agent.query(agentRowQuery);
  expect(row).toMatchObject({ status: 'busy', current_task: { title: 'three' }, completed_tasks: 2 });
  // Not asked for yet: complete_task without a task id does not finish it.
  expect((await call(mcp, 'complete_task', { agent_id: name, result: 'never seen' })).error?.code).toBe('CONFLICT');
  const three = await ok(mcp, 'get_next_task', { goal_id: goalId, agent_id: name });
  expect(three).toMatchObject({ claimed: true, id: row.current_task?.id, attempts: 0 });
  await ok(mcp, 'complete_task', { agent_id: name, result: 'done' });
  const work = await agent.query(agentWorkQuery);
  expect(work.history.map((e) => `${e.event} ${e.title}`)).toEqual([
    'taken one',
    'completed one',
    'taken two',
    'completed two',
    'taken three',
    'completed three',
  ]);
  expect(work.completed_tasks).toBe(3);
});

test('`agent-runtime register` and `agent-runtime board` at a terminal', async () => {
  const { execFile } = await import('node:child_process');
  const path = await import('node:path');
  const { ROOT } = await import('./support/harness');
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: h.config.temporalAddress,
    AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
  };
  // Asynchronously: the worker serving these commands runs in this process.
  const cli = (...args: string[]) =>
    new Promise<{ status: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'dist', 'cli.js'), ...args],
        { env, encoding: 'utf8' },
        (err, stdout) => resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
  const name = uid('terminal');
  const reg = await cli('register', name, 'typescript', 'review', '--codebase-id', 'web');
  expect(reg.status).toBe(0);
  expect(reg.stdout).toContain(`Registered ${name} (idle; capabilities typescript, review)`);
  const board = await eventually(async () => {
    const r = await cli('board');
    return r.stdout.includes(name) ? r : undefined;
  });
  expect(board.status).toBe(0);
  expect(board.stdout).toMatch(new RegExp(`${name}\\s+idle`));
  expect(board.stdout).toMatch(/Goals \(\d+ running\)/);
  expect((await cli('register', name)).status).toBe(1); // no capabilities: usage, nothing changed
  const task = await cli(
    'create-task',
    'review the PR',
    'the auth one',
    '--codebase-id',
    'web',
    '--capabilities',
    'review',
    '--priority',
    'high',
  );
  expect(task.status).toBe(0);
  expect(task.stdout).toMatch(new RegExp(`^Created web/\\d+, pushed to ${name}\\.`));
  expect((await cli('create-task')).status).toBe(1);
});
