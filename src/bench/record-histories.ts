/**
 * `npm run record-histories`: runs every workflow type through its documented flows on a private dev server (goals
 * with batches, long-polls handed over, cancelled and ending empty, leases and pickup leases expiring; relays;
 * breakers opening and cooling down; agents and messages; hq projects; task-graph workspaces and their shards; id
 * aliases), then writes one history per workflow type to test/histories/<type>.json. test/replay.test.ts replays them against the current
 * workflow code, so a change that would break a running workflow fails CI. Re-record after a deliberate change made
 * with `patched()` (see docs/DECISIONS.md, "Changing workflow code").
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createAliasesClient } from '../client/aliases';
import { createGoalsClient } from '../client/goals';
import { createServer } from '../mcp/server';
import { noopUpdate, type benchFloorWorkflow } from '../workflows/bench-floor';
import { startBenchEnvironment } from './environment';

type Args = Record<string, unknown>;
/** A tool's structured result, read loosely: the flows below only pick ids out of it. */
interface Out {
  id?: string;
  goal_id?: string;
  pipeline_id?: string;
  task?: { id?: string };
  messages?: Array<{ id: string }>;
}

async function main(): Promise<void> {
  const say = (m: string) => process.stderr.write(`[record] ${m}\n`);
  const outDir = process.argv[2] ?? path.join(process.cwd(), 'test', 'histories');
  const env = await startBenchEnvironment('hist', say);
  const { client, taskQueue } = env;
  // Claims without a lease return to the queue after 1 s unless followed up (the pickup lease, shortened).
  const goals = createGoalsClient({
    client: () => Promise.resolve(client),
    taskQueue,
    address: env.address,
    pickupSeconds: 1,
  });
  const connect = async (agentId: string, toolsets = ['all']): Promise<McpClient> => {
    const server = createServer({ goals, toolsets, context: { agentId } });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(b);
    const c = new McpClient({ name: 'record', version: '1' });
    await c.connect(a);
    return c;
  };
  const tool = async (c: McpClient, name: string, args: Args): Promise<Out> => {
    const r = await c.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r.structuredContent as Out;
  };

  try {
    const alice = await connect('alice');
    const bob = await connect('bob');

    say('goals: tasks, batches, long-polls, leases, pickup leases, failures and retries…');
    const goal = await tool(alice, 'create_goal', { name: 'history goal', description: 'record' });
    const g = goal.goal_id as string;
    await tool(alice, 'decompose_goal', {
      goal_id: g,
      tasks: [
        { title: 'design' },
        { title: 'build', dependencies: [0] },
        { title: 'test', dependencies: [1] },
        { title: 'docs' },
        { title: 'polish' },
      ],
    });
    const [c1, c2] = await Promise.all([
      tool(alice, 'get_next_task', { goal_id: g, request_id: 'h-claim-1' }),
      tool(bob, 'get_next_task', { goal_id: g }),
    ]);
    await tool(alice, 'update_task_status', { task_id: c1.id, status: 'in_progress' });
    await tool(alice, 'heartbeat', { task_id: c1.id });
    const waiting = tool(bob, 'get_next_task', { goal_id: g, wait_seconds: 10 });
    await tool(bob, 'update_task_status', { task_id: c2.id, status: 'failed', error: 'flaky' });
    await sleep(300);
    await tool(alice, 'update_task_status', { task_id: c1.id, status: 'completed', result: 'done' });
    const handed = await waiting;
    await tool(bob, 'update_task_status', { task_id: handed.id, status: 'completed', result: 'ok' });
    await tool(bob, 'get_next_task', { goal_id: g, tags: ['none'], wait_seconds: 1 }); // ends with no task
    const abort = new AbortController();
    const cancelled = alice
      .callTool({ name: 'get_next_task', arguments: { goal_id: g, tags: ['none'], wait_seconds: 10 } }, undefined, {
        signal: abort.signal,
      })
      .catch(() => undefined);
    await sleep(300);
    abort.abort();
    await cancelled;
    const forgotten = await tool(bob, 'get_next_task', { goal_id: g }); // never followed up: the pickup lease expires
    await sleep(1_500);
    await tool(alice, 'create_task', { goal_id: g, title: 'late', priority: 9 });
    void forgotten;
    const leased = await tool(alice, 'create_goal', { name: 'leased goal', lease_seconds: 1 });
    await tool(alice, 'create_task', { goal_id: leased.goal_id, title: 'expires' });
    await tool(bob, 'get_next_task', { goal_id: leased.goal_id });
    await sleep(1_500);

    say('projects (hq)…');
    const project = `hist-project-${taskQueue}`;
    await tool(alice, 'create_project', {
      name: project,
      base_commit: 'abc1234',
      steps: [
        { step_num: 1, branch: 'b1', scope: 'api', depends_on: [] },
        { step_num: 2, branch: 'b2', scope: 'ui', depends_on: [1] },
      ],
    });
    const step = await tool(alice, 'claim_step', { project, agent_id: 'alice' });
    await tool(alice, 'start_step', { step_id: step.id, worktree: '/w' });
    await tool(alice, 'complete_step', { step_id: step.id, commit_hash: 'c0ffee1' });

    say('relays and breakers…');
    const relay = await tool(alice, 'create_relay_pipeline', {
      name: 'history relay',
      goal: 'record a relay',
      agent_types: ['researcher', 'analyzer', 'validator'],
      goal_id: g,
    });
    const p = relay.pipeline_id as string;
    await tool(alice, 'get_relay_baton', { pipeline_id: p, agent_id: 'alice' });
    await tool(alice, 'advance_relay', {
      pipeline_id: p,
      quality_score: 0.9,
      l_score: 0.8,
      tokens_used: 100,
      output_summary: 'found',
    });
    await tool(bob, 'get_relay_baton', { pipeline_id: p, agent_id: 'bob' });
    await tool(bob, 'advance_relay', { pipeline_id: p, quality_score: 0.1, l_score: 0.1, tokens_used: 50 });
    await tool(bob, 'retry_relay_step', { pipeline_id: p, step_index: 1 });
    await tool(bob, 'get_relay_baton', { pipeline_id: p, agent_id: 'bob' });
    await tool(bob, 'advance_relay', { pipeline_id: p, quality_score: 0.95, l_score: 0.9, tokens_used: 60 });
    await tool(alice, 'get_relay_baton', { pipeline_id: p, agent_id: 'alice' });
    await tool(alice, 'advance_relay', { pipeline_id: p, quality_score: 0.99, l_score: 0.9, tokens_used: 70 });
    const breaker = `hist-breaker-${taskQueue}`;
    await tool(alice, 'circuit_breaker_configure', {
      agent_id: breaker,
      failure_threshold: 2,
      cooldown_seconds: 1,
    });
    for (let i = 0; i < 2; i++) {
      await tool(alice, 'circuit_breaker_record_failure', {
        agent_id: breaker,
        failure_type: 'timeout',
        error_message: 'slow',
      });
    }
    await sleep(1_300);
    await tool(alice, 'circuit_breaker_record_success', { agent_id: breaker });
    await tool(alice, 'circuit_breaker_trip', { agent_id: breaker, reason: 'manual' });
    await tool(alice, 'circuit_breaker_reset', { agent_id: breaker });

    say('agents and messages…');
    const a1 = `hist-a1-${taskQueue}`;
    const a2 = `hist-a2-${taskQueue}`;
    await tool(alice, 'register_agent', { agent_id: a1, name: a1, capabilities: ['code'] });
    // a2 calls past its 1 s ttl (its liveness timer fires and arms again), then stops: offline, and after the grace
    // the task it took goes back.
    await tool(alice, 'register_agent', {
      agent_id: a2,
      name: a2,
      capabilities: ['review'],
      agent_ttl_seconds: 1,
      offline_grace_seconds: 1,
    });
    const inbox = tool(bob, 'fetch_inbox', { agent_id: a2, wait_seconds: 5 });
    await sleep(200);
    await tool(alice, 'send_message', { sender: a1, to: [a2], body: 'review please', ack_required: true });
    const got = await inbox;
    await tool(bob, 'acknowledge_message', { agent_id: a2, message_id: got.messages?.[0]?.id });
    await tool(alice, 'create_agent_task', { agent_id: a2, title: 'review the API' });
    // a2 takes a task and completes it; its claim and its completion are each retried with the same request_id:
    // written once, counted once.
    const work = `hist-work-${taskQueue}`;
    await tool(alice, 'create_goal', { name: 'agent work', goal_id: work });
    await tool(alice, 'create_task', { goal_id: work, title: 'write the parser' });
    const claim = { agent_id: a2, goal_id: work, request_id: 'hist-take' };
    const taken = await tool(bob, 'get_next_task', claim);
    await tool(bob, 'get_next_task', claim);
    for (let i = 0; i < 2; i++) {
      await tool(bob, 'update_task_status', {
        agent_id: a2,
        task_id: taken.id,
        status: 'completed',
        request_id: 'hist-finish',
      });
    }
    await tool(alice, 'unregister_agent', { agent_id: a1 });
    await sleep(600);
    await tool(bob, 'get_next_task', { agent_id: a2 }); // takes the task pushed to it
    await sleep(3_000);

    say('task-graph workspaces and shards…');
    const tg = await connect('w1', ['task-graph']);
    const ws = `hist-ws-${taskQueue}`;
    await tool(tg, 'connect', { workspace: ws, worker_id: 'w1' });
    const root = await tool(tg, 'create', { workspace: ws, worker_id: 'w1', title: 'root', description: 'all' });
    const rootId = root.id ?? root.task?.id;
    const child = await tool(tg, 'create', { workspace: ws, worker_id: 'w1', title: 'child', parent: rootId });
    const childId = child.id ?? child.task?.id;
    await tool(tg, 'connect', { workspace: ws, worker_id: 'w2' });
    // A 2 s lease renewed after 1.5 s: its timer fires early, finds it renewed and arms again.
    await tool(tg, 'claim', { workspace: ws, worker_id: 'w1', task: childId, lease_seconds: 2 });
    // w2 waits for mark changes in its own workflow; w1's mark wakes it with a Signal.
    const watching = tool(tg, 'mark_updates', { workspace: ws, agent: 'w2', wait_seconds: 10 });
    await sleep(500);
    await tool(tg, 'mark_file', { workspace: ws, worker_id: 'w1', file: 'src/a.ts', task: childId });
    await watching;
    await tool(tg, 'attach', { workspace: ws, worker_id: 'w1', task: childId, type: 'note', content: 'hello' });
    await sleep(1_000);
    await tool(tg, 'thinking', { workspace: ws, worker_id: 'w1', thought: 'working' });
    await sleep(1_000);
    await tool(tg, 'update', { workspace: ws, worker_id: 'w1', task: childId, status: 'completed' });
    await sleep(800); // the detail ops reach their shard

    say('id aliases and the floor…');
    await createAliasesClient(goals).register([{ alias: '7', taskId: c1.id as string, source: 'record' }]);
    const floor = await client.workflow.start<typeof benchFloorWorkflow>('benchFloorWorkflow', {
      workflowId: `bench-floor-hist-${taskQueue}`,
      taskQueue,
    });
    await floor.executeUpdate(noopUpdate, { args: [1] });
    await sleep(500);

    say('collecting histories…');
    const best = new Map<string, { id: string; events: number; json: string }>();
    for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const events = history.events?.length ?? 0;
      const kept = best.get(w.type);
      if (!kept || events > kept.events) best.set(w.type, { id: w.workflowId, events, json: historyToJSON(history) });
    }
    fs.mkdirSync(outDir, { recursive: true });
    for (const [type, h] of [...best].sort()) {
      fs.writeFileSync(path.join(outDir, `${type}.json`), `${h.json}\n`);
      say(`  ${type}: ${h.events} events (${h.id})`);
    }
  } finally {
    await env.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
