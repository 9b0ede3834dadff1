/** The agent registry, liveness and mailbox as pure functions. */
import * as a from '../../src/domain/agents';
import { createAgentsClient, touchPeriod, unlistedRegistrations } from '../../src/client/agents';
import { rankCandidates } from '../../src/client/assign';
import type { GoalsClient } from '../../src/client/goals';
import { codeOf } from '../support/domain';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const input = (over: Partial<a.RegisterInput> = {}): a.RegisterInput => ({
  agentId: 'ada',
  name: 'ada',
  capabilities: ['ts'],
  ttlSeconds: 60,
  graceSeconds: 300,
  ...over,
});
const message = (id: string, over: Partial<a.MessageInput> = {}): a.MessageInput => ({
  id,
  from: 'lead',
  to: ['ada'],
  subject: 's',
  body: `body ${id}`,
  ...over,
});

test('online → offline after the ttl → work released after the grace; a call brings it back', () => {
  const s = a.newAgentState(input(), T0);
  a.register(s, input(), T0);
  expect(a.livenessDeadline(s)).toBe(T0 + 60_000);
  expect(a.checkLiveness(s, T0 + 59_000)).toBeNull();
  expect(a.checkLiveness(s, T0 + 60_000)).toBe('offline');
  expect(a.livenessDeadline(s)).toBe(T0 + 360_000);
  expect(a.checkLiveness(s, T0 + 360_000)).toBe('release');
  expect(a.livenessDeadline(s)).toBeUndefined();
  expect(a.touch(s, T0 + 400_000)).toBe(true);
  expect(s.status).toBe('idle');
  expect(s.events.map((e) => e.type)).toEqual(['registered', 'offline', 'work_released', 'back_online']);
});

test('a live registration is refused unless forced; an offline one resumes', () => {
  const s = a.newAgentState(input(), T0);
  a.register(s, input(), T0);
  expect(codeOf(() => a.register(s, input(), T0 + 1))).toBe('CONFLICT');
  expect(a.register(s, input({ force: true, capabilities: ['go'] }), T0 + 2).capabilities).toEqual(['go']);
  a.checkLiveness(s, T0 + 120_000);
  expect(a.register(s, input(), T0 + 120_001).session_token).toBe('ada:3');
});

test('a message is delivered once; the mailbox keeps every message not yet read or acknowledged, and the last 100 others', () => {
  const s = a.newAgentState(input(), T0);
  expect(a.deliver(s, message('m1', { ackRequired: true }), T0).delivered).toBe(true);
  expect(a.deliver(s, message('m1', { ackRequired: true }), T0).delivered).toBe(false);
  for (let i = 2; i <= 150; i++) a.deliver(s, message(`m${i}`), T0 + i);
  expect(s.mailbox).toHaveLength(150); // none read yet: none let go of
  expect(a.row(s).pending_messages).toBe(150);
  expect(
    a.markRead(
      s,
      s.mailbox.map((m) => m.seq),
      T0 + 200,
    ),
  ).toBe(true);
  expect(a.markRead(s, [1, 2], T0 + 201)).toBe(false); // read once
  expect(a.row(s).pending_messages).toBe(1); // m1 still awaits its acknowledgement
  a.deliver(s, message('m151'), T0 + 300);
  expect(s.mailbox).toHaveLength(102); // m1, the last 100 read ones, m151 (not read)
  expect(s.mailbox[0]?.id).toBe('m1');
  expect(s.mailbox[1]?.id).toBe('m51');
  expect(a.deliver(s, message('m2'), T0).delivered).toBe(false); // pruned, still not delivered twice
  a.acknowledge(s, 'm1', T0 + 999);
  expect(s.mailbox.map((m) => m.id)).not.toContain('m1');
});

test('a mailbox full of messages not read or acknowledged refuses more; a message from before reads were kept is read', () => {
  const s = a.newAgentState(input(), T0);
  for (let i = 1; i <= a.MAX_UNACKED; i++) a.deliver(s, message(`m${i}`), T0 + i);
  expect(() => a.deliver(s, message('one-more'), T0 + 5_000)).toThrow(/must fetch or acknowledge/);
  a.markRead(s, [1], T0 + 6_000);
  expect(a.deliver(s, message('one-more'), T0 + 7_000).delivered).toBe(true);
  const old = { ...(s.mailbox[1] as a.Message) };
  delete old.read_at; // delivered by a worker that kept no reads: it needs no acknowledgement, so it is settled
  expect(a.isHeld(old)).toBe(false);
  expect(a.isHeld({ ...old, ack_required: true })).toBe(true);
});

test('with a size, settled messages are kept newest first within it; unread and awaited ones always stay', () => {
  const s = a.newAgentState(input(), T0);
  const big = 'x'.repeat(40_000);
  const readAll = () =>
    a.markRead(
      s,
      s.mailbox.map((m) => m.seq),
      T0 + 50,
    );
  a.deliver(s, message('ack', { ackRequired: true, body: big }), T0, 100_000);
  for (let i = 1; i <= 5; i++) a.deliver(s, message(`m${i}`, { body: big }), T0 + i, 100_000);
  expect(s.mailbox).toHaveLength(6); // not read: all kept, whatever their size
  readAll();
  a.deliver(s, message('m6', { body: big }), T0 + 6, 100_000);
  // 40,001 characters each (subject and body): two read ones fit in 100,000; the awaited one is never dropped.
  expect(s.mailbox.map((m) => m.id)).toEqual(['ack', 'm4', 'm5', 'm6']);
  readAll();
  a.deliver(s, message('huge', { body: 'y'.repeat(150_000) }), T0 + 9, 100_000);
  expect(s.mailbox.map((m) => m.id)).toEqual(['ack', 'm5', 'm6', 'huge']);
  readAll();
  a.deliver(s, message('tiny'), T0 + 10, 100_000);
  expect(s.mailbox.map((m) => m.id)).toEqual(['ack', 'huge', 'tiny']); // the newest read one stays even alone
  expect(a.deliver(s, message('m1'), T0 + 11, 100_000).delivered).toBe(false); // pruned, still not delivered twice
});

test("a remembered message answer keeps no body; a retry gets it back from the mailbox, or '' once it left", () => {
  const s = a.newAgentState(input(), T0);
  const answer = a.deliver(s, message('m1', { body: 'hello' }), T0);
  const kept = a.compactMessageResult(answer) as { message: { body: unknown } };
  expect(kept.message.body).toBeNull();
  expect(JSON.stringify(kept)).not.toContain('hello');
  expect(a.rehydrateMessageResult(s, kept)).toEqual(answer);
  s.mailbox = [];
  expect(a.rehydrateMessageResult(s, kept)).toEqual({ ...answer, message: { ...answer.message, body: '' } });
  expect(a.compactMessageResult({ agent_id: 'ada' })).toEqual({ agent_id: 'ada' }); // other answers as they are
});

test('fetch: after a seq or a time, urgent only, limited', () => {
  const s = a.newAgentState(input(), T0);
  a.deliver(s, message('m1'), T0);
  a.deliver(s, message('m2', { importance: 'urgent' }), T0 + 1000);
  a.deliver(s, message('m3'), T0 + 2000);
  expect(a.fetchMessages(s, { since: 1 }).map((m) => m.id)).toEqual(['m2', 'm3']);
  expect(a.fetchMessages(s, { since: new Date(T0 + 1500).toISOString() }).map((m) => m.id)).toEqual(['m3']);
  expect(a.fetchMessages(s, { urgentOnly: true }).map((m) => m.id)).toEqual(['m2']);
  expect(a.fetchMessages(s, { limit: 1 }).map((m) => m.id)).toEqual(['m1']);
});

test('unregister needs a registration, and releases the work', () => {
  const s = a.newAgentState(input(), T0);
  expect(codeOf(() => a.unregister(s, undefined, T0))).toBe('NOT_FOUND');
  a.register(s, input(), T0);
  expect(a.unregister(s, 'bye', T0 + 1)).toMatchObject({ status: 'offline', online: false });
  expect(s.released).toBe(true);
  expect(a.livenessDeadline(s)).toBeUndefined();
});

test('its release names the tasks it took lately and has not finished, for recovery by id', () => {
  const s = a.newAgentState(input(), T0);
  a.register(s, input(), T0);
  a.touch(s, T0 + 1_000, { took: { id: 'g/1', title: 'old, still held' } });
  a.touch(s, T0 + 100_000, { took: { id: 'g/2', title: 'done' } });
  a.touch(s, T0 + 101_000, { finished: { id: 'g/2', completed: true } });
  a.touch(s, T0 + 102_000, { took: { id: 'g/3', title: 'held' } });
  a.touch(s, T0 + 103_000, { took: { id: 'g/2', title: 'taken again' } });
  a.touch(s, T0 + 104_000, { took: { id: 'g/4', title: 'current' } });
  expect(a.heldOfLate(s, T0 + 110_000)).toEqual(['g/4', 'g/2', 'g/3']); // g/1 is listed in Visibility by now
  a.unregister(s, 'bye', T0 + 110_000);
  expect(s.current_task).toBeNull();
  expect(s.release_held).toEqual(['g/4', 'g/2', 'g/3']);
});

test('calls ranked from one shared board read spread their pushes: a pick counts until its push is sent', () => {
  // Three idle agents with the same capabilities, as one board read shows them to many create_task calls at once.
  const board = ['ada', 'bob', 'cy'].map((agentId, i) => {
    const s = a.newAgentState(input({ agentId, name: agentId }), T0 + i);
    return a.register(s, input({ agentId, name: agentId }), T0 + i);
  });
  const agents = createAgentsClient({} as GoalsClient); // notePick and recentPushes read no Temporal
  const chosen: string[] = [];
  for (let k = 0; k < 6; k++) {
    const [first] = rankCandidates(board, { required: ['ts'] }, (id) => agents.recentPushes(id));
    chosen.push(first!.agent_id);
    agents.notePick(first!.agent_id);
  }
  expect(chosen).toEqual(['ada', 'bob', 'cy', 'ada', 'bob', 'cy']);
  expect(['ada', 'bob', 'cy'].map((id) => agents.recentPushes(id))).toEqual([2, 2, 2]);
});

test("a plain touch goes every 2 s, or every third of the agent's ttl when that is shorter", () => {
  const rowWith = (ttlMs: number) => ({
    last_heartbeat: new Date(T0).toISOString(),
    expires_at: new Date(T0 + ttlMs).toISOString(),
  });
  expect(touchPeriod(rowWith(60_000))).toBe(2_000);
  expect(touchPeriod(rowWith(6_000))).toBe(2_000);
  expect(touchPeriod(rowWith(3_000))).toBe(1_000);
  expect(touchPeriod(rowWith(1_000))).toBe(333);
  expect(touchPeriod({ last_heartbeat: 'never', expires_at: 'never' })).toBe(2_000);
});

test('a finish said again (a retried completion) counts once; a task taken again and finished again counts again', () => {
  const s = a.newAgentState(input(), T0);
  a.register(s, input(), T0);
  a.touch(s, T0 + 1, { took: { id: 'g/1', title: 'parser' } });
  a.touch(s, T0 + 2, { finished: { id: 'g/1', completed: true } });
  a.touch(s, T0 + 3, { finished: { id: 'g/1', completed: true } }); // the retry
  expect(s.completed_tasks).toBe(1);
  expect(s.history.map((h) => `${h.event} ${h.title}`)).toEqual(['taken parser', 'completed parser']);
  // Without the gate (a history recorded before it), the retry counted.
  const old = a.newAgentState(input(), T0);
  a.register(old, input(), T0);
  a.touch(old, T0 + 1, { took: { id: 'g/1', title: 'parser' } });
  a.touch(old, T0 + 2, { finished: { id: 'g/1', completed: true } });
  a.touch(old, T0 + 3, { finished: { id: 'g/1', completed: true } }, () => false);
  expect(old.completed_tasks).toBe(2);
  // Failed, taken again, completed: two finishes of one task, one completion.
  a.touch(s, T0 + 4, { took: { id: 'g/2', title: 'lexer' } });
  a.touch(s, T0 + 5, { finished: { id: 'g/2', completed: false } });
  a.touch(s, T0 + 6, { took: { id: 'g/2', title: 'lexer' } });
  a.touch(s, T0 + 7, { finished: { id: 'g/2', completed: true } });
  expect(s.completed_tasks).toBe(2);
  expect(s.current_task).toBeNull();
});

test('a take said again (a retried claim) is written once; a task taken again after a finish is written again', () => {
  const s = a.newAgentState(input(), T0);
  a.register(s, input(), T0);
  a.touch(s, T0 + 1, { took: { id: 'g/1', title: 'parser' } });
  a.touch(s, T0 + 2, { took: { id: 'g/1', title: 'parser' } }); // the retry
  expect(s.history.map((h) => `${h.event} ${h.title}`)).toEqual(['taken parser']);
  expect(s.current_task).toEqual({ id: 'g/1', title: 'parser' });
  // Handed back, then taken again: a second take.
  a.touch(s, T0 + 3, { finished: { id: 'g/1', completed: false } });
  a.touch(s, T0 + 4, { took: { id: 'g/1', title: 'parser' } });
  expect(s.history.map((h) => h.event)).toEqual(['taken', 'finished', 'taken']);
  expect(s.status).toBe('busy');
  // Without the gate (a history recorded before it), the retry was written twice.
  const old = a.newAgentState(input(), T0);
  a.register(old, input(), T0);
  a.touch(old, T0 + 1, { took: { id: 'g/1', title: 'parser' } });
  a.touch(old, T0 + 2, { took: { id: 'g/1', title: 'parser' } }, undefined, () => false);
  expect(old.history.map((h) => h.event)).toEqual(['taken', 'taken']);
});

test('a board read adds the agents registered here a moment ago that Visibility does not list yet, and only those', () => {
  const registered = ['ada', 'bob', 'cy']; // oldest first
  expect(unlistedRegistrations(['ada', 'dan'], registered)).toEqual(['bob', 'cy']);
  expect(unlistedRegistrations(['ada', 'bob', 'cy'], registered)).toEqual([]);
  // A read of one agent adds only that agent.
  expect(unlistedRegistrations([], registered, 'bob')).toEqual(['bob']);
  expect(unlistedRegistrations(['bob'], registered, 'bob')).toEqual([]);
  expect(unlistedRegistrations([], registered, 'eve')).toEqual([]);
  // At most the newest `max`.
  expect(unlistedRegistrations([], registered, undefined, 2)).toEqual(['bob', 'cy']);
});

test('a task claimed ahead with a completion is held at once; sent back untaken, its take is struck', () => {
  const s = a.newAgentState(input(), T0);
  a.register(s, input(), T0);
  a.touch(s, T0 + 1, { took: { id: 'g/1', title: 'parser' } });
  a.touch(s, T0 + 2, { finished: { id: 'g/1', completed: true }, reserved: { id: 'g/2', title: 'lexer' } });
  expect(s).toMatchObject({ status: 'busy', current_task: { id: 'g/2', title: 'lexer' }, completed_tasks: 1 });
  expect(s.history.map((h) => `${h.event} ${h.task_id}`)).toEqual(['taken g/1', 'completed g/1', 'taken g/2']);
  // Its next claim (answered from the reservation) notes nothing; a take said again changes nothing.
  a.touch(s, T0 + 3, { took: { id: 'g/2', title: 'lexer' } });
  expect(s.history).toHaveLength(3);
  // The next completion reserves g/3; the agent never calls for it: sent back, struck, idle.
  a.touch(s, T0 + 4, { finished: { id: 'g/2', completed: true }, reserved: { id: 'g/3', title: 'emitter' } });
  a.touch(s, T0 + 5, { returned: { id: 'g/3' } });
  expect(s).toMatchObject({ status: 'idle', current_task: null, completed_tasks: 2 });
  expect(s.history.map((h) => `${h.event} ${h.task_id}`)).toEqual([
    'taken g/1',
    'completed g/1',
    'taken g/2',
    'completed g/2',
  ]);
  // A return of a task the agent finished (or never held) changes nothing.
  a.touch(s, T0 + 6, { returned: { id: 'g/2' } });
  a.touch(s, T0 + 7, { returned: { id: 'g/9' } });
  expect(s.history).toHaveLength(4);
});
