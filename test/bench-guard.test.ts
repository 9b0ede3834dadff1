/** Not a timing: the benchmark runs end to end on the test server and its JSON has every figure. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './support/harness';

test('npm run bench (tiny) writes a JSON report with every latency figure', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-bench-'));
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'bench', 'bench.js'), '--tiny'], {
    env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS, AGENT_RUNTIME_BENCH_DIR: dir },
    timeout: 120_000,
  });
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8')) as Record<string, any>;
  for (const key of [
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
  ]) {
    expect(Object.keys(report[key]).sort()).toEqual(['max_ms', 'n', 'p50_ms', 'p95_ms', 'p99_ms']);
    expect(report[key].n).toBeGreaterThan(0);
    expect(report[key].p50_ms).toBeGreaterThan(0);
  }
  expect(typeof report.mcp_overhead_p50_ms).toBe('number');
  expect(typeof report.mcp_overhead_node_http_p50_ms).toBe('number');
  expect(report.pull.map((p: any) => p.agents)).toEqual([1, 2]);
  const numbers = (row: Record<string, unknown>, keys: string[]) =>
    expect(keys.filter((k) => typeof row[k] !== 'number')).toEqual([]);
  for (const p of report.pull) {
    numbers(p, [
      'agents',
      'throughput_per_s',
      'efficiency',
      'claim_success_rate',
      'gini',
      'double_claims',
      'p99_claim_ms',
    ]);
    expect(p.double_claims).toBe(0);
  }
  const oneGoal = report.one_goal_stdio;
  expect(oneGoal.rows.map((r: any) => r.agents)).toEqual([1, 2]);
  for (const r of oneGoal.rows) {
    numbers(r, ['agents', 'work_ms', 'claims_per_s', 'claim_p50_ms', 'claim_p99_ms', 'double_claims', 'errors']);
    expect(r.double_claims).toBe(0);
    expect(r.errors).toBe(0);
    expect(r.claims_per_s_runs).toHaveLength(2); // tiny: each row twice, the figure is their median
    expect(r.claims_per_s).toBeCloseTo((r.claims_per_s_runs[0] + r.claims_per_s_runs[1]) / 2, 1);
    // What a task cost the machine, process by process (read from /proc; ticks of 10 ms, so no sums are compared).
    const cpu = r.cpu_ms_per_task;
    expect(cpu.total).toBeGreaterThan(0);
    for (const part of ['bench_process', 'daemon', 'fronts', 'server_and_rest']) {
      expect(cpu[part]).toBeGreaterThanOrEqual(0);
    }
    expect(cpu.bench_process).toBeGreaterThan(0);
  }
  expect(oneGoal.cpu_ceiling_claims_per_s).toBeGreaterThan(0);
  // The machine's CPU with no agent working, before the rows: at most both cores, each part within it.
  const idle = oneGoal.background_cpu_ms_per_s;
  expect(idle.total).toBeGreaterThanOrEqual(0);
  expect(idle.total).toBeLessThanOrEqual(os.cpus().length * 1000 + 50);
  for (const part of ['bench_process', 'daemon', 'fronts', 'server_and_rest']) {
    expect(idle[part]).toBeGreaterThanOrEqual(0);
  }
  expect(oneGoal.handoff_p50_ms).toBeGreaterThan(0);
  expect(oneGoal.handoff_both_answered_p50_ms).toBeGreaterThanOrEqual(oneGoal.handoff_p50_ms);
  expect(oneGoal.stdio_start_p50_ms).toBeGreaterThan(0);
  expect(report.tool_list['goals,relay,breakers'].bytes).toBeLessThanOrEqual(24 * 1024);
  expect(report.tool_list.all.bytes).toBeLessThanOrEqual(60 * 1024);
  expect(report.tool_list['task-graph'].tools).toBe(35);
  const big = report.task_graph_workspace;
  expect(big.tasks).toBe(500);
  numbers(big, ['create_tree_ms', 'query_ms']);
  for (const k of ['list_ready', 'claim', 'complete', 'get']) expect(big[k].p50_ms).toBeGreaterThan(0);
  expect(report.task_graph_pull.map((r: any) => [r.agents, r.protocol])).toEqual([
    [1, 'list+claim'],
    [1, 'claim'],
    [2, 'list+claim'],
    [2, 'claim'],
  ]);
  for (const r of report.task_graph_pull) {
    expect(r).toMatchObject({ tasks: 40, double_claims: 0 });
    numbers(r, ['tasks_per_s', 'claim_attempts', 'claim_success_rate']);
  }
  expect(fs.readFileSync(path.join(dir, 'latest.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  expect(report.machine.cpus).toBeGreaterThan(0);
  expect(fs.readFileSync(path.join(dir, 'latest.md'), 'utf8')).toContain('| handoff |');
  fs.rmSync(dir, { recursive: true, force: true });
}, 150_000);

test('npm run bench -- --postgres (tiny) runs every scenario on both engines and puts them side by side', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-bench-'));
  const pgHomes = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('agent-runtime-bench-pg-'));
  const before = pgHomes();
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'bench', 'bench.js'), '--tiny', '--postgres'], {
    env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS, AGENT_RUNTIME_BENCH_DIR: dir },
    timeout: 300_000,
  });
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8')) as Record<string, any>;
  expect(report.temporal.engine).toBe('dev');
  expect(report.postgres.temporal).toMatchObject({ engine: 'postgres', workers: '2 processes' });
  // The same scenarios ran on PostgreSQL, with every guarantee.
  for (const key of ['floor', 'claim_direct', 'claim_mcp', 'handoff'])
    expect(report.postgres[key].n).toBeGreaterThan(0);
  for (const row of [...report.postgres.pull, ...report.postgres.one_goal_stdio.rows]) {
    expect(row.double_claims).toBe(0);
  }
  const rows = new Map((report.engines as any[]).map((r) => [r.figure, r]));
  const floor = rows.get('floor p50 ms (no-op Update)');
  expect(floor.dev).toBe(report.floor.p50_ms);
  expect(floor.postgres).toBe(report.postgres.floor.p50_ms);
  expect(floor.ratio).toBeCloseTo(floor.postgres / floor.dev, 1);
  expect(rows.get('double claims, all pull and one-goal rows')).toMatchObject({ dev: 0, postgres: 0 });
  const md = fs.readFileSync(path.join(dir, 'latest.md'), 'utf8');
  expect(md).toContain('## Temporal on PostgreSQL');
  expect(md).toContain('| floor p50 ms (no-op Update) |');
  // up --postgres was stopped and its throw-away home removed.
  expect(pgHomes()).toEqual(before);
  fs.rmSync(dir, { recursive: true, force: true });
}, 320_000);
