/**
 * Task-graph workspaces in the benchmark: a 10,000-task workspace (create_tree of the whole backlog, list_tasks(ready),
 * claim and complete in it, a SQL metric over it) and the seed's pure-pull protocol (list_tasks(ready) → claim →
 * update(completed)) by 1, 2, 4 and 8 agents, beside the one-step claim. All through MCP.
 */
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { summarize, type Latency } from './stats';

interface Out {
  task: { id: string };
  count: number;
  all_ids: string[];
  worker_id: string;
  success: boolean;
  tasks: Array<{ id: string }>;
}

async function tool(mcp: McpClient, name: string, args: Record<string, unknown>): Promise<Out> {
  const r = await mcp.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${(r.content as Array<{ text?: string }>)[0]?.text ?? ''}`);
  return r.structuredContent as Out;
}
async function attempt(mcp: McpClient, name: string, args: Record<string, unknown>): Promise<Out | undefined> {
  const r = await mcp.callTool({ name, arguments: args });
  return r.isError ? undefined : (r.structuredContent as Out);
}
const since = (t: number): number => Math.round((performance.now() - t) * 10) / 10;

export interface BigWorkspaceResult {
  tasks: number;
  create_tree_ms: number;
  list_ready: Latency;
  claim: Latency;
  complete: Latency;
  get: Latency;
  query_ms: number;
}

export async function bigWorkspace(
  mcp: McpClient,
  runId: string,
  tasks: number,
  rounds: number,
): Promise<BigWorkspaceResult> {
  const workspace = `bench-big-${runId}`;
  const children = Array.from({ length: tasks - 1 }, (_, n) => ({
    title: `backlog item ${n}`,
    description: `Backlog item ${n}: what done looks like.`,
    priority: n % 11,
  }));
  let t = performance.now();
  const created = await tool(mcp, 'create_tree', {
    workspace,
    tree: { title: 'backlog', join_mode: 'also', children },
  });
  const createMs = since(t);
  const { worker_id } = await tool(mcp, 'connect', { workspace, worker_id: `bench-${runId}` });
  const list: number[] = [];
  const claim: number[] = [];
  const complete: number[] = [];
  const get: number[] = [];
  for (let i = 0; i < rounds; i++) {
    t = performance.now();
    await tool(mcp, 'list_tasks', { workspace, ready: true, limit: 20 });
    list.push(since(t));
    t = performance.now();
    const c = await tool(mcp, 'claim', { workspace, worker_id });
    claim.push(since(t));
    t = performance.now();
    await tool(mcp, 'update', { workspace, worker_id, task: c.task.id, status: 'completed' });
    complete.push(since(t));
    t = performance.now();
    await tool(mcp, 'get', { workspace, task: created.all_ids[i + 1] ?? '' });
    get.push(since(t));
  }
  t = performance.now();
  await tool(mcp, 'query', {
    workspace,
    sql: "SELECT worker_id, COUNT(*) FROM tasks WHERE status = 'completed' GROUP BY worker_id",
  });
  return {
    tasks: created.count,
    create_tree_ms: createMs,
    list_ready: summarize(list),
    claim: summarize(claim),
    complete: summarize(complete),
    get: summarize(get),
    query_ms: since(t),
  };
}

export interface PurePullRow {
  agents: number;
  protocol: 'list+claim' | 'claim';
  tasks: number;
  wall_ms: number;
  tasks_per_s: number;
  claim_attempts: number;
  claim_success_rate: number;
  double_claims: number;
}

/** The seed's experiment shape: `tasks` independent tasks (a root and its items), N agents, no work time. */
export async function purePull(
  clients: () => Promise<McpClient>,
  runId: string,
  agents: number,
  tasks: number,
  protocol: PurePullRow['protocol'],
): Promise<PurePullRow> {
  const workspace = `bench-pull-${protocol === 'claim' ? 'one' : 'two'}-${agents}-${runId}`;
  const admin = await clients();
  await tool(admin, 'create_tree', {
    workspace,
    tree: {
      title: 'experiment',
      join_mode: 'also',
      children: Array.from({ length: tasks - 1 }, (_, n) => ({ title: `task ${n}` })),
    },
    child_type: 'see-also',
  });
  let attempts = 0;
  const done: string[] = [];
  const t = performance.now();
  await Promise.all(
    Array.from({ length: agents }, async (_, n) => {
      const mcp = await clients();
      const { worker_id } = await tool(mcp, 'connect', {
        workspace,
        worker_id: `pull-${n}-${runId}`,
        workflow: 'swarm',
      });
      for (;;) {
        let task: string | undefined;
        if (protocol === 'claim') {
          const c = await tool(mcp, 'claim', { workspace, worker_id });
          if (!c.success) return; // nothing left: not an attempt at a task
          attempts++;
          task = c.task.id;
        } else {
          const ready = (await tool(mcp, 'list_tasks', { workspace, ready: true, agent: worker_id, limit: 10 })).tasks;
          if (ready.length === 0) return;
          attempts++;
          const pick = (ready[n % ready.length] as { id: string }).id;
          if (!(await attempt(mcp, 'claim', { workspace, worker_id, task: pick }))) continue;
          task = pick;
        }
        await tool(mcp, 'update', { workspace, worker_id, task, status: 'completed' });
        done.push(task);
      }
    }),
  );
  const wall = performance.now() - t;
  const dup = done.length - new Set(done).size;
  return {
    agents,
    protocol,
    tasks: done.length,
    wall_ms: Math.round(wall),
    tasks_per_s: Math.round((done.length / wall) * 1000 * 10) / 10,
    claim_attempts: attempts,
    claim_success_rate: Math.round((done.length / Math.max(1, attempts)) * 1000) / 1000,
    double_claims: dup,
  };
}
