/**
 * benchFloorWorkflow: the benchmark's floor — a trivial workflow with a no-op Update, so `npm run bench` can compare
 * every figure with what the Temporal server itself costs in the same run.
 */
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export const noopUpdate = defineUpdate<number, [number]>('noop');
export const stopUpdate = defineUpdate<void>('stop');

export async function benchFloorWorkflow(): Promise<void> {
  let stopped = false;
  setHandler(noopUpdate, (n) => n);
  setHandler(stopUpdate, () => {
    stopped = true;
  });
  await condition(() => stopped);
}
