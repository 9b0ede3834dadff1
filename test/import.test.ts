/**
 * `agent-runtime import`: seed databases built here from the seeds' schemas, recreated as workflows on a real
 * Temporal, read back through a real MCP client with the seeds' own numeric ids.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { importDatabase } from '../src/import';
import { call, ok, ROOT, startHarness, type Harness } from './support/harness';
import { AGENT_RUNTIME_MCP_SCHEMA, HQ_SCHEMA, seedBase, writeSeedDb } from './support/seed-db';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** agent-runtime-mcp after a sequential decomposition: 101 done, 102 in progress, 103-105 waiting; a pipeline; a breaker. */
async function armDatabase(goal: number, pipeline: string, agent: string): Promise<string> {
  return writeSeedDb(AGENT_RUNTIME_MCP_SCHEMA, [
    `INSERT INTO goals (id, name, description, metadata) VALUES (${goal}, 'Build REST API', 'JWT auth', '{"priority":"high"}')`,
    `INSERT INTO tasks (id, goal_id, title, priority, dependencies, status, result, completed_at) VALUES
       (101, ${goal}, 'Research requirements for: Build REST API', 10, '[]', 'completed', 'docs/api-spec.md', '2026-01-18 10:30:00')`,
    `INSERT INTO tasks (id, goal_id, title, priority, dependencies, status, started_at) VALUES
       (102, ${goal}, 'Plan approach for: Build REST API', 9, '[101]', 'in_progress', '2026-01-18 10:31:00')`,
    `INSERT INTO tasks (id, goal_id, title, priority, dependencies) VALUES
       (103, ${goal}, 'Implement: Build REST API', 8, '[102]'),
       (104, ${goal}, 'Test: Build REST API', 7, '[103]'),
       (105, ${goal}, 'Document: Build REST API', 6, '[104]')`,
    `INSERT INTO relay_pipelines (pipeline_id, name, goal, agents_json, current_step, status, tokens_used, created_at) VALUES
       ('${pipeline}', 'Paper analysis', 'Extract insights', '[{"agent_type":"researcher","quality_threshold":0.6},{"agent_type":"analyzer","quality_threshold":0.7},{"agent_type":"formatter","quality_threshold":0.6}]',
        1, 'in_progress', 4000, '2026-01-18T10:00:00')`,
    `INSERT INTO relay_results (pipeline_id, step_index, agent_id, status, output_entity_id, quality_score, l_score, tokens_used) VALUES
       ('${pipeline}', 0, 'agent_step_1', 'passed', 456, 0.9, 0.8, 4000)`,
    `INSERT INTO circuit_breakers (agent_id, state, total_failures, total_successes, cooldown_until, config) VALUES
       ('${agent}', 'open', 7, 42, '2099-01-01T00:00:00', '{"failure_threshold":5,"window_seconds":60,"cooldown_seconds":300,"fallback_agent":"generalist"}')`,
  ]);
}

test('an agent-runtime-mcp database becomes goals, tasks, a pipeline and a breaker, keeping its ids', async () => {
  const goal = seedBase();
  const pipeline = `rp-${goal}`;
  const agent = `researcher-${goal}`;
  const file = await armDatabase(goal, pipeline, agent);

  const dry = await importDatabase(h.goals, { path: file, dryRun: true });
  expect(dry.items.map((i) => i.outcome)).toEqual(['would create', 'would create', 'would create']);
  const mcp = await h.mcp(); // no identity, like a stdio server without AGENT_ID
  expect((await call(mcp, 'get_goal', { goal_id: goal })).error?.code).toBe('NOT_FOUND'); // the dry run made nothing

  const report = await importDatabase(h.goals, { path: file, dryRun: false });
  expect(report.items.map((i) => [i.kind, i.outcome])).toEqual([
    ['goal', 'created'],
    ['pipeline', 'created'],
    ['breaker', 'created'],
  ]);
  expect(report.aliases).toMatchObject({ added: 5, conflicts: [] });

  // The seed's integer ids work as they did: goal_id 1-style numbers, task 101…105.
  const g = await ok(mcp, 'get_goal', { goal_id: goal });
  expect(g).toMatchObject({ id: String(goal), name: 'Build REST API', status: 'active' });
  expect(g.tasks.map((t: any) => t.status)).toEqual(['completed', 'in_progress', 'pending', 'pending', 'pending']);
  const t101 = await ok(mcp, 'get_task', { task_id: 101 });
  expect(t101).toMatchObject({ id: `${goal}/1`, status: 'completed', result: 'docs/api-spec.md' });
  expect((await ok(mcp, 'get_task', { task_id: 103 })).dependencies).toEqual([`${goal}/2`]);

  // Cross-session resume across the import: the in-progress task is completed by a caller without identity.
  const done = await ok(mcp, 'update_task_status', { task_id: 102, status: 'completed', result: 'plan.md' });
  expect(done).toMatchObject({ id: `${goal}/2`, status: 'completed', acted_as: 'anonymous' });
  const next = await ok(mcp, 'get_next_task', { goal_id: goal });
  expect(next).toMatchObject({ id: `${goal}/3`, title: 'Implement: Build REST API' });

  // The pipeline resumes at its second step with the first step's output as input.
  const baton = await ok(mcp, 'get_relay_baton', { pipeline_id: pipeline });
  expect(baton.baton).toMatchObject({ agent_type: 'analyzer', sequence_position: 2, input_entity_id: '456' });
  expect(await ok(mcp, 'get_relay_status', { pipeline_id: pipeline })).toMatchObject({
    status: 'in_progress',
    quality_scores: [0.9],
    tokens_used: 4000,
    total_steps: 3,
  });
  // The breaker is still open, its cooldown ending when the seed's did.
  expect(await ok(mcp, 'circuit_breaker_status', { agent_id: agent })).toMatchObject({
    state: 'OPEN',
    success_count: 42,
    can_execute: false,
  });

  // Importing again creates nothing twice, and the work done since is untouched.
  const again = await importDatabase(h.goals, { path: file, dryRun: false });
  expect(again.items.map((i) => i.outcome)).toEqual(['already imported', 'already imported', 'already imported']);
  expect(again.aliases).toMatchObject({ added: 0, unchanged: 5 });
  expect((await ok(mcp, 'get_task', { task_id: 102 })).status).toBe('completed');
});

test('an hq database becomes projects whose claimed steps stay claimed by the same agent, with a fresh lease', async () => {
  const base = seedBase();
  const project = `myapp-auth-${base}`;
  const file = await writeSeedDb(HQ_SCHEMA, [
    `INSERT INTO projects (id, name, base_commit, priority) VALUES (1, '${project}', 'abc123', 3)`,
    `INSERT INTO steps (id, project_id, step_num, branch, scope, status, agent_id, last_commit, files_modified, completed_at) VALUES
       (11, 1, 1, 'step1/auth-add-jwt-utils', 'auth', 'completed', 'agent-1', 'def456', '["src/utils/jwt.go"]', '2026-01-18 11:00:00')`,
    `INSERT INTO steps (id, project_id, step_num, branch, scope, status, agent_id, claimed_at) VALUES
       (12, 1, 2, 'step2/auth-add-middleware', 'auth', 'claimed', 'agent-2', '2026-01-18 11:05:00')`,
    `INSERT INTO steps (id, project_id, step_num, branch, scope) VALUES (13, 1, 3, 'step3/api-add-endpoints', 'api')`,
    `INSERT INTO dependencies (step_id, depends_on_step_id) VALUES (12, 11), (13, 11), (13, 12)`,
  ]);
  const report = await importDatabase(h.goals, { path: file, dryRun: false, from: 'hq' });
  expect(report.items).toEqual([expect.objectContaining({ kind: 'project', outcome: 'created' })]);

  const mcp = await h.mcp();
  const p = await ok(mcp, 'get_project', { name: project });
  expect(p).toMatchObject({ name: project, base_commit: 'abc123', priority: 3 });
  expect(p.steps.map((s: any) => [s.step_num, s.status, s.agent_id])).toEqual([
    [1, 'completed', 'agent-1'],
    [2, 'claimed', 'agent-2'],
    [3, 'not_started', null],
  ]);
  const held = await ok(mcp, 'get_step', { step_id: 12 }); // hq's own step id
  expect(held.lease_expires_at).not.toBeNull();
  expect(held.last_commit).toBeNull();
  expect((await ok(mcp, 'get_step', { step_id: 11 })).files_modified).toEqual(['src/utils/jwt.go']);

  // Fencing holds across the import: another agent is refused, the holder completes.
  const zombie = await call(mcp, 'complete_step', { step_id: 12, commit_hash: 'bad0000', agent_id: 'agent-9' });
  expect(zombie.error?.code).toBe('LEASE_LOST');
  await ok(mcp, 'complete_step', { step_id: 12, commit_hash: 'fed789', agent_id: 'agent-2' });
  expect(await ok(mcp, 'claim_step', { project, agent_id: 'agent-3' })).toMatchObject({
    step_num: 3,
    status: 'claimed',
  });
});

test('a file that is not such a database gets a clear error and creates nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'not-db-'));
  const text = path.join(dir, 'notes.db');
  fs.writeFileSync(text, 'this is not a database\n'.repeat(100));
  await expect(importDatabase(h.goals, { path: text, dryRun: false })).rejects.toThrow(/is not a SQLite database/);
  const other = await writeSeedDb('CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT);', []);
  await expect(importDatabase(h.goals, { path: other, dryRun: false })).rejects.toThrow(
    /neither agent-runtime-mcp's .* nor hq's .*recipes/,
  );
  await expect(importDatabase(h.goals, { path: path.join(dir, 'missing.db'), dryRun: false })).rejects.toThrow(
    /There is no file at .*missing\.db\. Give the path/,
  );
  const arm = await armDatabase(seedBase(), `rp-${seedBase()}`, `a-${seedBase()}`);
  await expect(importDatabase(h.goals, { path: arm, dryRun: false, from: 'hq' })).rejects.toThrow(
    /written by agent-runtime-mcp, not hq/,
  );
});

test('`agent-runtime import --dry-run` prints what it would create', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-')), 'x.db');
  return writeSeedDb(HQ_SCHEMA, [
    `INSERT INTO projects (id, name, base_commit) VALUES (1, 'cli-${seedBase()}', 'abc')`,
    `INSERT INTO steps (id, project_id, step_num, branch, scope) VALUES (1, 1, 1, 'b1', 's')`,
  ]).then((db) => {
    fs.copyFileSync(db, file);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'import', file, '--dry-run'], {
      env: { ...process.env, TEMPORAL_ADDRESS: h.config.temporalAddress, AGENT_RUNTIME_TASK_QUEUE: h.config.taskQueue },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Would import from hq:\n {2}would create +project cli-/);
    expect(r.stdout).toMatch(/1 workflow\(s\) would be created; 1 numeric id\(s\) would be kept/);
  });
});
