/** Task-graph claims across a worker killed with SIGKILL mid-flight: every task done once, no claim lost or doubled. */
import { call, ok, uid, useWorkerProcess } from './support/harness';

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
