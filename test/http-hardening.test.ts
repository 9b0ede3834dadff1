/**
 * MCP over HTTP as an attacker or an unlucky operator would use it: foreign Host or Origin, the wrong content type,
 * huge batches and bodies, absurdly deep arguments, and ids that would lie in the Web UI. Each is refused with a clear
 * answer and changes nothing.
 */
import http from 'node:http';
import { freePort } from '../src/dev-server';
import { serveHttp, type HttpServer } from '../src/mcp/http';
import { getEventsQuery } from '../src/workflows/messages';
import { call, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
let srv: HttpServer;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  port = await freePort();
  srv = await serveHttp({ host: '127.0.0.1', port, goals: h.goals, toolsets: ['all'] });
});
afterAll(async () => {
  await srv.close();
  await h.close();
});

function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const rpc = (id: number, name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

async function breakerExists(agent: string): Promise<boolean> {
  const client = await h.lazy.get();
  return client.workflow
    .getHandle(`breaker-${agent}`)
    .describe()
    .then(() => true)
    .catch(() => false);
}

test('a foreign Host or Origin, or a body that is not JSON, is refused before any tool runs', async () => {
  const victim = uid('victim');
  const trip = JSON.stringify(rpc(1, 'circuit_breaker_trip', { agent_id: victim }));
  const byHost = await post(trip, { host: `attacker.example:${port}` });
  expect(byHost.status).toBe(403);
  const message = (r: { text: string }): string => (JSON.parse(r.text) as { error: { message: string } }).error.message;
  expect(message(byHost)).toMatch(/Host "attacker.example" is not this server's.*AGENT_RUNTIME_ALLOWED_HOSTS/);
  const byOrigin = await post(trip, { origin: 'http://attacker.example', 'content-type': 'text/plain' });
  expect(byOrigin.status).toBe(403);
  expect(message(byOrigin)).toMatch(/Origin "http:\/\/attacker.example" may not call this server/);
  const plain = await post(trip, { 'content-type': 'text/plain' });
  expect(plain.status).toBe(415);
  expect(await breakerExists(victim)).toBe(false);
  // This machine's own names and a loopback page may call it.
  const fine = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
    host: `localhost:${port}`,
    origin: 'http://localhost:5173',
  });
  expect(fine.status).toBe(200);
  expect(JSON.parse(fine.text).result.tools.length).toBeGreaterThan(0);
});

test('a batch of 500 calls, a body over 4 MiB and 100,000-deep arguments are refused whole, with reasons', async () => {
  const victim = uid('batch');
  const batch = JSON.stringify(
    Array.from({ length: 500 }, (_, n) => rpc(n + 1, 'circuit_breaker_trip', { agent_id: victim })),
  );
  const refused = await post(batch);
  expect(refused.status).toBe(400);
  expect(refused.text).toMatch(/at most 16 JSON-RPC messages per POST \(got 500\)/);
  expect(await breakerExists(victim)).toBe(false);

  const huge = await post(
    JSON.stringify(rpc(1, 'create_goal', { name: 'x', description: 'y'.repeat(5 * 1024 * 1024) })),
  );
  expect(huge.status).toBe(413);
  expect(huge.text).toMatch(/Payload Too Large/);

  const mcp = await h.mcp();
  let deep: unknown = 1;
  for (let n = 0; n < 100_000; n++) deep = { a: deep };
  const r = await call(mcp, 'create_goal', { name: `deep ${uid()}`, metadata: deep as Record<string, unknown> });
  expect(r.error?.code).toBe('INVALID_ARGUMENT');
  expect(r.error?.message).toMatch(/nest deeper than 32 levels/);
});

test('a tools/call answers the same with or without _meta; arguments that are no object are a JSON-RPC error', async () => {
  const goal = JSON.parse(
    (await post(JSON.stringify(rpc(30, 'create_goal', { name: uid('meta'), description: 'm' })))).text,
  ) as { result: { structuredContent: { id: string } } };
  const goalId = goal.result.structuredContent.id;
  const plain = JSON.parse((await post(JSON.stringify(rpc(31, 'get_goal', { goal_id: goalId })))).text);
  const withMeta = JSON.parse(
    (
      await post(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 32,
          method: 'tools/call',
          params: { name: 'get_goal', arguments: { goal_id: goalId }, _meta: { progressToken: 'p1' } },
        }),
      )
    ).text,
  );
  expect(plain.id).toBe(31);
  expect(withMeta.id).toBe(32);
  expect(withMeta.result.structuredContent.goal.id).toBe(goalId);
  expect(withMeta.result.structuredContent).toEqual(plain.result.structuredContent);
  const unknown = JSON.parse((await post(JSON.stringify(rpc(33, 'no_such_tool', {})))).text);
  expect(unknown.result.isError).toBe(true);
  expect(JSON.parse(unknown.result.content[0].text).error.message).toContain('There is no tool "no_such_tool"');
  const malformed = await post(
    JSON.stringify({ jsonrpc: '2.0', id: 34, method: 'tools/call', params: { name: 'get_goal', arguments: [goalId] } }),
  );
  const error = (JSON.parse(malformed.text) as { id: number; error: { code: number; message: string } }).error;
  expect(typeof error.code).toBe('number');
  expect(error.message).toMatch(/arguments/i);
});

test('ids with control, invisible or bidirectional characters, or a ".." segment, are refused everywhere', async () => {
  const mcp = await h.mcp();
  for (const bad of ['../evil', 'evil\u0000agent', 'admin\u202Eresu', 'zero\u200Bwidth', ' padded ']) {
    for (const [tool, args] of [
      ['circuit_breaker_trip', { agent_id: bad }],
      ['fetch_inbox', { agent_id: bad }],
      ['get_next_task', { agent_id: bad }],
    ] as const) {
      const r = await call(mcp, tool, args);
      expect({ tool, bad, code: r.error?.code }).toEqual({ tool, bad, code: 'INVALID_ARGUMENT' });
    }
    expect(await breakerExists(bad)).toBe(false);
  }
});

describe('with tokens, the token decides who the caller is', () => {
  let tokenSrv: HttpServer;
  let url: string;
  beforeAll(async () => {
    tokenSrv = await serveHttp({
      host: '127.0.0.1',
      port: await freePort(),
      goals: h.goals,
      toolsets: ['all'],
      token: 'alice:alice-secret,bob:bob-secret,operator:ops:ops-secret',
    });
    url = tokenSrv.url;
  });
  afterAll(async () => {
    await tokenSrv.close();
  });

  const as = async (secret: string, id: number, name: string, args: Record<string, unknown>) => {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify(rpc(id, name, args)),
    });
    const body = (await r.json()) as { result: { isError?: boolean; content: Array<{ text: string }> } };
    const parsed = JSON.parse(body.result.content[0]!.text) as Record<string, any>;
    return body.result.isError ? { error: parsed.error as { code: string; message: string } } : { data: parsed };
  };

  test("bob's token with agent_id alice cannot complete alice's task or trip her breaker; an operator can", async () => {
    const goal = await h.goals.createGoal({ name: `tokens ${uid()}`, tasks: [{ title: 'hers' }] });
    const claimed = await as('alice-secret', 1, 'get_next_task', { goal_id: goal.id });
    expect(claimed.data?.agent_id).toBe('alice');
    const stolen = await as('bob-secret', 2, 'update_task_status', {
      task_id: claimed.data?.id,
      status: 'completed',
      agent_id: 'alice',
    });
    expect(stolen.error?.code).toBe('FORBIDDEN');
    expect(stolen.error?.message).toMatch(/Your token is bob's.*operator token/);
    expect((await h.goals.getTask(claimed.data?.id as string)).status).toBe('claimed');
    expect((await as('bob-secret', 3, 'circuit_breaker_trip', { agent_id: 'alice' })).error?.code).toBe('FORBIDDEN');
    // Reads may name anyone; acting as yourself is fine; an operator may act for alice.
    expect((await as('bob-secret', 4, 'get_task_board', { agent_id: 'alice' })).data).toBeDefined();
    expect((await as('bob-secret', 5, 'heartbeat', { task_id: claimed.data?.id, agent_id: 'bob' })).error?.code).toBe(
      'LEASE_LOST',
    );
    const done = await as('ops-secret', 6, 'update_task_status', {
      task_id: claimed.data?.id,
      status: 'completed',
      agent_id: 'alice',
      result: 'finished by the operator for alice',
    });
    expect(done.data?.status).toBe('completed');
  });

  test("acting on others: bob cannot cancel alice's task, recover her step or unregister her; an operator can", async () => {
    const goal = await h.goals.createGoal({ name: `others ${uid()}`, tasks: [{ title: 'hers' }, { title: 'free' }] });
    const hers = await as('alice-secret', 11, 'get_next_task', { goal_id: goal.id });
    const cancel = await as('bob-secret', 12, 'update_task_status', { task_id: hers.data?.id, status: 'cancelled' });
    expect(cancel.error?.code).toBe('FORBIDDEN');
    expect(cancel.error?.message).toContain('held by alice');
    expect((await h.goals.getTask(hers.data?.id as string)).status).toBe('claimed');
    // an unheld task is anyone's to cancel; the log says who
    const free = `${goal.id}/2`;
    expect(
      (await as('bob-secret', 13, 'update_task_status', { task_id: free, status: 'cancelled' })).data?.status,
    ).toBe('cancelled');

    const project = uid('others-project');
    await as('ops-secret', 14, 'create_project', {
      name: project,
      base_commit: 'abc1234',
      steps: [{ step_num: 1, branch: 'b1', scope: 'api', depends_on: [] }],
    });
    const step = await as('alice-secret', 15, 'claim_step', { project });
    expect((await as('bob-secret', 16, 'recover_step', { step_id: step.data?.id })).error?.code).toBe('FORBIDDEN');
    expect((await as('bob-secret', 17, 'unregister_agent', { agent_id: 'alice' })).error?.code).toBe('FORBIDDEN');
    expect((await as('bob-secret', 18, 'circuit_breaker_trip', { agent_id: 'alice' })).error?.code).toBe('FORBIDDEN');

    // the holder and the operator may
    expect((await as('ops-secret', 19, 'recover_step', { step_id: step.data?.id })).data?.ok).toBe(true);
    const cancelled = await as('ops-secret', 20, 'update_task_status', { task_id: hers.data?.id, status: 'cancelled' });
    expect(cancelled.data?.status).toBe('cancelled');
    const events = await h.goals.queryGoal(goal.id, getEventsQuery, { limit: 20 });
    expect(events.filter((e) => e.type === 'task_cancelled').map((e) => e.detail)).toEqual(['by bob', 'by ops']);
  });
});

test('without tokens, acting on another agent is allowed and the log names who did it', async () => {
  const bob = await h.mcp('bob');
  const alice = await h.mcp('alice');
  const goal = await h.goals.createGoal({ name: `no tokens ${uid()}`, tasks: [{ title: 'hers' }, { title: 'two' }] });
  const hers = await call(alice, 'get_next_task', { goal_id: goal.id });
  expect((await call(bob, 'update_task_status', { task_id: hers.data?.id, status: 'cancelled' })).data?.status).toBe(
    'cancelled',
  );
  const second = await call(alice, 'get_next_task', { goal_id: goal.id });
  await h.goals.recoverTask(second.data?.id as string, 'stuck', undefined, { by: 'bob' });
  const events = await h.goals.queryGoal(goal.id, getEventsQuery, { limit: 20 });
  expect(events.find((e) => e.type === 'task_cancelled')).toMatchObject({ agent_id: 'bob', detail: 'by bob' });
  expect(events.find((e) => e.type === 'task_recovered')?.detail).toContain('by bob: stuck');
  const breaker = uid('someone');
  const tripped = await call(bob, 'circuit_breaker_trip', { agent_id: breaker, reason: 'flapping' });
  expect(tripped.error).toBeUndefined();
  const status = await call(bob, 'circuit_breaker_status', { agent_id: breaker });
  expect(JSON.stringify(status.data)).toContain('flapping (by bob)');
});
