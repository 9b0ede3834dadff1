/**
 * The request/response exchange behind `serve` and the daemon's local socket: a plain tools/call is answered by the
 * server's tools/call handler directly, under the caller's own id; cancelling the caller aborts the handler and
 * answers at once; anything that is not a plain call goes through the MCP SDK as before.
 */
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { plainToolCall, RequestResponseTransport } from '../../src/mcp/exchange';
import type { ToolCallExtra, ToolCaller } from '../../src/mcp/server';

const toolsCall = (params: unknown, id: string | number = 7): JSONRPCRequest =>
  ({ jsonrpc: '2.0', id, method: 'tools/call', params }) as JSONRPCRequest;

test('only a tools/call with a tool name and an arguments object (or none) is plain', () => {
  expect(plainToolCall(toolsCall({ name: 'get_next_task', arguments: { goal_id: 'g' } }))).toEqual({
    name: 'get_next_task',
    arguments: { goal_id: 'g' },
  });
  expect(plainToolCall(toolsCall({ name: 'list_goals' }))).toEqual({ name: 'list_goals' });
  expect(plainToolCall(toolsCall({ name: 'x', arguments: {}, _meta: { progressToken: 1 } }))).toBeUndefined();
  expect(plainToolCall(toolsCall({ name: 'x', task: { ttl: 1000 } }))).toBeUndefined();
  expect(plainToolCall(toolsCall({ name: 'x', arguments: [] }))).toBeUndefined();
  expect(plainToolCall(toolsCall({ name: 'x', arguments: null }))).toBeUndefined();
  expect(plainToolCall(toolsCall({ name: 3 }))).toBeUndefined();
  expect(plainToolCall(toolsCall(undefined))).toBeUndefined();
  expect(plainToolCall({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { name: 'x' } })).toBeUndefined();
});

/** An exchange whose tool handler is in the test's hands, and what reached the SDK's side. */
function exchangeWith(callTool: ToolCaller) {
  const exchange = new RequestResponseTransport({ callTool });
  const viaSdk: JSONRPCMessage[] = [];
  exchange.onmessage = (m) => {
    viaSdk.push(m);
    // the SDK's side answers requests it is handed
    if ('id' in m && 'method' in m) void exchange.send({ jsonrpc: '2.0', id: m.id, result: { via: 'sdk' } });
  };
  return { exchange, viaSdk };
}

test('a plain tools/call is answered by the handler under the caller id, with the caller identity', async () => {
  const seen: Array<{ name: string; agent: unknown }> = [];
  const { exchange, viaSdk } = exchangeWith((request, extra) => {
    seen.push({ name: request.params.name, agent: extra.authInfo?.extra?.agentId });
    return Promise.resolve({ content: [{ type: 'text', text: '{}' }], structuredContent: { ok: true } });
  });
  const authInfo = { token: '', clientId: 'alice', scopes: [], extra: { agentId: 'alice' } };
  const answer = await exchange.request(toolsCall({ name: 'heartbeat', arguments: {} }, 'a-1'), { authInfo });
  expect(answer).toEqual({
    jsonrpc: '2.0',
    id: 'a-1',
    result: { content: [{ type: 'text', text: '{}' }], structuredContent: { ok: true } },
  });
  expect(seen).toEqual([{ name: 'heartbeat', agent: 'alice' }]);
  expect(viaSdk).toEqual([]);
  expect(exchange.pending).toBe(0);

  // with _meta it is the SDK's to answer
  const other = await exchange.request(toolsCall({ name: 'heartbeat', _meta: { progressToken: 1 } }, 9), {});
  expect(other).toEqual({ jsonrpc: '2.0', id: 9, result: { via: 'sdk' } });
  expect(viaSdk).toHaveLength(1);
});

test('cancelling a direct call aborts its handler and answers at once; its late result is dropped', async () => {
  let handlerSignal: AbortSignal | undefined;
  let finish: (() => void) | undefined;
  const { exchange } = exchangeWith((_request, extra: ToolCallExtra) => {
    handlerSignal = extra.signal;
    return new Promise((resolve) => {
      finish = () => resolve({ content: [{ type: 'text', text: 'late' }] });
    });
  });
  const caller = new AbortController();
  const answer = exchange.request(
    toolsCall({ name: 'get_next_task', arguments: { wait_seconds: 30 } }, 3),
    {},
    caller.signal,
  );
  expect(handlerSignal?.aborted).toBe(false);
  caller.abort();
  expect(await answer).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32800, message: 'Request cancelled.' } });
  expect(handlerSignal?.aborted).toBe(true);
  finish?.();
  await new Promise((r) => setImmediate(r));
  expect(exchange.pending).toBe(0);
});

test('a handler that throws answers an internal error; closing aborts the calls in flight', async () => {
  const signals: AbortSignal[] = [];
  const { exchange } = exchangeWith((request, extra) => {
    signals.push(extra.signal);
    if (request.params.name === 'broken') return Promise.reject(new Error('boom'));
    return new Promise(() => undefined); // never answers
  });
  expect(await exchange.request(toolsCall({ name: 'broken' }, 1), {})).toEqual({
    jsonrpc: '2.0',
    id: 1,
    error: { code: -32603, message: 'boom' },
  });
  const hanging = exchange.request(toolsCall({ name: 'wait' }, 2), {});
  await exchange.close();
  expect(await hanging).toMatchObject({ id: 2, error: { code: -32000, message: 'The server is shutting down.' } });
  expect(signals[1]?.aborted).toBe(true);
});
