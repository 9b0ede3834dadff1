/**
 * A 10,000-task workspace (task-graph users keep whole backlogs in one): created as one tree, listed, claimed and
 * completed, read back with SQL (continue-as-new of such a workspace: test/private-servers.test.ts).
 */
import { ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

test('a workspace holds 10,000 tasks with their descriptions and attachments', async () => {
  const mcp = await h.mcp(undefined, ['task-graph']);
  const workspace = uid('big');
  const t0 = Date.now();
  const children = Array.from({ length: 9_999 }, (_, n) => ({
    title: `backlog item ${n}`,
    description: `Item ${n} of the backlog: do the thing number ${n}.`,
    priority: n % 11,
    tags: n % 2 ? ['frontend'] : ['backend'],
  }));
  const created = await ok(mcp, 'create_tree', { workspace, tree: { title: 'backlog', join_mode: 'also', children } });
  expect(created.count).toBe(10_000);
  const tCreate = Date.now() - t0;
  const ready = await ok(mcp, 'list_tasks', { workspace, ready: true, limit: 50 });
  expect(ready.total).toBe(9_999);
  expect(ready.tasks[0].priority).toBe(10);
  const { worker_id: w } = await ok(mcp, 'connect', { workspace, tags: ['backend'] });
  for (let n = 0; n < 20; n++) {
    const c = await ok(mcp, 'claim', { workspace, worker_id: w });
    await ok(mcp, 'attach', { workspace, agent: w, task: c.task.id, type: 'gate/results', content: `result ${n}` });
    await ok(mcp, 'update', { workspace, worker_id: w, task: c.task.id, status: 'completed' });
  }
  const counts = await ok(mcp, 'query', {
    workspace,
    sql: 'SELECT status, count(*) AS n FROM tasks GROUP BY status ORDER BY status',
  });
  expect(counts.rows).toEqual([
    { status: 'completed', n: 20 },
    { status: 'pending', n: 9_980 },
  ]);
  const last = await ok(mcp, 'get', { workspace, task: created.all_ids[9_999] });
  expect(last.description).toBe('Item 9998 of the backlog: do the thing number 9998.');
  const after = await ok(mcp, 'list_tasks', { workspace, status: 'completed', limit: 1000 });
  expect(after.total).toBe(20);
  console.log(`10k workspace: create_tree ${tCreate} ms, total ${Date.now() - t0} ms`);
}, 300_000);
