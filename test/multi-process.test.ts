/**
 * The production shape on one machine: two worker processes and two `agent-runtime serve` processes on one
 * deployment, agents spread over both servers, each agent configured with the list of both URLs. Mid-flow one worker
 * and one server are killed with SIGKILL; the agents of the dead server move to the other URL and retry their call with
 * the same request_id. Every task is completed exactly once and the goal completes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../src/dev-server';
import { call, eventually, killHard, ROOT, spawnWorker, startHarness, uid, type Harness } from './support/harness';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const TASKS = 60;
const AGENTS = 8;

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await Promise.all(children.map((c) => killHard(c)));
  await h.close();
});

async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...env,
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      TEMPORAL_NAMESPACE: h.config.namespace,
      AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue,
      AGENT_RUNTIME_DAEMON: 'off',
      PORT: String(port),
      AGENT_RUNTIME_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('/mcp')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/mcp` };
}

/** An agent with a list of server URLs: it uses the first that answers and moves on when one goes away. */
function agent(id: string, urls: string[]) {
  let at = 0;
  let client: Client | undefined;
  const connect = async (): Promise<Client> => {
    if (client) return client;
    const c = new Client({ name: `multi-${id}`, version: '1' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(urls[at] as string), {
        requestInit: { headers: { 'X-Agent-Id': id } },
      }),
    );
    client = c;
    return c;
  };
  return {
    moves: 0,
    /** Calls a tool until it answers (a result or a tool error), switching server when one stops answering. */
    async call(name: string, args: Record<string, unknown>): Promise<{ data?: any; error?: { code: string } }> {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          const r = await call(await connect(), name, args);
          if (r.error && ['TEMPORAL_UNAVAILABLE', 'NO_WORKER'].includes(r.error.code)) continue; // same key again
          return r.error ? { error: r.error } : { data: r.data };
        } catch {
          // This server is gone: the next URL, the same call and request_id.
          void client?.close().catch(() => undefined);
          client = undefined;
          at = (at + 1) % urls.length;
          this.moves += 1;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      throw new Error(`${name} for ${id}: no server answered`);
    },
    close: () => client?.close(),
  };
}

test('two workers and two servers, one of each killed mid-flow: every task completed exactly once', async () => {
  const workers = [spawnWorker(h.config), spawnWorker(h.config)];
  children.push(...workers);
  await eventually(async () => ((await h.goals.health()).workers ?? 0) >= 2, 60_000);
  const servers = [await serve(), await serve()];
  const urls = servers.map((s) => s.url);

  const setup = agent('multi-lead', urls);
  const goalId = uid('multi');
  await setup.call('create_goal', { name: 'two of each', goal_id: goalId });
  for (let i = 0; i < TASKS; i += 20) {
    const tasks = Array.from({ length: 20 }, (_, k) => ({ title: `t${i + k}` }));
    expect((await setup.call('decompose_goal', { goal_id: goalId, tasks })).error).toBeUndefined();
  }

  const doneBy = new Map<string, string>();
  const problems: string[] = [];
  let killed = false;
  const team = Array.from({ length: AGENTS }, (_, a) => {
    // Half the agents start on each server.
    const mine = a % 2 === 0 ? urls : [...urls].reverse();
    return { id: `multi-${a}`, agent: agent(`multi-${a}`, mine) };
  });
  const killOneOfEach = async () => {
    killed = true;
    await Promise.all([killHard(workers[0] as ChildProcess), killHard((servers[0] as { child: ChildProcess }).child)]);
  };

  await Promise.all(
    team.map(async ({ id, agent: a }) => {
      for (let n = 0; ; n++) {
        const claim = await a.call('get_next_task', { goal_id: goalId, request_id: `${id}-claim-${n}` });
        if (claim.error) {
          problems.push(`${id} claim: ${claim.error.code}`);
          return;
        }
        if (!claim.data?.claimed) return;
        const taskId = claim.data.id as string;
        await new Promise((resolve) => setTimeout(resolve, 20));
        const done = await a.call('update_task_status', {
          task_id: taskId,
          status: 'completed',
          request_id: `${id}-done-${n}`,
        });
        if (done.error) problems.push(`${id} complete ${taskId}: ${done.error.code}`);
        else if (doneBy.has(taskId)) problems.push(`${taskId} completed twice`);
        else doneBy.set(taskId, id);
        if (!killed && doneBy.size >= TASKS / 4) await killOneOfEach();
      }
    }),
  );

  expect(killed).toBe(true);
  expect(problems).toEqual([]);
  expect(doneBy.size).toBe(TASKS);
  // The agents that started on the killed server moved to the other one.
  expect(team.filter((t, a) => a % 2 === 0).every((t) => t.agent.moves >= 1)).toBe(true);
  const goal = (await setup.call('get_goal', { goal_id: goalId })).data.goal;
  expect(goal.task_counts).toMatchObject({ total: TASKS, completed: TASKS });
  expect(goal.status).toBe('completed');
  await Promise.all([...team.map((t) => t.agent.close()), setup.close()]);
}, 180_000);
