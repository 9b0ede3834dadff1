/**
 * Agent teams in the benchmark: push latency (create_task → the assignee's long-polling get_next_task returns the
 * task), a registered agent's complete_task, and message latency (send_message → the recipient's long-polling
 * fetch_inbox returns it), through MCP.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { summarize, type Latency } from './stats';

type Structured = Record<string, unknown> & {
  claimed?: boolean;
  id?: string;
  count?: number;
  messages?: Array<{ seq: number }>;
};

async function tool(mcp: McpClient, name: string, args: Record<string, unknown>): Promise<Structured> {
  const r = await mcp.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${(r.content as Array<{ text?: string }>)[0]?.text ?? ''}`);
  return r.structuredContent as Structured;
}

export async function agentLatencies(
  mcp: McpClient,
  runId: string,
  n: number,
): Promise<{ push: Latency; complete: Latency; message: Latency }> {
  const codebase = `bench-${runId}`;
  const [worker, sender] = [`bench-worker-${runId}`, `bench-sender-${runId}`];
  await tool(mcp, 'register_agent', { name: worker, capabilities: ['bench'], codebase_id: codebase });
  await tool(mcp, 'register_agent', { name: sender, capabilities: ['chat'], codebase_id: codebase });
  await tool(mcp, 'create_goal', { name: 'bench agents', goal_id: codebase });

  const push: number[] = [];
  const complete: number[] = [];
  for (let i = 0; i < n; i++) {
    const waiting = tool(mcp, 'get_next_task', { agent_id: worker, goal_id: codebase, wait_seconds: 30 }).then((r) => ({
      r,
      at: performance.now(),
    }));
    await sleep(30); // the long-poll reaches the goal workflow
    const t = performance.now();
    await tool(mcp, 'create_task', { title: `pushed ${i}`, codebase_id: codebase, required_capabilities: ['bench'] });
    const { r: got, at } = await waiting;
    push.push(at - t); // until the assignee holds it, whenever create_task's own answer comes
    if (!got.claimed) throw new Error('the pushed task did not reach its agent');
    const c = performance.now();
    await tool(mcp, 'complete_task', { agent_id: worker, task_id: got.id });
    complete.push(performance.now() - c);
  }

  const message: number[] = [];
  let since = 0;
  for (let i = 0; i < n; i++) {
    const waiting = tool(mcp, 'fetch_inbox', { agent_id: worker, since, wait_seconds: 30 });
    await sleep(30);
    const t = performance.now();
    await tool(mcp, 'send_message', { sender, to: [worker], subject: 'bench', body: `message ${i}` });
    const got = await waiting;
    message.push(performance.now() - t);
    if (got.count !== 1) throw new Error('the message did not arrive');
    since = got.messages?.[0]?.seq ?? since;
  }
  await tool(mcp, 'unregister_agent', { agent_id: worker });
  await tool(mcp, 'unregister_agent', { agent_id: sender });
  return { push: summarize(push), complete: summarize(complete), message: summarize(message) };
}
