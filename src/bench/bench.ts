/**
 * npm run bench [-- --quick]: latencies agents feel, against the Temporal floor measured in the same run.
 * Figures: the floor (a no-op Update), get_next_task claim (direct, and through MCP over HTTP with the MCP SDK's client
 * and with node:http), relay handoff
 * (advance_relay → the next agent's get_relay_baton shows the new baton), decompose_goal (sequential, and a
 * 100-task plan). Writes bench/results/latest.json, a dated copy and latest.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { createRelayClient } from '../client/relay';
import { freePort } from '../dev-server';
import { serveHttp } from '../mcp/http';
import type { benchFloorWorkflow } from '../workflows/bench-floor';
import { noopUpdate, stopUpdate } from '../workflows/bench-floor';
import { GOAL_SIZE, pullChart, pullSimulation, type PullResult } from './pull';
import { agentLatencies } from './agents';
import { ALL_TOOLSETS } from '../config';
import { bigWorkspace, purePull, type BigWorkspaceResult, type PurePullRow } from './task-graph';
import { listsScenario, type ListsResult } from './lists';
import { busiestNoWorkRow, oneGoalStdio, type OneGoalResult } from './one-goal';
import { scaleScenario, type ScaleResult } from './scale';
import { summarize, type Latency } from './stats';
import { startBenchEnvironment, startPostgresBenchEnvironment, type BenchEnvironment } from './environment';
import { sideBySide, sideBySideMd, type SideBySideRow } from './engines';

async function time(n: number, warmup: number, fn: (i: number) => Promise<void>): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return summarize(samples);
}

/**
 * Times several operations in rounds, one sample of each per round, so that every figure (the floor included) sees
 * the same machine state and their ratios hold on a noisy machine.
 */
async function interleaved(
  n: number,
  warmup: number,
  ops: Record<string, (i: number) => Promise<void>>,
): Promise<Record<string, Latency>> {
  const entries = Object.entries(ops);
  for (let i = 0; i < warmup; i++) for (const [, fn] of entries) await fn(-1 - i);
  const samples = new Map<string, number[]>(entries.map(([k]) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [k, fn] of entries) {
      const t = process.hrtime.bigint();
      await fn(i);
      samples.get(k)?.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return Object.fromEntries(entries.map(([k]) => [k, summarize(samples.get(k) ?? [])]));
}

interface Mode {
  quick: boolean;
  tiny: boolean;
  /** Samples per latency figure. */
  n: number;
  warmup: number;
}

interface EngineRun {
  report: Record<string, unknown>;
  md: string;
  svg: string;
}

/** One JSON-RPC POST to an MCP endpoint through node:http; resolves with the response body. */
function postJson(url: string, agent: http.Agent, body: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
          'x-agent-id': 'bench',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every scenario on one engine; the report of that engine and its markdown. */
async function runScenarios(env: BenchEnvironment, mode: Mode, say: (m: string) => void): Promise<EngineRun> {
  const { quick, tiny, n, warmup } = mode;
  const { address, taskQueue, client, goals } = env;
  const relays = createRelayClient(goals);
  const httpServer = await serveHttp({ host: '127.0.0.1', port: await freePort(), goals, toolsets: ['all'] });
  const mcp = new McpClient({ name: 'bench', version: '1' });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(httpServer.url), { requestInit: { headers: { 'X-Agent-Id': 'bench' } } }),
  );
  // The same tools/call through Node's own keep-alive HTTP client: separates what the MCP SDK client's fetch costs from
  // what MCP over HTTP (protocol and server) adds.
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const results: Record<string, unknown> = {};

  const floorHandle = await client.workflow.start<typeof benchFloorWorkflow>('benchFloorWorkflow', {
    workflowId: `bench-floor-${randomUUID()}`,
    taskQueue,
  });

  const goalWithTasks = async (count: number) => {
    const g = await goals.createGoal({ name: `bench claims ${randomUUID().slice(0, 6)}` });
    for (let i = 0; i < count; i += 1000) {
      await goals.createTasks(
        g.id,
        Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ title: `t${i + k}` })),
      );
    }
    return g.id;
  };
  const direct = await goalWithTasks(n + warmup);
  const viaMcp = await goalWithTasks(n + warmup);
  const viaNodeHttp = await goalWithTasks(n + warmup);
  const nodeHttpClaim = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'get_next_task', arguments: { goal_id: viaNodeHttp } },
  });

  // A run-private agent type: its breaker (checked on every baton) belongs to this run alone.
  const benchAgentType = `bench-researcher-${taskQueue}`;
  const steps = Math.min(n + warmup + 1, 64);
  const newPipeline = async () =>
    (
      await relays.create({
        name: 'bench handoff',
        goal: 'bench',
        agentTypes: Array.from({ length: steps }, () => benchAgentType),
      })
    ).pipeline_id;
  let pipeline = await newPipeline();
  let position = 1;

  say(`floor, claim_direct, claim_mcp, claim_mcp_node_http, handoff: ${n} rounds, one sample of each per round…`);
  Object.assign(
    results,
    await interleaved(n, warmup, {
      // A no-op Update on a trivial workflow: Temporal's own cost for an Update round trip.
      floor: async (i) => {
        await floorHandle.executeUpdate(noopUpdate, { args: [i] });
      },
      // get_next_task through the client module.
      claim_direct: async () => {
        const c = await goals.claimNextTask({ agentId: 'bench', goalId: direct });
        if (!c.claimed) throw new Error(`claim failed: ${c.reason}`);
      },
      // The same claim end to end through MCP over Streamable HTTP.
      claim_mcp: async () => {
        const r = await mcp.callTool({ name: 'get_next_task', arguments: { goal_id: viaMcp } });
        if (r.isError || !(r.structuredContent as { claimed: boolean }).claimed) throw new Error('MCP claim failed');
      },
      // The same JSON-RPC call as one POST through node:http with a kept-alive connection.
      claim_mcp_node_http: async () => {
        const answer = JSON.parse(await postJson(httpServer.url, keepAlive, nodeHttpClaim)) as {
          result?: { isError?: boolean; structuredContent?: { claimed?: boolean } };
        };
        if (answer.result?.isError || !answer.result?.structuredContent?.claimed) {
          throw new Error('MCP claim over node:http failed');
        }
      },
      // advance_relay → the next agent's get_relay_baton shows the new baton.
      handoff: async () => {
        if (position >= steps) {
          pipeline = await newPipeline();
          position = 1;
        }
        await relays.advance(pipeline, { qualityScore: 0.9, lScore: 0.9, tokensUsed: 1 });
        position += 1;
        const baton = await relays.baton(pipeline);
        if (baton?.sequence_position !== position) throw new Error('the next baton was not there');
      },
    }),
  );
  await floorHandle.executeUpdate(stopUpdate);

  say(`decompose_sequential and decompose_plan_100: ${n} each…`);
  results.decompose_sequential = await time(n, warmup, async () => {
    const g = await goals.createGoal({ name: 'bench decompose' });
    await goals.decomposeGoal(g.id, 'sequential', undefined);
  });
  const plan = Array.from({ length: 100 }, (_, i) => ({
    title: `plan task ${i}`,
    dependencies: i === 0 ? [] : [i - 1],
  }));
  results.decompose_plan_100 = await time(Math.max(5, Math.floor(n / 4)), Math.min(warmup, 3), async () => {
    const g = await goals.createGoal({ name: 'bench plan' });
    await goals.decomposeGoal(g.id, 'sequential', plan);
  });

  say(`agent teams: push and message latency, ${Math.max(5, Math.floor(n / 4))} each…`);
  const teams = await agentLatencies(mcp, taskQueue, tiny ? 3 : Math.max(5, Math.floor(n / 4)));
  results.agent_push = teams.push;
  results.agent_complete = teams.complete;
  results.agent_message = teams.message;

  say('one goal, many agents, each its own agent-runtime mcp process through the daemon…');
  const oneGoal = await oneGoalStdio(goals, {
    address,
    namespace: env.namespace,
    taskQueue,
    agentCounts: tiny ? [1, 2] : [1, 4, 16, 32],
    workMs: tiny ? [0] : [0, 50],
    tasks: tiny ? 20 : 200,
    warmupTasks: tiny ? 20 : 1000,
    repeats: tiny ? 2 : 3,
    chain: tiny ? 4 : 40,
    say,
  });
  results.one_goal_stdio = oneGoal;

  const tgClient = async (): Promise<McpClient> => {
    const c = new McpClient({ name: 'bench-task-graph', version: '1' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(httpServer.url), {
        requestInit: { headers: { 'X-Agent-Runtime-Toolsets': 'task-graph' } },
      }),
    );
    tgClients.push(c);
    return c;
  };
  const tgClients: McpClient[] = [];
  // What an agent's context pays for the tool list, per toolset, as `tools/list` returns it over MCP.
  const toolList: Record<string, { tools: number; bytes: number; tokens_est: number }> = {};
  for (const set of ['goals,relay,breakers', ...ALL_TOOLSETS, 'all']) {
    const c = new McpClient({ name: 'bench-tool-list', version: '1' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(httpServer.url), {
        requestInit: { headers: { 'X-Agent-Runtime-Toolsets': set } },
      }),
    );
    const listed = await c.listTools();
    const bytes = Buffer.byteLength(JSON.stringify({ tools: listed.tools }));
    toolList[set] = { tools: listed.tools.length, bytes, tokens_est: Math.round(bytes / 4) };
    await c.close();
  }
  results.tool_list = toolList;
  const bigTasks = tiny ? 500 : 10_000;
  say(`task-graph: a ${bigTasks}-task workspace (create_tree, list_tasks(ready), claim, complete, get, query)…`);
  results.task_graph_workspace = await bigWorkspace(await tgClient(), taskQueue, bigTasks, tiny ? 5 : quick ? 20 : 50);
  say(`  ${JSON.stringify(results.task_graph_workspace)}`);
  const tgPull: PurePullRow[] = [];
  for (const agents of tiny ? [1, 2] : [1, 2, 4, 8]) {
    for (const protocol of ['list+claim', 'claim'] as const) {
      say(`task-graph pure pull: ${agents} agent(s), ${protocol}, 40 tasks…`);
      tgPull.push(await purePull(tgClient, taskQueue, agents, 40, protocol));
    }
  }
  results.task_graph_pull = tgPull;
  await Promise.all(tgClients.map((c) => c.close()));

  const counts = tiny ? [1, 2] : [1, 4, 8, 32, 128];
  const seconds = tiny ? 2 : quick ? 4 : 15;
  const workIdx = process.argv.indexOf('--work-ms');
  const workMs = workIdx > 0 ? Number(process.argv[workIdx + 1]) : 100;
  const pull: PullResult[] = [];
  for (const agents of counts) {
    say(`pull simulation: ${agents} agent(s) for ${seconds} s, ${workMs} ms of work per task…`);
    const r = await pullSimulation(goals, agents, seconds, workMs, pull[0]?.throughput_per_s);
    pull.push(r);
    say(
      `  ${r.throughput_per_s} tasks/s, efficiency ${r.efficiency}, success ${r.claim_success_rate}, gini ${r.gini}, double claims ${r.double_claims}`,
    );
  }
  results.pull = pull;

  if (!quick && !tiny) {
    say('scale scenario: 100 projects × 100 steps, 1,000 agents…');
    results.scale = await scaleScenario(goals, 100, 100, 1000, say);
    say(`  ${JSON.stringify(results.scale)}`);
  }

  // Last: its 1,000 extra goals would weigh on the scenarios above (the worker's cache, Visibility).
  say('list_goals over 1,000 goals, rows from Visibility, against one get_goal…');
  results.lists = await listsScenario(goals, mcp, tiny ? 50 : 1000, tiny ? 2 : 10, say);
  say(`  ${JSON.stringify(results.lists)}`);

  const floor = (results.floor as Latency).p50_ms;
  const ratio = (k: string) => Math.round(((results[k] as Latency).p50_ms / floor) * 100) / 100;
  const overhead = (k: string) =>
    Math.round(((results[k] as Latency).p50_ms - (results.claim_direct as Latency).p50_ms) * 100) / 100;
  const report = {
    date: new Date().toISOString(),
    mode: tiny ? 'tiny' : quick ? 'quick' : 'full',
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    temporal: { address, embedded: env.embedded, engine: env.engine, workers: env.workers },
    ...results,
    ratios_to_floor_p50: {
      claim_direct: ratio('claim_direct'),
      claim_mcp: ratio('claim_mcp'),
      claim_mcp_node_http: ratio('claim_mcp_node_http'),
      handoff: ratio('handoff'),
      decompose_sequential: ratio('decompose_sequential'),
      decompose_plan_100: ratio('decompose_plan_100'),
      agent_push: ratio('agent_push'),
      agent_complete: ratio('agent_complete'),
      agent_message: ratio('agent_message'),
    },
    one_goal_stdio_vs_floor: {
      // Targets: claims/s at 32 agents ≥ 5 ÷ floor p50; claim p50 ≤ 2 × floor; chain handoff p50 ≤ 1.5 × floor.
      claims_per_s_target_at_32: Math.round((5 / ((results.floor as Latency).p50_ms / 1000)) * 10) / 10,
      claim_p50_ratios: oneGoal.rows.map((r) => ({
        agents: r.agents,
        work_ms: r.work_ms,
        ratio: Math.round((r.claim_p50_ms / (results.floor as Latency).p50_ms) * 100) / 100,
      })),
      handoff_ratio: Math.round((oneGoal.handoff_p50_ms / (results.floor as Latency).p50_ms) * 100) / 100,
    },
    mcp_overhead_p50_ms: overhead('claim_mcp'),
    mcp_overhead_node_http_p50_ms: overhead('claim_mcp_node_http'),
  };
  const rows = [
    'floor',
    'claim_direct',
    'claim_mcp',
    'claim_mcp_node_http',
    'handoff',
    'decompose_sequential',
    'decompose_plan_100',
    'agent_push',
    'agent_complete',
    'agent_message',
  ].map((k) => {
    const l = results[k] as Latency;
    const r = k === 'floor' ? '1.00' : ratio(k).toFixed(2);
    return `| ${k} | ${l.p50_ms} | ${l.p95_ms} | ${l.p99_ms} | ${l.max_ms} | ${l.n} | ${r} |`;
  });
  const lists = results.lists as ListsResult | undefined;
  const md = [
    `# agent-runtime benchmark — ${report.date} (${report.mode})`,
    '',
    `${report.machine.cpus} × ${report.machine.cpu_model}, Node ${report.machine.node}, Temporal at ${address} (${env.label})`,
    '',
    '| figure | p50 ms | p95 ms | p99 ms | max ms | n | p50 / floor |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `MCP over HTTP adds ${report.mcp_overhead_p50_ms} ms p50 to a direct claim with the MCP SDK's client, ${report.mcp_overhead_node_http_p50_ms} ms with node:http (kept-alive connection).`,
    ...(lists
      ? [
          '',
          `list_goals over ${lists.goals} goals (rows from Visibility): p50 ${lists.list_goals_p50_ms} ms against get_goal ${lists.get_goal_p50_ms} ms (${lists.ratio} ×; target ≤ 2 ×).`,
        ]
      : []),
  ].join('\n');
  const pullRows = pull.map(
    (r) =>
      `| ${r.agents} | ${r.goals} | ${r.throughput_per_s} | ${r.efficiency} | ${r.claim_success_rate} | ${r.gini} | ${r.double_claims} | ${r.lost_completions} | ${r.p99_claim_ms} |`,
  );
  const fullMd = [
    md,
    '',
    `Pull simulation (${workMs} ms of work per task, ${seconds} s per N; the agents as one team over goals of ${GOAL_SIZE} tasks):`,
    '',
    '| agents | goals | tasks/s | efficiency | claim success | gini | double claims | lost completions | p99 claim ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...pullRows,
  ].join('\n');
  const oneGoalMd = [
    `One goal, many agents, each its own \`agent-runtime mcp\` through the daemon (${oneGoal.tasks} independent tasks in a new goal for each run of a row, every row run ${oneGoal.rows[0]?.claims_per_s_runs.length ?? 0} times; stdio start p50 ${oneGoal.stdio_start_p50_ms} ms; chain handoff p50 ${oneGoal.handoff_p50_ms} ms = ${report.one_goal_stdio_vs_floor.handoff_ratio} × floor, until the waiter holds the next task; ${oneGoal.handoff_both_answered_p50_ms} ms until the holder's own answer has come too):`,
    '',
    '| agents | work ms | claims/s (median) | each run | claim p50 ms | claim p99 ms | p50 / floor | double claims | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...oneGoal.rows.map(
      (r, i) =>
        `| ${r.agents} | ${r.work_ms} | ${r.claims_per_s} | ${r.claims_per_s_runs.join(', ')} | ${r.claim_p50_ms} | ${r.claim_p99_ms} | ${report.one_goal_stdio_vs_floor.claim_p50_ratios[i]?.ratio ?? ''} | ${r.double_claims} | ${r.errors} |`,
    ),
    '',
    `Target at 32 agents: ≥ ${report.one_goal_stdio_vs_floor.claims_per_s_target_at_32} claims/s (5 ÷ floor p50).`,
    cpuLine(oneGoal, report.machine.cpus, env.workers.includes('in-process')),
  ]
    .filter((line) => line !== undefined)
    .join('\n');
  const toolListMd = [
    'Tool list (`tools/list` over MCP; tokens estimated as bytes ÷ 4; targets: default ≤ 24 KB, all ≤ 60 KB):',
    '',
    '| toolsets | tools | bytes | ≈ tokens |',
    '| --- | --- | --- | --- |',
    ...Object.entries(toolList).map(([k, v]) => `| ${k} | ${v.tools} | ${v.bytes} | ${v.tokens_est} |`),
  ].join('\n');
  const big = results.task_graph_workspace as BigWorkspaceResult;
  const tgMd = [
    `Task-graph workspace of ${big.tasks} tasks: create_tree ${big.create_tree_ms} ms; p50 list_tasks(ready) ${big.list_ready.p50_ms} ms, claim ${big.claim.p50_ms} ms, complete ${big.complete.p50_ms} ms, get ${big.get.p50_ms} ms; a SQL metric over it ${big.query_ms} ms.`,
    '',
    "Task-graph pure pull (the seed's experiment: 40 independent tasks, no work time), the two-step protocol beside the one-step claim:",
    '',
    '| agents | protocol | tasks/s | claim attempts | claim success | double claims |',
    '| --- | --- | --- | --- | --- | --- |',
    ...(results.task_graph_pull as PurePullRow[]).map(
      (r) =>
        `| ${r.agents} | ${r.protocol} | ${r.tasks_per_s} | ${r.claim_attempts} | ${r.claim_success_rate} | ${r.double_claims} |`,
    ),
  ].join('\n');
  const scale = results.scale as ScaleResult | undefined;
  const scaleMd = scale
    ? `Scale scenario: ${scale.projects} projects × ${scale.steps} steps, ${scale.agents} agents: ${scale.wall_s} s wall, ${scale.claims_per_s} claims/s, ${scale.double_claims} double claims, ${scale.lost_completions} lost completions, largest history ${scale.max_history_length} events.`
    : '';
  await mcp.close();
  keepAlive.destroy();
  await httpServer.close();
  return {
    report,
    md: [fullMd, oneGoalMd, tgMd, toolListMd, scaleMd].filter(Boolean).join('\n\n'),
    svg: pullChart(pull),
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const tiny = process.argv.includes('--tiny');
  const postgres = process.argv.includes('--postgres');
  const mode: Mode = { quick, tiny, n: tiny ? 5 : quick ? 50 : 200, warmup: tiny ? 1 : 10 };
  const outDir = process.env.AGENT_RUNTIME_BENCH_DIR ?? path.join(process.cwd(), 'bench', 'results');
  const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

  // One engine at a time, so that neither run competes with the other's server for the machine.
  const runOn = async (env: BenchEnvironment): Promise<EngineRun> => {
    try {
      return await runScenarios(env, mode, say);
    } finally {
      await env.close();
    }
  };
  const dev = await runOn(await startBenchEnvironment('bench', say));
  let pg: EngineRun | undefined;
  if (postgres) {
    say('the same scenarios on Temporal on PostgreSQL (up --postgres, 2 worker processes)…');
    pg = await runOn(await startPostgresBenchEnvironment('bench', say, 2));
  }

  const report = pg ? { ...dev.report, postgres: pg.report, engines: sideBySide(dev.report, pg.report) } : dev.report;
  const md = pg
    ? [
        dev.md,
        '',
        '## Temporal on PostgreSQL',
        '',
        pg.md,
        '',
        '## Both engines side by side',
        '',
        sideBySideMd(report.engines as SideBySideRow[]),
      ].join('\n')
    : dev.md;
  fs.mkdirSync(outDir, { recursive: true });
  const json = JSON.stringify(report, null, 2) + '\n';
  fs.writeFileSync(path.join(outDir, 'latest.json'), json);
  fs.writeFileSync(path.join(outDir, `${String(report.date).replace(/[:.]/g, '-')}.json`), json);
  fs.writeFileSync(path.join(outDir, 'latest.md'), md + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.svg'), dev.svg + '\n');
  process.stdout.write(md + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/** What a task cost the machine in the largest team's no-work row, and the claims/s its cores allow at that cost. */
function cpuLine(oneGoal: OneGoalResult, cpus: number, workerHere: boolean): string | undefined {
  const row = busiestNoWorkRow(oneGoal.rows);
  const c = row?.cpu_ms_per_task;
  if (!row || !c || !oneGoal.cpu_ceiling_claims_per_s) return undefined;
  return `CPU per task at ${row.agents} agents (no work): ${c.total} ms — this process (the agents' MCP clients${workerHere ? ' and the worker' : ''}) ${c.bench_process}, the daemon ${c.daemon}, the fronts ${c.fronts}, the Temporal server${workerHere ? '' : ' with its workers and database'} and the rest of the machine ${c.server_and_rest}; at that cost ${cpus} cores allow at most ${oneGoal.cpu_ceiling_claims_per_s} claims/s.${background(oneGoal)}`;
}

/** What the machine spent with no agent working, measured before the rows. */
function background(oneGoal: OneGoalResult): string {
  const b = oneGoal.background_cpu_ms_per_s;
  if (!b) return '';
  return ` Before the rows, with no agent working, the machine was busy ${b.total} ms a second (this process ${b.bench_process}, the daemon ${b.daemon}, the fronts ${b.fronts}, the rest ${b.server_and_rest}): work every row's figures include.`;
}
