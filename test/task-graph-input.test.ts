/**
 * Bad input for every task-graph tool: an isError result with a code and a sentence, and the workspace unchanged.
 */
import { call, ok, startHarness, uid, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const W = 'input-worker';
/** [tool, arguments, expected code] — the workspace is filled in by the test. */
const BAD: Array<[string, Record<string, unknown>, string]> = [
  ['connect', { worker_id: 'has space' }, 'INVALID_ARGUMENT'],
  ['connect', { workflow: 'nope' }, 'INVALID_ARGUMENT'],
  ['disconnect', {}, 'INVALID_ARGUMENT'],
  ['disconnect', { worker_id: W, agent: 'someone-else' }, 'INVALID_ARGUMENT'],
  ['list_agents', { tags: 'not-a-list' }, 'INVALID_ARGUMENT'],
  ['cleanup_stale', { timeout: -1 }, 'INVALID_ARGUMENT'],
  ['create', {}, 'INVALID_ARGUMENT'],
  ['create', { title: 'x', priority: 11 }, 'INVALID_ARGUMENT'],
  ['create', { title: 'x', parent: 'missing' }, 'NOT_FOUND'],
  ['create', { id: 'a', title: 'duplicate id' }, 'CONFLICT'],
  ['create_tree', { tree: { title: 'x', join_mode: 'sideways' } }, 'INVALID_ARGUMENT'],
  ['create_tree', { tree: { title: 'x', children: [{ id: 'dup' }, { id: 'dup' }] } }, 'CONFLICT'],
  ['get', { task: 'missing' }, 'NOT_FOUND'],
  ['get', {}, 'INVALID_ARGUMENT'],
  ['list_tasks', { limit: 0 }, 'INVALID_ARGUMENT'],
  ['list_tasks', { sort_by: 'colour' }, 'INVALID_ARGUMENT'],
  ['update', { worker_id: W, task: 'a', status: 'flying' }, 'INVALID_ARGUMENT'],
  ['update', { worker_id: W, task: 'a', status: 'completed' }, 'CONFLICT'],
  ['update', { worker_id: W, task: 'a', status: 'pending', state: 'working' }, 'INVALID_ARGUMENT'],
  ['update', { worker_id: W, task: 'a', phase: 'dreaming' }, 'INVALID_ARGUMENT'],
  ['update', { worker_id: W, task: 'missing', status: 'working' }, 'NOT_FOUND'],
  ['delete', { task: 'root' }, 'CONFLICT'],
  ['delete', { task: 'missing' }, 'NOT_FOUND'],
  ['rename', { task: 'a', new_id: 'b' }, 'CONFLICT'],
  ['rename', { task: 'a', new_id: 'bad id' }, 'INVALID_ARGUMENT'],
  ['scan', { task: 'a', before: -2 }, 'INVALID_ARGUMENT'],
  ['claim', {}, 'INVALID_ARGUMENT'],
  ['claim', { worker_id: W, task: 'b' }, 'CONFLICT'],
  ['claim', { worker_id: W, task: 'missing' }, 'NOT_FOUND'],
  ['link', { from: 'a', to: 'a' }, 'CONFLICT'],
  ['link', { from: 'b', to: 'a', type: 'follows' }, 'DEPENDENCY_CYCLE'],
  ['link', { from: 'a', to: 'b', type: 'precedes' }, 'INVALID_ARGUMENT'],
  ['unlink', { from: '*', to: '*' }, 'INVALID_ARGUMENT'],
  ['relink', { prev_from: 'root', prev_to: 'a', from: 'a', to: 'a' }, 'CONFLICT'],
  ['relink', { prev_from: 'root' }, 'INVALID_ARGUMENT'],
  ['thinking', { thought: 'no worker named' }, 'INVALID_ARGUMENT'],
  ['task_history', { task: 'missing' }, 'NOT_FOUND'],
  ['project_history', { limit: 5000 }, 'INVALID_ARGUMENT'],
  ['log_metrics', { task: 'a', values: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 'INVALID_ARGUMENT'],
  ['log_metrics', { task: 'missing', cost_usd: 1 }, 'NOT_FOUND'],
  ['get_metrics', {}, 'INVALID_ARGUMENT'],
  ['get_metrics', { task: 'missing' }, 'NOT_FOUND'],
  ['search', { query: '' }, 'INVALID_ARGUMENT'],
  ['mark_file', { agent: W }, 'INVALID_ARGUMENT'],
  ['mark_file', { agent: W, file: 'x.ts', task: 'a' }, 'CONFLICT'],
  ['unmark_file', { file: 'x.ts' }, 'INVALID_ARGUMENT'],
  ['list_marks', { files: 'x.ts' }, 'INVALID_ARGUMENT'],
  ['mark_updates', { wait_seconds: 61, agent: W }, 'INVALID_ARGUMENT'],
  ['attach', { task: 'a', type: 'note' }, 'INVALID_ARGUMENT'],
  ['attach', { task: 'missing', type: 'note', content: 'x' }, 'NOT_FOUND'],
  ['attachments', { task: 'missing' }, 'NOT_FOUND'],
  ['detach', { task: 'missing' }, 'NOT_FOUND'],
  ['check_gates', { task: 'missing' }, 'NOT_FOUND'],
  ['list_workflows', { workspace: 'not a name!' }, 'INVALID_ARGUMENT'],
  ['list_skills', { workspace: '' }, 'INVALID_ARGUMENT'],
  ['get_skill', { name: 'nope' }, 'NOT_FOUND'],
  ['query', { sql: 'DROP TABLE tasks' }, 'INVALID_ARGUMENT'],
  ['query', { sql: 'SELECT * FROM nowhere' }, 'INVALID_ARGUMENT'],
  ['get_schema', { table: 'nowhere' }, 'NOT_FOUND'],
];

test('every task-graph tool answers bad input with a code and a sentence, and changes nothing', async () => {
  const mcp = await h.mcp(undefined, ['task-graph']);
  const workspace = uid('bad');
  await ok(mcp, 'create_tree', {
    workspace,
    tree: {
      id: 'root',
      title: 'root',
      children: [
        { id: 'a', title: 'a' },
        { id: 'b', title: 'b' },
      ],
    },
  });
  await ok(mcp, 'connect', { workspace, worker_id: W });
  const tools = (await mcp.listTools()).tools.map((t) => t.name);
  expect(new Set(BAD.map(([name]) => name))).toEqual(new Set(tools));
  expect(tools).toHaveLength(35);

  const snapshot = async () => {
    const q = async (sql: string) => (await ok(mcp, 'query', { workspace, sql, limit: 1000 })).rows;
    return {
      tasks: await q('SELECT id, status, worker_id, parent_id, priority, title, updated_at FROM tasks ORDER BY id'),
      deps: await q('SELECT * FROM dependencies ORDER BY from_task_id, to_task_id'),
      seq: await q('SELECT count(*) AS n FROM task_sequence'),
      marks: await q('SELECT * FROM file_locks'),
      attachments: await q('SELECT count(*) AS n FROM attachments'),
    };
  };
  const before = await snapshot();
  for (const [name, args, code] of BAD) {
    const r = await call(mcp, name, { workspace, ...args });
    expect({ name, args, isError: r.isError, code: r.error?.code }).toEqual({ name, args, isError: true, code });
    expect(r.error?.message).toMatch(/\w+ \w+.*\./);
    expect(r.error?.message).not.toMatch(/TypeError|at .*\.ts:\d+/);
  }
  expect(await snapshot()).toEqual(before);
});
