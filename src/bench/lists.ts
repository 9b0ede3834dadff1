/**
 * Lists at scale: list_goals over 1,000 goals answers from Visibility in one call (each row from its goal's memo),
 * measured against a single get_goal (a Query of one workflow). Target: the list within 2 × get_goal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import type { GoalsClient } from '../client/goals';
import { summarize } from './stats';

export interface ListsResult {
  goals: number;
  list_goals_p50_ms: number;
  get_goal_p50_ms: number;
  ratio: number;
}

export async function listsScenario(
  goals: GoalsClient,
  mcp: McpClient,
  count: number,
  rounds: number,
  say: (m: string) => void,
): Promise<ListsResult> {
  const existing = (await goals.listGoals(undefined, count)).length;
  const missing = Math.max(0, count - existing);
  say(`  creating ${missing} more goals (${existing} exist)…`);
  const made = await goals.mapLimited(
    Array.from({ length: missing }, (_, i) => i),
    16,
    (i) => goals.createGoal({ name: `bench list ${i}`, tasks: [{ title: 'one task' }] }),
  );
  const probe = made[0]?.id ?? (await goals.listGoals(undefined, 1))[0]?.id;
  if (!probe) throw new Error('no goal to read');
  const deadline = Date.now() + 120_000;
  while ((await goals.listGoals(undefined, count)).length < count) {
    if (Date.now() > deadline) throw new Error(`Visibility did not list ${count} goals within 120 s`);
    await sleep(250);
  }
  // New goals publish their rows (and refresh them 2 s later): time the steady state, not that backlog.
  const settleBy = Date.now() + 60_000;
  for (let fast = 0; fast < 5 && Date.now() < settleBy;) {
    const t = performance.now();
    await goals.getGoal(probe);
    fast = performance.now() - t < 50 ? fast + 1 : 0;
    await sleep(100);
  }
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await mcp.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed`);
    return r.structuredContent as { count?: number };
  };
  const list: number[] = [];
  const get: number[] = [];
  for (let i = 0; i < rounds + 1; i++) {
    let t = performance.now();
    const rows = await call('list_goals', { limit: count });
    const l = performance.now() - t;
    if ((rows.count ?? 0) < count) throw new Error(`list_goals answered ${rows.count} rows, not ${count}`);
    t = performance.now();
    await call('get_goal', { goal_id: probe });
    const g = performance.now() - t;
    if (i > 0) {
      list.push(l);
      get.push(g);
    }
  }
  const lp = summarize(list).p50_ms;
  const gp = summarize(get).p50_ms;
  return { goals: count, list_goals_p50_ms: lp, get_goal_p50_ms: gp, ratio: Math.round((lp / gp) * 100) / 100 };
}
