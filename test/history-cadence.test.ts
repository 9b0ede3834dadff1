/**
 * With the runtime's own server settings (DEV_SERVER_DYNAMIC_CONFIG, equal to deploy/dynamicconfig.yaml), a goal
 * continues as new before its history passes about 1,024 events, so a worker that takes it over never replays more
 * than that within the 10 s workflow task timeout (docs/DECISIONS.md, "Continue-as-new at 1,024 history events").
 * One agent, every call its own Update: the longest history per task there is.
 */
import { closedRuns, quietRuntime, startHarness } from './support/harness';
import { goalWorkflowId } from '../src/workflows/messages';

beforeAll(() => quietRuntime());

test('a goal worked call by call continues as new at about 1,024 history events, losing nothing', async () => {
  const h = await startHarness();
  try {
    const tasks = 260; // about five events per task: past 1,024 once
    const goal = await h.goals.createGoal({
      name: 'history cadence',
      tasks: Array.from({ length: tasks }, (_, k) => ({ title: `h${k}` })),
    });
    const done = new Set<string>();
    for (;;) {
      const c = await h.goals.claimNextTask({ goalId: goal.id, agentId: 'cadence' });
      if (!c.claimed || !c.task) break;
      await h.goals.setTaskStatus({ taskId: c.task.id, status: 'completed', agentId: 'cadence', result: 'ok' });
      done.add(c.task.id);
    }
    expect(done.size).toBe(tasks);
    expect((await h.goals.getGoal(goal.id)).goal.task_counts).toMatchObject({ total: tasks, completed: tasks });

    const runs = await closedRuns(await h.lazy.get(), goalWorkflowId(goal.id));
    expect(runs.length).toBeGreaterThanOrEqual(1);
    // Continued as new at the first workflow task after the suggestion, once its handlers were done: a few events on.
    for (const r of runs) expect(r.history.events?.length).toBeLessThan(1_100);
  } finally {
    await h.close();
  }
}, 180_000);
