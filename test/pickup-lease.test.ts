/**
 * A claim whose answer never reached its agent must not hold its task forever, even on a goal without leases:
 * - a long-poll stops waiting when its caller goes away (MCP over HTTP: the connection closes; in-process MCP: the
 *   session closes) — nothing is claimed for it afterwards;
 * - a claim its holder never follows up (no start, heartbeat or update) goes back to the queue after the pickup lease;
 *   after the first follow-up the goal's own policy (here: no expiry) applies.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGoalsClient } from '../src/client/goals';
import { freePort } from '../src/dev-server';
import { serveHttp, type HttpServer } from '../src/mcp/http';
import { goalWorkflowId, getEventsQuery } from '../src/workflows/messages';
import { call, eventually, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function waitsEnded(goalId: string): Promise<{ accepted: number; ended: number }> {
  const client = await h.lazy.get();
  const events = (await client.workflow.getHandle(goalWorkflowId(goalId)).fetchHistory()).events ?? [];
  const ids = new Set<string>();
  let ended = 0;
  for (const e of events) {
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted?.acceptedRequest?.input?.name === 'waitForTask') ids.add(accepted.protocolInstanceId ?? '');
    const done = e.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId;
    if (done && ids.has(done)) ended += 1;
  }
  return { accepted: ids.size, ended };
}

test('a claim nobody follows up goes back to the queue after the pickup lease; a started one stays', async () => {
  const goals = createGoalsClient({
    client: () => h.lazy.get(),
    taskQueue: h.config.taskQueue,
    address: h.config.temporalAddress,
    pickupSeconds: 2,
  });
  const goalId = uid('pickup');
  await goals.createGoal({ goalId, name: 'pickup', tasks: [{ title: 'lost answer' }, { title: 'followed up' }] });
  const lost = await goals.claimNextTask({ goalId, agentId: 'vanished' });
  const kept = await goals.claimNextTask({ goalId, agentId: 'worker' });
  expect(lost.lease_expires_at).not.toBeNull(); // the pickup deadline, shown as the lease end
  await goals.setTaskStatus({ taskId: kept.task!.id, status: 'in_progress', agentId: 'worker' });
  expect((await goals.getTask(kept.task!.id)).lease_expires_at).toBeNull(); // followed up: the goal's policy

  await eventually(async () => (await goals.getTask(lost.task!.id)).status === 'ready', 8000);
  const events = await goals.queryGoal(goalId, getEventsQuery, { limit: 50 });
  expect(events.find((e) => e.type === 'lease_expired' && e.task_id === lost.task!.id)?.detail).toContain(
    'never followed up',
  );
  // the vanished holder is fenced; the started task is untouched
  await expect(
    goals.setTaskStatus({ taskId: lost.task!.id, status: 'completed', agentId: 'vanished' }),
  ).rejects.toMatchObject({ code: 'LEASE_LOST' });
  await sleep(500);
  expect((await goals.getTask(kept.task!.id)).status).toBe('in_progress');
  const again = await goals.claimNextTask({ goalId, agentId: 'next' });
  expect(again.task?.id).toBe(lost.task!.id);
});

test('a long-poll over MCP ends when its session closes; the task created afterwards is not claimed for it', async () => {
  const goalId = uid('closed');
  await h.goals.createGoal({ goalId, name: 'closed session' });
  const mcp = await h.mcp('leaves');
  void call(mcp, 'get_next_task', { goal_id: goalId, wait_seconds: 60 }).catch(() => undefined);
  await eventually(async () => (await waitsEnded(goalId)).accepted === 1);
  await mcp.close();
  await eventually(async () => (await waitsEnded(goalId)).ended === 1);
  const [task] = await h.goals.createTasks(goalId, [{ title: 'after' }]);
  await sleep(300);
  expect((await h.goals.getTask((task as { id: string }).id)).status).toBe('ready');
});

test('a long-poll over HTTP ends when its caller hangs up', async () => {
  const port = await freePort();
  const srv: HttpServer = await serveHttp({ host: '127.0.0.1', port, goals: h.goals, toolsets: ['all'] });
  try {
    const goalId = uid('hangup');
    await h.goals.createGoal({ goalId, name: 'hang up' });
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'get_next_task', arguments: { goal_id: goalId, wait_seconds: 60 } },
    });
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/mcp',
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        'x-agent-id': 'hangs-up',
      },
    });
    req.on('error', () => undefined);
    req.end(body);
    await eventually(async () => (await waitsEnded(goalId)).accepted === 1);
    req.destroy();
    await eventually(async () => (await waitsEnded(goalId)).ended === 1);
    const [task] = await h.goals.createTasks(goalId, [{ title: 'after' }]);
    await sleep(300);
    expect((await h.goals.getTask((task as { id: string }).id)).status).toBe('ready');
    // the server is fine for the next caller
    const mcp = await h.mcp('next');
    expect(await ok(mcp, 'get_next_task', { goal_id: goalId })).toMatchObject({ claimed: true, agent_id: 'next' });
  } finally {
    await srv.close();
  }
});
