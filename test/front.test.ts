/**
 * The daemon front door: with `agent-runtime serve` (or `up`) running, `agent-runtime mcp` is a thin stdio front that
 * sends every message to the daemon's local socket. Identity, request ids, errors and toolsets behave as they do on a
 * direct stdio server, and the front serves the session itself when the daemon goes away.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { goalWorkflowId } from '../src/workflows/messages';
import { daemonSupport } from './support/daemon';
import { call, eventually, killHard, ok, startHarness, uid, within, type Harness } from './support/harness';

let h: Harness;
const d = daemonSupport(() => h);
const front = (extra?: Record<string, string>) => d.front(extra);

beforeAll(async () => {
  h = await startHarness();
  await d.start();
});
afterAll(async () => {
  await d.close();
  await h.close();
});

test('the daemon says where it listens; the front speaks for its AGENT_ID, with the same errors and request ids', async () => {
  const info = JSON.parse(fs.readFileSync(path.join(d.home, 'daemon.json'), 'utf8'));
  expect(info).toMatchObject({
    pid: d.process.pid,
    taskQueue: h.config.taskQueue,
    socket: expect.stringContaining('mcp.sock'),
  });
  expect(fs.statSync(info.socket).mode & 0o777).toBe(0o600);

  const { client } = await front({ AGENT_ID: 'front-agent' });
  const goalId = uid('front');
  await ok(client, 'create_goal', { name: 'front', goal_id: goalId });
  await ok(client, 'decompose_goal', { goal_id: goalId, strategy: 'parallel' });
  const claim = await ok(client, 'get_next_task', { goal_id: goalId, request_id: 'front-claim-1' });
  expect(claim).toMatchObject({ claimed: true, agent_id: 'front-agent' });
  const again = await ok(client, 'get_next_task', { goal_id: goalId, request_id: 'front-claim-1' });
  expect(again.id).toBe(claim.id); // applied once
  const bad = await call(client, 'get_next_task', { goal_id: 'not a goal id!' });
  expect(bad.error?.code).toBe('INVALID_ARGUMENT');
  const zombie = await call(client, 'update_task_status', {
    task_id: claim.id,
    status: 'completed',
    agent_id: 'other',
  });
  expect(zombie.error?.code).toBe('LEASE_LOST');
});

test('each front lists its own toolsets', async () => {
  const hq = await front({ AGENT_RUNTIME_TOOLSETS: 'projects' });
  const names = (await hq.client.listTools()).tools.map((t) => t.name);
  expect(names).toContain('claim_step');
  expect(names).not.toContain('create_goal');
  expect((await call(hq.client, 'create_goal', { name: 'x' })).error?.code).toBe('NOT_FOUND');
  const plain = await front();
  expect((await plain.client.listTools()).tools.map((t) => t.name)).toContain('create_goal');
});

test('a front for another deployment does not use the daemon', async () => {
  const other = await front({ AGENT_RUNTIME_TASK_QUEUE: `${h.config.taskQueue}-elsewhere`, AGENT_ID: 'lone' });
  const { tools } = await other.client.listTools();
  expect(tools.length).toBeGreaterThan(0); // a full stdio server of its own answered
});

/** Long-polls of a goal that reached its workflow, and how many of them have ended. */
async function waits(goalId: string): Promise<{ accepted: number; ended: number }> {
  const client = await h.lazy.get();
  const events = (await client.workflow.getHandle(goalWorkflowId(goalId)).fetchHistory()).events ?? [];
  const ids = new Set<string>();
  let ended = 0;
  for (const e of events) {
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted?.acceptedRequest?.input?.name === 'waitForTask') ids.add(accepted.protocolInstanceId ?? '');
    const done = e.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId;
    if (done && [...ids].some((id) => id === done)) ended += 1;
  }
  return { accepted: ids.size, ended };
}

test('a long-poll ends when its agent goes away or cancels it, and the next task is not claimed for it', async () => {
  const goalId = uid('gone');
  await h.goals.createGoal({ goalId, name: 'gone' });
  // The agent's process goes away mid-wait…
  const leaver = await front({ AGENT_ID: 'leaver' });
  void call(leaver.client, 'get_next_task', { goal_id: goalId, wait_seconds: 60 }).catch(() => undefined);
  await eventually(async () => (await waits(goalId)).accepted === 1);
  await leaver.client.close();
  // …and another cancels its call (MCP notifications/cancelled).
  const canceller = await front({ AGENT_ID: 'canceller' });
  const abort = new AbortController();
  const cancelled = canceller.client
    .callTool({ name: 'get_next_task', arguments: { goal_id: goalId, wait_seconds: 60 } }, undefined, {
      signal: abort.signal,
    })
    .then(
      () => 'answered',
      () => 'rejected',
    );
  await eventually(async () => (await waits(goalId)).accepted === 2);
  abort.abort('changed my mind');
  expect(await cancelled).toBe('rejected');
  // Both waits end inside the goal long before their 60 s…
  await eventually(async () => (await waits(goalId)).ended === 2);
  // …so the next task stays in the queue for whoever asks next.
  const [task] = await h.goals.createTasks(goalId, [{ title: 'after they left' }]);
  expect((await h.goals.getTask((task as { id: string }).id)).status).toBe('ready');
  const taker = await front({ AGENT_ID: 'taker' });
  expect(await ok(taker.client, 'get_next_task', { goal_id: goalId })).toMatchObject({
    claimed: true,
    agent_id: 'taker',
  });
});

test("the front takes the agent's lines as stdio MCP frames them: CRLF, cut across writes, a last one with no newline", async () => {
  const goalId = uid('framed');
  const p = d.rawFront({ AGENT_ID: 'framer' });
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
  const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } };
  p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init })}\r\n`);
  const create = JSON.stringify({
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'create_goal', arguments: { name: 'framed', goal_id: goalId } },
  });
  p.stdin.write(`{"jsonrpc":"2.0","method":"notifications/initialized"}\n${create.slice(0, 40)}`);
  await sleep(50);
  p.stdin.write(`${create.slice(40)}\n\n`);
  p.stdin.end(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
  // The front answers every request before it exits, and nothing else is written to stdout.
  expect(await within(exited, 20_000, 'the front (exit)')).toBe(0);
  const answers = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: number; result?: Record<string, unknown> });
  expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
  const byId = new Map(answers.map((a) => [a.id, a.result]));
  expect(byId.get(1)).toMatchObject({ serverInfo: { name: expect.any(String) } });
  expect(byId.get(2)).toMatchObject({ structuredContent: { id: goalId, name: 'framed' } });
  expect((byId.get(3)?.tools as unknown[]).length).toBeGreaterThan(0);
  const goal = await h.goals.getGoal(goalId);
  expect(goal.goal.name).toBe('framed');
});

test('when the daemon goes away mid-session the front serves the rest itself', async () => {
  const { client, stderr } = await front({ AGENT_ID: 'survivor' });
  const goalId = uid('front-dies');
  await ok(client, 'create_goal', { name: 'outlives the daemon', goal_id: goalId });
  await ok(client, 'decompose_goal', { goal_id: goalId, strategy: 'sequential' });
  await killHard(d.process);
  // A call racing the daemon's death may be told its outcome is unknown; the answer says to call again with the same
  // request_id, which is then applied once.
  const args = { goal_id: goalId, request_id: `${goalId}-claim` };
  const claim = await ok(client, 'get_next_task', args).catch(async (err: unknown) => {
    expect(String(err)).toMatch(/went away during this call.*same request_id/);
    return ok(client, 'get_next_task', args);
  });
  expect(claim).toMatchObject({ claimed: true, agent_id: 'survivor', id: `${goalId}/1` });
  expect((await ok(client, 'get_next_task', args)).id).toBe(`${goalId}/1`);
  expect(stderr()).toMatch(/went away; serving this session directly/);
  // A front started now finds the daemon file stale and serves directly from the start.
  const late = await front({ AGENT_ID: 'late' });
  expect((await ok(late.client, 'get_goal', { goal_id: goalId })).id).toBe(goalId);
  await d.start(); // for afterAll
});
