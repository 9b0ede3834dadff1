/**
 * The task-graph toolset through a real MCP client against the dev server: task-graph-mcp's pure-pull experiment run
 * as its protocol lists it by 1, 2, 4 and 8 concurrent agents, with its SQL metrics answered by `query`; claims, marks
 * and gates; a dead worker's claim and marks released by the timer; an exclusive lock raced by 20 agents.
 */
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { call, eventually, ok, startHarness, uid, type Harness } from './support/harness';
import { workspaceWorkflowId } from '../src/workflows/workspace-messages';
import { historyOf, waitsHeld, wakesOf } from './support/mark-waits';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const tg = (): Promise<McpClient> => h.mcp(undefined, ['task-graph']);

/** The metrics of the seed's pure-pull experiment, verbatim. */
const METRICS = {
  claim_success_rate: `SELECT
  worker_id,
  COUNT(*) as claim_attempts,
  SUM(CASE WHEN status = 'working' THEN 1 ELSE 0 END) as successful
FROM task_sequence
WHERE status IN ('working', 'pending')
GROUP BY worker_id`,
  queue_wait_time: `SELECT
  AVG(started_at - created_at) as avg_queue_wait_ms,
  MAX(started_at - created_at) as max_queue_wait_ms
FROM tasks
WHERE started_at IS NOT NULL AND created_at IS NOT NULL`,
  tasks_per_agent: `SELECT
  worker_id,
  COUNT(*) as tasks_completed,
  SUM(COALESCE(points, 1)) as points_completed
FROM tasks
WHERE status = 'completed' AND worker_id IS NOT NULL
GROUP BY worker_id`,
  time_per_agent: `SELECT
  worker_id,
  SUM(time_actual_ms) as total_work_ms,
  AVG(time_actual_ms) as avg_task_ms
FROM tasks
WHERE status = 'completed' AND worker_id IS NOT NULL
GROUP BY worker_id`,
  tasks_per_hour: `SELECT
  COUNT(*) as completed,
  (MAX(completed_at) - MIN(started_at)) / 3600000.0 as hours,
  COUNT(*) / ((MAX(completed_at) - MIN(started_at)) / 3600000.0) as tasks_per_hour
FROM tasks
WHERE status = 'completed'`,
  completion_timeline: `SELECT
  completed_at as timestamp_ms,
  id as task_id,
  worker_id,
  ROW_NUMBER() OVER (ORDER BY completed_at) as cumulative_count
FROM tasks
WHERE status = 'completed'
ORDER BY completed_at`,
  blocking_ratio: `SELECT
  SUM(CASE WHEN status = 'working' THEN
    COALESCE(end_timestamp, CAST(strftime('%s','now') AS INTEGER)*1000) - timestamp
  ELSE 0 END) as working_ms,
  SUM(CASE WHEN status IN ('pending', 'assigned') THEN
    COALESCE(end_timestamp, CAST(strftime('%s','now') AS INTEGER)*1000) - timestamp
  ELSE 0 END) as blocked_ms
FROM task_sequence`,
  rework_rate: `SELECT
  task_id,
  COUNT(*) as working_periods
FROM task_sequence
WHERE status = 'working'
GROUP BY task_id
HAVING COUNT(*) > 1`,
};

/** One agent following the seed's pure-pull protocol step by step; returns how many claims it lost. */
async function pullAgent(
  mcp: McpClient,
  workspace: string,
  n: number,
): Promise<{ id: string; done: string[]; lost: number }> {
  const { worker_id: id } = await ok(mcp, 'connect', {
    workspace,
    workflow: 'swarm',
    tags: ['worker', 'implementer', 'code'],
  });
  const done: string[] = [];
  let lost = 0;
  for (;;) {
    const ready = await ok(mcp, 'list_tasks', { workspace, ready: true, agent: id });
    if (ready.tasks.length === 0) {
      const working = await ok(mcp, 'list_tasks', { workspace, status: 'working' });
      if (working.tasks.length === 0) return { id, done, lost };
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    // Agents start at different places in the list, as real agents' choices differ.
    const pick = ready.tasks[(n * 7) % ready.tasks.length];
    const claimed = await call(mcp, 'claim', { workspace, worker_id: id, task: pick.id });
    if (claimed.isError) {
      expect(claimed.error?.code).toBe('CONFLICT');
      lost++;
      continue; // on_failure: retry_find
    }
    const task = pick.id as string;
    await ok(mcp, 'update', { workspace, worker_id: id, task, phase: 'implement' });
    const file = `src/browser/${task}.ts`;
    await ok(mcp, 'mark_file', { workspace, agent: id, file, task, reason: 'implementing' });
    await ok(mcp, 'thinking', { workspace, agent: id, thought: `working on ${task}` });
    await ok(mcp, 'attach', { workspace, agent: id, task, type: 'note', content: 'done quickly' });
    await ok(mcp, 'unmark_file', { workspace, agent: id, file });
    await ok(mcp, 'attach', { workspace, agent: id, task, type: 'gate/results', content: '{"tests":"pass"}' });
    await ok(mcp, 'log_metrics', { workspace, agent: id, task, cost_usd: 0.01, values: [100, 20] });
    await ok(mcp, 'update', { workspace, worker_id: id, task, status: 'completed' });
    done.push(task);
  }
}

async function sql(mcp: McpClient, workspace: string, query: string) {
  return (await ok(mcp, 'query', { workspace, sql: query, limit: 1000 })).rows as Array<Record<string, any>>;
}

test.each([1, 2, 4, 8])(
  'pure pull by %i agents over 40 tasks: all complete, no double claim, the experiment SQL answers',
  async (agents) => {
    const mcp = await tg();
    const workspace = uid('pull');
    const tree = {
      title: 'browser',
      join_mode: 'also',
      children: Array.from({ length: 40 }, (_, n) => ({ title: `feature ${n}`, points: 1 + (n % 3) })),
    };
    const created = await ok(mcp, 'create_tree', { workspace, tree });
    expect(created.count).toBe(41);
    // The root groups the work; the protocol works its 40 leaves (a parent completes after its children).
    const runs = await Promise.all(Array.from({ length: agents }, async (_, n) => pullAgent(await tg(), workspace, n)));
    const rootId = created.root.id;
    const leaves = runs.flatMap((r) => r.done).filter((id) => id !== rootId);
    // The root is a container: ready once its 40 children are done, so some agent completes it last.
    const all = runs.flatMap((r) => r.done);
    expect(new Set(all).size).toBe(all.length); // nobody completed a task twice
    expect(all.length).toBe(41);
    expect(leaves.length).toBe(40);

    const perAgent = await sql(mcp, workspace, METRICS.tasks_per_agent);
    expect(perAgent.reduce((n, r) => n + r.tasks_completed, 0)).toBe(41);
    expect(new Set(perAgent.map((r) => r.worker_id))).toEqual(
      new Set(runs.filter((r) => r.done.length > 0).map((r) => r.id)),
    );
    expect(await sql(mcp, workspace, METRICS.rework_rate)).toEqual([]); // one working period per task: no double claim
    const success = await sql(mcp, workspace, METRICS.claim_success_rate);
    expect(success.reduce((n, r) => n + r.successful, 0)).toBe(41);
    const wait = (await sql(mcp, workspace, METRICS.queue_wait_time))[0]!;
    expect(wait.avg_queue_wait_ms).toBeGreaterThanOrEqual(0);
    expect(wait.max_queue_wait_ms).toBeGreaterThanOrEqual(wait.avg_queue_wait_ms);
    const time = await sql(mcp, workspace, METRICS.time_per_agent);
    expect(time.every((r) => r.total_work_ms >= 0 && r.avg_task_ms >= 0)).toBe(true);
    const rate = (await sql(mcp, workspace, METRICS.tasks_per_hour))[0]!;
    expect(rate.completed).toBe(41);
    expect(rate.tasks_per_hour).toBeGreaterThan(0);
    const timeline = await sql(mcp, workspace, METRICS.completion_timeline);
    expect(timeline.map((r) => r.cumulative_count)).toEqual(Array.from({ length: 41 }, (_, n) => n + 1));
    const blocking = (await sql(mcp, workspace, METRICS.blocking_ratio))[0]!;
    expect(blocking.working_ms).toBeGreaterThan(0);
    expect(blocking.blocked_ms).toBeGreaterThan(0);
    // No marks outlive the claims they were made for.
    expect((await ok(mcp, 'list_marks', { workspace })).count).toBe(0);
    // Metrics summed per task.
    const m = await ok(mcp, 'get_metrics', { workspace, task: leaves[0] });
    expect(m.metrics.slice(0, 2)).toEqual([100, 20]);
    expect(m.cost_usd).toBeCloseTo(0.01);
  },
  240_000,
);

test('claim with no task takes the best ready task that fits the worker, atomically, under 12 concurrent workers', async () => {
  const mcp = await tg();
  const workspace = uid('oneStep');
  await ok(mcp, 'create_tree', {
    workspace,
    tree: {
      title: 'root',
      join_mode: 'also',
      children: [
        ...Array.from({ length: 20 }, (_, n) => ({ title: `plain ${n}`, priority: n % 10 })),
        { title: 'needs rust', needed_tags: ['rust'], priority: 10 },
      ],
    },
    child_type: 'see-also',
  });
  const ids = Array.from({ length: 12 }, (_, n) => `w${n}-${uid('x')}`);
  for (const id of ids) await ok(mcp, 'connect', { workspace, worker_id: id, tags: ['ts'] });
  const got: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      const c = await tg();
      for (;;) {
        const r = await ok(c, 'claim', { workspace, worker_id: id });
        if (!r.success) return;
        got.push(r.task.id);
        await ok(c, 'update', { workspace, worker_id: id, task: r.task.id, status: 'completed' });
      }
    }),
  );
  // 20 plain tasks + the root: each exactly once; the rust task never went to a worker without the tag.
  expect(got.length).toBe(21);
  expect(new Set(got).size).toBe(21);
  const rust = (await ok(mcp, 'list_tasks', { workspace, ready: true })).tasks;
  expect(rust.map((t: any) => t.title)).toEqual(['needs rust']);
  const refused = await call(mcp, 'claim', { workspace, worker_id: ids[0], task: rust[0].id });
  expect(refused.error?.code).toBe('CONFLICT');
  expect(refused.error?.details).toMatchObject({ needed_tags: ['rust'] });
  const { worker_id: rustacean } = await ok(mcp, 'connect', { workspace, tags: ['rust'] });
  expect(rustacean).toMatch(/^[a-z]+-[a-z]+-\d{3}$/);
  expect((await ok(mcp, 'claim', { workspace, worker_id: rustacean })).task.title).toBe('needs rust');
});

test('a worker that stops calling loses its claim and its marks to the lease timer; the history shows it', async () => {
  const mcp = await tg();
  const workspace = uid('dead');
  const { root } = await ok(mcp, 'create_tree', {
    workspace,
    tree: { title: 'job', children: [{ title: 'edit parser' }] },
  });
  const child = (await ok(mcp, 'list_tasks', { workspace, parent: root.id })).tasks[0];
  const { worker_id: ghost } = await ok(mcp, 'connect', { workspace, worker_id: uid('ghost') });
  const c = await ok(mcp, 'claim', {
    workspace,
    worker_id: ghost,
    task: child.id,
    lease_seconds: 2,
    files: ['src/parser.ts'],
  });
  expect(c.lease_token).toBe(1);
  await ok(mcp, 'mark_file', { workspace, agent: ghost, file: 'lock:src/lexer.ts', task: child.id });
  expect((await ok(mcp, 'list_marks', { workspace, agent: ghost })).count).toBe(2);
  // The worker dies: no more calls. Nobody else calls either; the durable timer does the work.
  const back = await eventually(async () => {
    const t = await ok(mcp, 'get', { workspace, task: child.id });
    return t.status === 'pending' ? t : undefined;
  }, 30_000);
  expect(back.worker_id).toBeNull();
  expect((await ok(mcp, 'list_marks', { workspace })).count).toBe(0);
  const hist = await ok(mcp, 'task_history', { workspace, task: child.id });
  expect(hist.history.map((e: any) => e.status)).toEqual(['pending', 'working', 'pending']);
  expect(hist.history[2].reason).toMatch(/lease expired/);
  const { worker_id: next } = await ok(mcp, 'connect', { workspace });
  const again = await ok(mcp, 'claim', { workspace, worker_id: next, task: child.id });
  expect(again.lease_token).toBe(2);
  // The dead worker's late update is fenced off.
  const late = await call(mcp, 'update', { workspace, worker_id: ghost, task: child.id, status: 'completed' });
  expect(late.error?.code).toBe('LEASE_LOST');
});

test('an exclusive lock raced by 20 agents has exactly one holder at any time', async () => {
  const mcp = await tg();
  const workspace = uid('lock');
  await ok(mcp, 'create', { workspace, title: 'seed the workspace' });
  const agents = Array.from({ length: 20 }, (_, n) => `racer${n}`);
  const clients = await Promise.all(agents.map(() => tg()));
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all(
      agents.map((agent, n) =>
        call(clients[n]!, 'mark_file', { workspace, agent, file: 'lock:./src//shared.ts', reason: `round ${round}` }),
      ),
    );
    const winners = results.filter((r) => !r.isError);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((x) => x.isError)) expect(r.error?.code).toBe('CONFLICT');
    const marks = await ok(mcp, 'list_marks', { workspace, files: ['src/shared.ts'] });
    expect(marks.count).toBe(1);
    const holder = marks.marks[0].worker_id;
    // An advisory mark by someone else on a locked file is refused too; the holder releases for the next round.
    expect(
      (await call(mcp, 'mark_file', { workspace, agent: agents.find((a) => a !== holder), file: 'src/shared.ts' }))
        .error?.code,
    ).toBe('CONFLICT');
    await ok(mcp, 'unmark_file', { workspace, agent: holder, file: 'src/shared.ts' });
  }
  // Advisory marks coexist and warn.
  await ok(mcp, 'mark_file', { workspace, agent: 'racer1', file: 'README.md' });
  const second = await ok(mcp, 'mark_file', { workspace, agent: 'racer2', file: 'README.md' });
  expect(second.warnings).toEqual([expect.objectContaining({ file: 'README.md', held_by: 'racer1' })]);
  const seen = await ok(mcp, 'mark_updates', { workspace, agent: 'racer1' });
  expect(seen.changes.some((c: any) => c.agent === 'racer2' && c.action === 'marked')).toBe(true);
  expect((await ok(mcp, 'mark_updates', { workspace, agent: 'racer1' })).count).toBe(0);
  const waited = ok(mcp, 'mark_updates', { workspace, agent: 'racer1', wait_seconds: 20 });
  await new Promise((r) => setTimeout(r, 300));
  await ok(mcp, 'unmark_file', { workspace, agent: 'racer2', file: '*' });
  expect((await waited).changes.map((c: any) => c.action)).toEqual(['unmarked']);
});

test("mark_updates waits in each agent's own workflow: 15 waiters, more than a workflow's in-flight Updates, are each woken once by one mark", async () => {
  const mcp = await tg();
  const workspace = uid('watch');
  await ok(mcp, 'create', { workspace, title: 'seed the workspace' });
  const agents = Array.from({ length: 15 }, (_, n) => uid(`watcher${n}`));
  for (const agent of agents) await ok(mcp, 'connect', { workspace, worker_id: agent });
  const { worker_id: marker } = await ok(mcp, 'connect', { workspace, worker_id: uid('marker') });
  const client = await h.lazy.get();
  const signalled = async () =>
    (await historyOf(client, workspaceWorkflowId(workspace))).filter(
      (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'marksChanged',
    ).length;
  const waits = agents.map((agent) => ok(mcp, 'mark_updates', { workspace, agent, wait_seconds: 30 }));
  // Each waits in its own workflow: an in-flight waitMarks Update there, nothing held open on the workspace.
  await waitsHeld(client, agents);
  await ok(mcp, 'mark_file', { workspace, agent: marker, file: 'src/api.ts', reason: 'editing' });
  for (const answer of await Promise.all(waits)) {
    expect(answer.changes).toEqual([expect.objectContaining({ agent: marker, file: 'src/api.ts', action: 'marked' })]);
  }
  // One Signal per waiter; a change nobody waits for signals no one.
  expect(await signalled()).toBe(15);
  await ok(mcp, 'unmark_file', { workspace, agent: marker, file: '*' });
  expect(await signalled()).toBe(15);
  for (const a of agents) expect(await wakesOf(client, a)).toBe(1);
  // A wait that times out answers empty and leaves no watcher behind.
  const quiet = await ok(mcp, 'mark_updates', { workspace, agent: agents[0], wait_seconds: 1 });
  expect(quiet.changes.map((c: any) => c.action)).toEqual(['unmarked']);
  expect((await ok(mcp, 'mark_updates', { workspace, agent: agents[0], wait_seconds: 1 })).count).toBe(0);
  await ok(mcp, 'mark_file', { workspace, agent: marker, file: 'src/db.ts' });
  expect(await signalled()).toBe(15);
});

test('a workspace worked call by call keeps one deadline timer armed: no timer cancelled and restarted per change', async () => {
  const mcp = await tg();
  const workspace = uid('lean');
  const { worker_id: w } = await ok(mcp, 'connect', { workspace, worker_id: uid('dev') });
  await ok(mcp, 'create_tree', {
    workspace,
    tree: {
      id: 'epic',
      title: 'Epic',
      join_mode: 'also',
      children: [1, 2, 3, 4, 5, 6].map((n) => ({ title: `step ${n}` })),
    },
  });
  // A mark with a TTL keeps a deadline armed all along; each claim's lease ends later than it.
  await ok(mcp, 'mark_file', { workspace, agent: w, file: 'NOTES.md', ttl_seconds: 600 });
  let done = 0;
  for (;;) {
    const c = await ok(mcp, 'claim', { workspace, worker_id: w, lease_seconds: 900 });
    if (!c.success || c.task.id === 'epic') break;
    await ok(mcp, 'update', { workspace, worker_id: w, task: c.task.id, status: 'completed' });
    done += 1;
  }
  expect(done).toBe(6);
  const client = await h.lazy.get();
  const events = await historyOf(client, workspaceWorkflowId(workspace));
  const changes = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  expect(changes).toBeGreaterThanOrEqual(15);
  expect(events.some((e) => e.timerCanceledEventAttributes)).toBe(false);
  // The mark's TTL timer and the shards' gathering delays: not one per change.
  expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeLessThanOrEqual(6);
  // The board's holders (ArAgents) still follow the changes.
  expect(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length).toBeGreaterThanOrEqual(2);
});

test('dependencies, gates, trees and the rest of the task tools', async () => {
  const mcp = await tg();
  const workspace = uid('graph');
  const t = await ok(mcp, 'create_tree', {
    workspace,
    tree: {
      id: 'epic',
      title: 'Epic',
      children: [
        { id: 'a', title: 'design the api' },
        { id: 'b', title: 'build the api', description: 'REST endpoints for orders' },
      ],
    },
  });
  expect(t.all_ids).toEqual(['epic', 'a', 'b']);
  const { worker_id: w } = await ok(mcp, 'connect', { workspace, worker_id: uid('dev'), workflow: 'relay' });
  // join_mode then (default): b follows a.
  const blocked = await call(mcp, 'claim', { workspace, worker_id: w, task: 'b' });
  expect(blocked.error?.details).toMatchObject({ blocked_by: [{ task: 'a', type: 'follows', status: 'pending' }] });
  expect((await call(mcp, 'link', { workspace, from: 'b', to: 'a' })).error?.code).toBe('DEPENDENCY_CYCLE');
  await ok(mcp, 'claim', { workspace, worker_id: w, task: 'a' });
  // The relay workflow's reject gate: completing needs a gate/handoff attachment.
  const gated = await call(mcp, 'update', { workspace, worker_id: w, task: 'a', status: 'completed' });
  expect(gated.error).toMatchObject({ code: 'CONFLICT', details: { missing_required: ['gate/handoff'] } });
  expect((await ok(mcp, 'check_gates', { workspace, worker_id: w, task: 'a' })).can_proceed).toBe(false);
  const done = await ok(mcp, 'update', {
    workspace,
    worker_id: w,
    task: 'a',
    status: 'completed',
    attachments: [{ type: 'gate/handoff', content: 'api.yaml is the contract' }],
  });
  expect(done.unblocked).toEqual(['b']);
  // A parent completes only after its children.
  await ok(mcp, 'claim', { workspace, worker_id: w, task: 'epic' });
  expect(
    (
      await call(mcp, 'update', {
        workspace,
        worker_id: w,
        task: 'epic',
        status: 'completed',
        attachments: [{ type: 'gate/handoff', content: 'x' }],
      })
    ).error?.details,
  ).toMatchObject({ open_children: ['b'] });
  await ok(mcp, 'update', { workspace, worker_id: w, task: 'epic', status: 'pending' });
  const got = await ok(mcp, 'get', { workspace, task: 'b' });
  expect(got).toMatchObject({ description: 'REST endpoints for orders', parent_id: 'epic', blocked_by: [] });
  expect((await ok(mcp, 'search', { workspace, query: 'orders endpoints' })).results[0].id).toBe('b');
  const scan = await ok(mcp, 'scan', { workspace, task: 'b', before: -1, above: -1 });
  expect(scan.before.map((x: any) => x.id)).toEqual(['a']);
  expect(scan.above.map((x: any) => x.id)).toEqual(['epic']);
  await ok(mcp, 'rename', { workspace, task: 'b', new_id: 'build' });
  expect((await ok(mcp, 'get', { workspace, task: 'build' })).description).toBe('REST endpoints for orders');
  const att = await ok(mcp, 'attachments', { workspace, task: 'a' });
  expect(att.attachments.map((x: any) => x.type)).toEqual(['gate/handoff']);
  await ok(mcp, 'detach', { workspace, task: 'a', type: 'gate/handoff' });
  expect((await ok(mcp, 'attachments', { workspace, task: 'a' })).count).toBe(0);
  const relinked = await ok(mcp, 'relink', { workspace, prev_from: 'epic', prev_to: 'build', from: 'a', to: 'build' });
  expect(relinked.linked_count).toBe(1);
  expect((await ok(mcp, 'get', { workspace, task: 'build' })).parent_id).toBe('a');
  expect((await ok(mcp, 'unlink', { workspace, from: '*', to: 'build', type: 'follows' })).removed_count).toBe(1);
  await ok(mcp, 'update', { workspace, worker_id: 'lead', task: 'build', assignee: w });
  expect((await ok(mcp, 'get', { workspace, task: 'build' })).status).toBe('assigned');
  expect((await ok(mcp, 'list_tasks', { workspace, ready: true, agent: w })).tasks.map((x: any) => x.id)).toEqual([
    'epic',
    'build',
  ]);
  const history = await ok(mcp, 'project_history', { workspace, states: ['completed'] });
  expect(history.events.map((e: any) => e.task_id)).toEqual(['a']);
  const del = await ok(mcp, 'delete', { workspace, task: 'a', cascade: true, obliterate: true });
  expect(del.deleted).toEqual(['a', 'build']);
  expect((await call(mcp, 'get', { workspace, task: 'build' })).error?.code).toBe('NOT_FOUND');
  const listed = await ok(mcp, 'list_agents', { workspace });
  expect(listed.agents.map((x: any) => x.id)).toContain(w);
  expect((await ok(mcp, 'disconnect', { workspace, worker_id: w })).success).toBe(true);
  expect((await ok(mcp, 'list_workflows')).workflows.map((x: any) => x.name)).toEqual([
    'default',
    'swarm',
    'hierarchical',
    'relay',
    'push',
  ]);
  expect((await ok(mcp, 'get_skill', { name: 'task-graph-basics' })).content).toMatch(/claim/);
  expect((await ok(mcp, 'get_schema', { table: 'task_sequence' })).tables[0].columns.map((c: any) => c.name)).toContain(
    'end_timestamp',
  );
});

test('query refuses writes, explains syntax errors and stops a runaway query in bounded time', async () => {
  const mcp = await tg();
  const workspace = uid('sql');
  await ok(mcp, 'create', { workspace, title: 'one', description: 'x' });
  expect(
    (await call(mcp, 'query', { workspace, sql: "UPDATE tasks SET status = 'completed'" })).error?.message,
  ).toMatch(/read-only/);
  expect(
    (await call(mcp, 'query', { workspace, sql: 'WITH x AS (SELECT 1) DELETE FROM tasks' })).error?.message,
  ).toMatch(/read-only/);
  expect((await call(mcp, 'query', { workspace, sql: 'SELEC * FROM tasks' })).error?.message).toMatch(
    /SQL error: .*syntax/,
  );
  const started = Date.now();
  const runaway = await call(mcp, 'query', {
    workspace,
    sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c',
  });
  expect(runaway.error?.message).toMatch(/longer than 5 s/);
  expect(Date.now() - started).toBeLessThan(20_000);
  const rows = await ok(mcp, 'query', {
    workspace,
    sql: 'SELECT title, status FROM tasks WHERE title = ?',
    params: ['one'],
    format: 'csv',
  });
  expect(rows.csv).toBe('title,status\none,pending');
  expect((await ok(mcp, 'get', { workspace, task: 't1' })).status).toBe('pending');
});

test('one registry: a worker that goes offline past its grace loses its workspace claims and marks too', async () => {
  const all = await h.mcp();
  const mcp = await tg();
  const workspace = uid('reg');
  const name = uid('tgagent');
  await ok(all, 'register_agent', { name, capabilities: ['ts'], agent_ttl_seconds: 1, offline_grace_seconds: 1 });
  const { worker_id } = await ok(mcp, 'connect', { workspace, worker_id: name, tags: ['ts'] });
  expect(worker_id).toBe(name);
  await ok(mcp, 'create', { workspace, title: 'long job' });
  const c = await ok(mcp, 'claim', { workspace, worker_id: name, lease_seconds: 3600, files: ['src/long.ts'] });
  // The agents board shows the task-graph worker: one registry.
  expect((await ok(all, 'get_task_board', { agent_id: name })).agents[0].agent_id).toBe(name);
  // No more calls: offline after 1 s, released after 1 s more, though its lease had an hour to go.
  const back = await eventually(async () => {
    const t = await ok(mcp, 'get', { workspace, task: c.task.id });
    return t.status === 'pending' ? t : undefined;
  }, 60_000);
  expect(back.worker_id).toBeNull();
  expect((await ok(mcp, 'list_marks', { workspace })).count).toBe(0);
});
