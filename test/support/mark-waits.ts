/** What mark_updates' long-poll leaves in history: read by the task-graph tests, in the agents' and workspace's runs. */
import type { Client } from '@temporalio/client';
import { agentWorkflowId } from '../../src/workflows/messages';
import { eventually } from './harness';

export const historyOf = async (client: Client, workflowId: string) =>
  (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];

/** Resolves once every agent's own workflow holds a waitMarks Update (its mark_updates wait is in flight there). */
export async function waitsHeld(client: Client, agents: string[]): Promise<void> {
  await eventually(async () => {
    const held = await Promise.all(
      agents.map(async (a) =>
        (await historyOf(client, agentWorkflowId(a))).some(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'waitMarks',
        ),
      ),
    );
    return held.every(Boolean) || undefined;
  }, 30_000);
}

/** How many marksChanged Signals the agent's workflow received. */
export async function wakesOf(client: Client, agent: string): Promise<number> {
  return (await historyOf(client, agentWorkflowId(agent))).filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'marksChanged',
  ).length;
}
