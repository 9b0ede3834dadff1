/**
 * While a goal's workflow task is pending (running, or waiting for a worker), the server keeps one query per workflow
 * for the next task and refuses the others at once (RESOURCE_EXHAUSTED, "consistent query buffer is full"). The
 * runtime's clients send their queries to one workflow one at a time (src/client/query-gate.ts), so many agents reading
 * one busy goal are all answered. Both clients here run without the SDK's gRPC retries, so every refusal shows.
 */
import { Client, Connection } from '@temporalio/client';
import { queryGateInterceptor } from '../src/client/query-gate';
import { cancelWaitSignal, getTaskQuery, goalWorkflowId } from '../src/workflows/messages';
import { startWorker, type WorkerHandle } from '../src/worker';
import { eventually, quietRuntime, startHarness, uid } from './support/harness';

beforeAll(() => quietRuntime());

type Outcome = { ok: true; id: string | undefined } | { ok: false; error: Error };

test('reads of a goal whose workflow task waits for a worker: refused past the first without the gate, all answered with it', async () => {
  const h = await startHarness({ worker: false });
  const connection = await Connection.connect({ address: h.config.temporalAddress, interceptors: [] });
  const bare = new Client({ connection, namespace: h.config.namespace });
  const gated = new Client({
    connection,
    namespace: h.config.namespace,
    interceptors: { workflow: [queryGateInterceptor()] },
  });
  let worker: WorkerHandle | undefined = await startWorker(h.config);
  try {
    const goal = await h.goals.createGoal({
      name: 'busy reads',
      tasks: Array.from({ length: 6 }, (_, k) => ({ title: `r${k}` })),
    });
    const ids = (await h.goals.getGoal(goal.id)).tasks.map((t) => t.id);
    expect(ids).toHaveLength(6);

    /** Stops the worker and gives the goal a workflow task that waits for one (a harmless recorded Signal). */
    const pendWorkflowTask = async (): Promise<void> => {
      await worker?.shutdown();
      worker = undefined;
      await bare.workflow.getHandle(goalWorkflowId(goal.id)).signal(cancelWaitSignal, { updateId: uid('nobody') });
    };
    const read = (client: Client, taskId: string): Promise<Outcome> =>
      client.workflow
        .getHandle(goalWorkflowId(goal.id))
        .query(getTaskQuery, { taskId })
        .then(
          (task) => ({ ok: true as const, id: task?.id }),
          (error: Error) => ({ ok: false as const, error }),
        );

    // Without the gate: one query waits for the task, the others are refused at once.
    await pendWorkflowTask();
    const outcomes: Outcome[] = [];
    const bareReads = ids.map((id) => read(bare, id).then((o) => outcomes.push(o)));
    await eventually(() => Promise.resolve(outcomes.length >= ids.length - 1 ? true : undefined), 20_000);
    const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    expect(refused).toHaveLength(ids.length - 1);
    for (const r of refused) expect(r.error.message + String(r.error.cause)).toMatch(/query buffer is full/);
    worker = await startWorker(h.config);
    await Promise.all(bareReads);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);

    // With the gate: the same reads (and repeats of two of them) all answer once a worker takes the task.
    await pendWorkflowTask();
    const gatedReads = Promise.all([...ids, ids[0]!, ids[1]!].map((id) => read(gated, id)));
    worker = await startWorker(h.config);
    const answered = await gatedReads;
    expect(answered).toEqual([...ids, ids[0], ids[1]].map((id) => ({ ok: true, id })));
  } finally {
    await worker?.shutdown();
    await connection.close();
    await h.close();
  }
});
