/** The agent registry, liveness and mailbox as pure functions. */
import * as a from '../../src/domain/agents';
import { createAgentsClient } from '../../src/client/agents';
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

test('a message is delivered once; the mailbox keeps unacknowledged ones and the last 100 others', () => {
  const s = a.newAgentState(input(), T0);
  expect(a.deliver(s, message('m1', { ackRequired: true }), T0).delivered).toBe(true);
  expect(a.deliver(s, message('m1', { ackRequired: true }), T0).delivered).toBe(false);
  for (let i = 2; i <= 150; i++) a.deliver(s, message(`m${i}`), T0 + i);
  expect(s.mailbox).toHaveLength(101); // m1 awaits its acknowledgement
  expect(s.mailbox[0]?.id).toBe('m1');
  expect(a.deliver(s, message('m2'), T0).delivered).toBe(false); // pruned, still not delivered twice
  a.acknowledge(s, 'm1', T0 + 999);
  expect(s.mailbox.map((m) => m.id)).not.toContain('m1');
});

test('with a size, settled messages are kept newest first within it; awaited ones always stay', () => {
  const s = a.newAgentState(input(), T0);
  const big = 'x'.repeat(40_000);
  a.deliver(s, message('ack', { ackRequired: true, body: big }), T0, 100_000);
  for (let i = 1; i <= 5; i++) a.deliver(s, message(`m${i}`, { body: big }), T0 + i, 100_000);
  // 40,001 characters each (subject and body): two settled ones fit in 100,000, the awaited one is never dropped.
  expect(s.mailbox.map((m) => m.id)).toEqual(['ack', 'm4', 'm5']);
  a.deliver(s, message('huge', { body: 'y'.repeat(150_000) }), T0 + 9, 100_000);
  expect(s.mailbox.map((m) => m.id)).toEqual(['ack', 'huge']); // the newest stays even alone past the size
  expect(a.deliver(s, message('m1'), T0 + 10, 100_000).delivered).toBe(false); // pruned, still not delivered twice
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
