/**
 * One goal, many agents, each its own process (DESIGN §6, key `one_goal_stdio`): N agents each spawn their own
 * `agent-runtime mcp` stdio server, as an agent's MCP client does, against a daemon (`agent-runtime serve`) on this
 * machine, and loop get_next_task → simulated work → update_task_status(completed) over independent tasks of one
 * goal. Plus a two-agent dependency chain: the time from one agent's completion to the other, long-polling, holding
 * the next task.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { GoalsClient } from '../client/goals';
import { freePort } from '../dev-server';
import { machineCpuSeconds, ownCpuSeconds, processCpuSeconds } from './cpu';
import { median, summarize } from './stats';

export interface OneGoalRow {
  agents: number;
  work_ms: number;
  /** The median of claims_per_s_runs. */
  claims_per_s: number;
  /** Each run of the row (a new goal of `tasks` tasks each time), in the order they ran. */
  claims_per_s_runs: number[];
  claim_p50_ms: number;
  claim_p99_ms: number;
  double_claims: number;
  errors: number;
  /**
   * CPU time per task claimed over the row's runs (Linux only): this process (the agents' MCP clients, and the worker
   * when it runs in-process), the daemon, the fronts together, and the rest of the machine (the Temporal server, worker
   * processes, a database, anything else running) — what the row costs the machine, wherever it is spent.
   */
  cpu_ms_per_task?: CpuPerTask;
}

export interface CpuPerTask {
  total: number;
  bench_process: number;
  daemon: number;
  fronts: number;
  server_and_rest: number;
}

export interface OneGoalResult {
  tasks: number;
  rows: OneGoalRow[];
  handoff_p50_ms: number;
  handoff_p99_ms: number;
  /** The holder's completion call → both it and the waiter's claim answered (what handoff_p50_ms was before 2026-12-01). */
  handoff_both_answered_p50_ms: number;
  /** spawn → initialize of one agent's `agent-runtime mcp`, through the daemon. */
  stdio_start_p50_ms: number;
  /**
   * The claims/s the machine's cores allow at the CPU per task of the largest team's no-work row: cores × 1,000 ÷
   * cpu_ms_per_task.total (Linux only).
   */
  cpu_ceiling_claims_per_s?: number;
  /**
   * CPU the machine spent per second with no agent working, measured just before the rows (Linux only): work left by
   * what ran before in the same run (timers of earlier scenarios' workflows firing, a server compacting) and anything
   * else on the machine. It is inside every row's figures too; when it is large, the rows measured a busy machine.
   */
  background_cpu_ms_per_s?: CpuPerTask;
}

interface Agent {
  id: string;
  client: McpClient;
  /** Its `agent-runtime mcp` process. */
  pid?: number;
}

/** CPU seconds used so far: the machine, this process, the daemon and the fronts (undefined without /proc). */
function cpuNow(daemonPid: number | undefined, agents: Agent[]) {
  const machine = machineCpuSeconds();
  const daemon = processCpuSeconds(daemonPid);
  const fronts = agents.map((a) => processCpuSeconds(a.pid));
  if (machine === undefined || daemon === undefined || fronts.some((f) => f === undefined)) return undefined;
  return { machine, own: ownCpuSeconds(), daemon, fronts: fronts.reduce<number>((a, b) => a + (b ?? 0), 0) };
}
type CpuReading = NonNullable<ReturnType<typeof cpuNow>>;

/** A row's runs so far. */
interface RowRuns {
  rates: number[];
  latencies: number[];
  doubles: number;
  errors: number;
  claimed: number;
  /** CPU spent over the runs so far; null once a reading failed (no /proc, a process gone). */
  cpu: CpuReading | null;
}

const ZERO_CPU: CpuReading = { machine: 0, own: 0, daemon: 0, fronts: 0 };

/** What was spent between two readings, added to `total` (none by default). */
function addSpent(before: CpuReading, after: CpuReading, total: CpuReading = ZERO_CPU): CpuReading {
  return {
    machine: total.machine + after.machine - before.machine,
    own: total.own + after.own - before.own,
    daemon: total.daemon + after.daemon - before.daemon,
    fronts: total.fronts + after.fronts - before.fronts,
  };
}

type Structured = Record<string, unknown> & { claimed?: boolean; id?: string };

async function tool(agent: Agent, name: string, args: Record<string, unknown>): Promise<Structured> {
  const r = await agent.client.callTool({ name, arguments: args });
  if (r.isError) {
    const text = (r.content as Array<{ text?: string }>)[0]?.text ?? '';
    throw new Error(`${name}: ${text}`);
  }
  return r.structuredContent as Structured;
}

/** The agents loop get_next_task → work → complete over a new goal of `tasks` independent tasks until none is left. */
async function workOneGoal(goals: GoalsClient, agents: Agent[], tasks: number, workMs: number) {
  const goal = await goals.createGoal({
    name: `one goal ${agents.length}×${workMs}`,
    tasks: Array.from({ length: tasks }, (_, k) => ({ title: `t${k}` })),
  });
  const claimed = new Map<string, string>();
  let doubles = 0;
  let errors = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    agents.map(async (agent) => {
      for (;;) {
        let claim: Structured;
        const t = performance.now();
        try {
          claim = await tool(agent, 'get_next_task', { goal_id: goal.id });
        } catch {
          errors += 1;
          continue;
        }
        latencies.push(performance.now() - t);
        if (!claim.claimed || !claim.id) return;
        if (claimed.has(claim.id)) doubles += 1;
        claimed.set(claim.id, agent.id);
        if (workMs > 0) await sleep(workMs);
        try {
          await tool(agent, 'update_task_status', { task_id: claim.id, status: 'completed', result: 'ok' });
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const done = (await goals.getGoal(goal.id)).goal.task_counts.completed;
  if (done !== tasks) errors += tasks - done; // lost work counts as errors
  return { claimed: claimed.size, doubles, errors, latencies, seconds };
}

export async function oneGoalStdio(
  goals: GoalsClient,
  opts: {
    address: string;
    namespace: string;
    taskQueue: string;
    agentCounts: number[];
    workMs: number[];
    tasks: number;
    /** Tasks of an unmeasured goal all agents work first (0: none). */
    warmupTasks: number;
    /**
     * Runs of each row, every row once per round: a 200-task row at 32 agents lasts about 0.3 s, and one hiccup of the
     * machine moves a single run by 10–20 %; the row gives the median.
     */
    repeats: number;
    chain: number;
    say: (m: string) => void;
  },
): Promise<OneGoalResult> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-home-'));
  const cli = path.join(__dirname, '..', 'cli.js');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    AGENT_RUNTIME_HOME: home,
    TEMPORAL_ADDRESS: opts.address,
    TEMPORAL_NAMESPACE: opts.namespace,
    AGENT_RUNTIME_TASK_QUEUE: opts.taskQueue,
    AGENT_RUNTIME_LOG_LEVEL: 'warn',
  });
  opts.say('  starting the daemon (agent-runtime serve)…');
  const daemon: ChildProcess = spawn(process.execPath, [cli, 'serve'], {
    env: { ...env, PORT: String(await freePort()) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const agents: Agent[] = [];
  try {
    for (let i = 0; i < 200 && !fs.existsSync(path.join(home, 'daemon.json')); i++) await sleep(50);
    if (!fs.existsSync(path.join(home, 'daemon.json'))) throw new Error('the daemon did not start');

    const max = Math.max(...opts.agentCounts, 2);
    opts.say(`  spawning ${max} agent-runtime mcp processes…`);
    const starts: number[] = [];
    for (let i = 0; i < max; i++) {
      const t = performance.now();
      const client = new McpClient({ name: `bench-agent-${i}`, version: '1' });
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [cli, 'mcp'],
        env: { ...env, AGENT_ID: `agent-${i}` },
      });
      await client.connect(transport);
      starts.push(performance.now() - t);
      agents.push({ id: `agent-${i}`, client, pid: transport.pid ?? undefined });
    }

    // Every agent works one goal of `warmupTasks` first, unmeasured (as every other figure has a warm-up): the fronts,
    // the daemon and the worker are then past their JIT warm-up, and the rows measure a team at work, not one starting.
    if (opts.warmupTasks > 0) {
      opts.say(`  warm-up: ${max} agents, ${opts.warmupTasks} tasks…`);
      const w = await workOneGoal(goals, agents, opts.warmupTasks, 0);
      if (w.doubles > 0 || w.errors > 0) {
        throw new Error(`warm-up: ${w.doubles} double claims, ${w.errors} errors`);
      }
    }
    const background = await backgroundCpu(daemon.pid, agents);
    const shapes = opts.workMs.flatMap((workMs) => opts.agentCounts.map((n) => ({ n, workMs })));
    const runs = shapes.map((): RowRuns => ({
      rates: [],
      latencies: [],
      doubles: 0,
      errors: 0,
      claimed: 0,
      cpu: ZERO_CPU,
    }));
    for (let round = 1; round <= opts.repeats; round++) {
      for (const [i, { n, workMs }] of shapes.entries()) {
        const before = cpuNow(daemon.pid, agents);
        const r = await workOneGoal(goals, agents.slice(0, n), opts.tasks, workMs);
        const after = cpuNow(daemon.pid, agents);
        const acc = runs[i]!;
        acc.claimed += r.claimed;
        acc.cpu = acc.cpu && before && after ? addSpent(before, after, acc.cpu) : null;
        acc.rates.push(Math.round((r.claimed / r.seconds) * 10) / 10);
        acc.latencies.push(...r.latencies);
        acc.doubles += r.doubles;
        acc.errors += r.errors;
        const l = summarize(r.latencies);
        opts.say(
          `  ${n} agent(s), ${workMs} ms work${opts.repeats > 1 ? ` (run ${round} of ${opts.repeats})` : ''}: ${acc.rates.at(-1)} claims/s, claim p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms, ${r.doubles} double, ${r.errors} errors`,
        );
      }
    }
    const rows: OneGoalRow[] = shapes.map(({ n, workMs }, i) => {
      const acc = runs[i]!;
      const l = summarize(acc.latencies);
      return {
        agents: n,
        work_ms: workMs,
        claims_per_s: median(acc.rates),
        claims_per_s_runs: acc.rates,
        claim_p50_ms: l.p50_ms,
        claim_p99_ms: l.p99_ms,
        double_claims: acc.doubles,
        errors: acc.errors,
        ...(acc.cpu && acc.claimed > 0 ? { cpu_ms_per_task: msPer(acc.cpu, acc.claimed) } : {}),
      };
    });
    const cpuTotal = busiestNoWorkRow(rows)?.cpu_ms_per_task?.total;

    // The chain: A holds task k while B long-polls; A completes; B is handed k+1. Then they swap.
    const chain = await goals.createGoal({
      name: 'one goal chain',
      tasks: Array.from({ length: opts.chain + 1 }, (_, k) => ({
        title: `c${k}`,
        dependencies: k === 0 ? [] : [k - 1],
      })),
    });
    const [a, b] = agents as [Agent, Agent];
    let holder = a;
    let waiter = b;
    let held = await tool(holder, 'get_next_task', { goal_id: chain.id });
    const handoffs: number[] = [];
    const bothAnswered: number[] = [];
    for (let k = 0; k < opts.chain; k++) {
      const waiting = tool(waiter, 'get_next_task', { goal_id: chain.id, wait_seconds: 30 }).then((r) => ({
        r,
        at: performance.now(),
      }));
      await sleep(30); // let the waiter's long-poll reach the workflow
      const t = performance.now();
      await tool(holder, 'update_task_status', { task_id: held.id, status: 'completed', result: 'ok' });
      const completed = performance.now();
      const { r: next, at } = await waiting;
      handoffs.push(at - t); // until the waiter holds the next task, whenever the holder's own answer comes
      bothAnswered.push(Math.max(at, completed) - t);
      if (!next.claimed) throw new Error(`the chain's task ${k + 2} was not handed over`);
      held = next;
      [holder, waiter] = [waiter, holder];
    }
    const h = summarize(handoffs);
    return {
      tasks: opts.tasks,
      rows,
      handoff_p50_ms: h.p50_ms,
      handoff_p99_ms: h.p99_ms,
      handoff_both_answered_p50_ms: summarize(bothAnswered).p50_ms,
      stdio_start_p50_ms: summarize(starts).p50_ms,
      ...(cpuTotal ? { cpu_ceiling_claims_per_s: Math.round((os.cpus().length * 1000) / cpuTotal) } : {}),
      ...(background ? { background_cpu_ms_per_s: background } : {}),
    };
  } finally {
    await Promise.all(agents.map((x) => x.client.close().catch(() => undefined)));
    daemon.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** The machine's CPU per second over two quiet seconds (after half a second for the last call's work to settle). */
async function backgroundCpu(daemonPid: number | undefined, agents: Agent[]): Promise<CpuPerTask | undefined> {
  await sleep(500);
  const t0 = performance.now();
  const before = cpuNow(daemonPid, agents);
  await sleep(2000);
  const after = cpuNow(daemonPid, agents);
  if (!before || !after) return undefined;
  return msPer(addSpent(before, after), (performance.now() - t0) / 1000);
}

/** The row of the largest team with no work: the one whose CPU per task gives the ceiling. */
export function busiestNoWorkRow(rows: OneGoalRow[]): OneGoalRow | undefined {
  return rows
    .filter((r) => r.work_ms === 0)
    .reduce<OneGoalRow | undefined>((a, r) => (!a || r.agents > a.agents ? r : a), undefined);
}

/**
 * CPU seconds as milliseconds per unit (a task claimed, or a second of wall time); the rest of the machine is what no
 * measured process used.
 */
function msPer(cpu: CpuReading, units: number): CpuPerTask {
  const ms = (seconds: number) => Math.round((seconds * 1000 * 100) / units) / 100;
  return {
    total: ms(cpu.machine),
    bench_process: ms(cpu.own),
    daemon: ms(cpu.daemon),
    fronts: ms(cpu.fronts),
    server_and_rest: ms(Math.max(0, cpu.machine - cpu.own - cpu.daemon - cpu.fronts)),
  };
}
