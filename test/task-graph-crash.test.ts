/**
 * Task-graph claims across a worker killed with SIGKILL mid-flight: every task done once, no claim lost or doubled; and
 * agents waiting for mark changes across the kill, each woken once.
 */
import { call, eventually, ok, uid, useWorkerProcess } from './support/harness';
import { waitsHeld, wakesOf } from './support/mark-waits';

const w = useWorkerProcess();

test('6 agents pulling 60 tasks while the worker is killed and restarted: each task completed exactly once', async () => {
  const mcp = await w.h.mcp(undefined, ['task-graph']);
  const workspace = uid('crash');
  await ok(mcp, 'create_tree', {
    workspace,
    tree: {
      title: 'batch',
      join_mode: 'also',
      children: Array.from({ length: 60 }, (_, n) => ({ title: `job ${n}` })),
    },
    child_type: 'see-also',
  });
  const done: string[] = [];
  const errors: string[] = [];
  const agents = Array.from({ length: 6 }, async (_, n) => {
    const c = await w.h.mcp(undefined, ['task-graph']);
    const id = `crash-agent-${n}`;
    for (let k = 0; ; k++) {
      const r = await call(c, 'claim', {
        workspace,
        worker_id: id,
        files: [`src/${id}.ts`],
        request_id: `${workspace}-${id}-claim-${k}`,
      });
      if (r.isError) {
        errors.push(`${r.error?.code} ${r.error?.message}`);
        continue;
      }
      if (!r.data.success) return;
      const task = r.data.task.id as string;
      const fin = await call(c, 'update', {
        workspace,
        worker_id: id,
        task,
        status: 'completed',
        request_id: `${workspace}-${task}-done`,
      });
      if (fin.isError) errors.push(`${fin.error?.code} ${fin.error?.message}`);
      else done.push(task);
    }
  });
  await new Promise((r) => setTimeout(r, 800));
  await w.kill();
  await new Promise((r) => setTimeout(r, 1000));
  w.start();
  await Promise.all(agents);
  expect(errors).toEqual([]);
  expect(done.length).toBe(61); // the 60 jobs and their (see-also) root
  expect(new Set(done).size).toBe(61);
  const q = async (sql: string) => (await ok(mcp, 'query', { workspace, sql, limit: 1000 })).rows;
  expect(
    await q("SELECT task_id FROM task_sequence WHERE status = 'working' GROUP BY task_id HAVING COUNT(*) > 1"),
  ).toEqual([]);
  expect(await q("SELECT count(*) AS n FROM tasks WHERE status = 'completed'")).toEqual([{ n: 61 }]);
  expect((await ok(mcp, 'list_marks', { workspace })).count).toBe(0);
}, 180_000);

test('agents waiting in mark_updates across a killed worker are each woken once by the next mark', async () => {
  const mcp = await w.h.mcp(undefined, ['task-graph']);
  const workspace = uid('watch-crash');
  await ok(mcp, 'create', { workspace, title: 'seed the workspace' });
  const agents = Array.from({ length: 6 }, (_, n) => uid(`waiter${n}`));
  for (const agent of agents) await ok(mcp, 'connect', { workspace, worker_id: agent });
  const { worker_id: marker } = await ok(mcp, 'connect', { workspace, worker_id: uid('marker') });
  const client = await w.h.lazy.get();
  const waits = agents.map((agent) => ok(mcp, 'mark_updates', { workspace, agent, wait_seconds: 60 }));
  // Every wait is held in its agent's workflow before the worker dies.
  await waitsHeld(client, agents);
  await w.kill();
  await new Promise((r) => setTimeout(r, 1000));
  w.start();
  await eventually(async () => ((await w.h.goals.health()).workers ?? 0) > 0, 60_000);
  await ok(mcp, 'mark_file', { workspace, agent: marker, file: 'src/api.ts' });
  for (const answer of await Promise.all(waits)) {
    expect(answer.changes).toEqual([expect.objectContaining({ agent: marker, file: 'src/api.ts', action: 'marked' })]);
  }
  // Woken by the workspace's Signal (not by their 60 s running out): one each.
  for (const a of agents) expect(await wakesOf(client, a)).toBe(1);
}, 180_000);
