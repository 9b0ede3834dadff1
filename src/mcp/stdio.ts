/** `agent-runtime mcp`: the MCP server over stdio, what an agent's client spawns. stdout carries only protocol. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { RuntimeConfig } from '../config';
import { LazyClient } from '../client/connection';
import { UNAVAILABLE_HINT } from '../client/errors';
import { createGoalsClient } from '../client/goals';
import { log } from '../logger';
import { createServer } from './server';

/** One agent's own MCP server talking to Temporal directly: AGENT_ID is its identity. */
export function agentServer(config: RuntimeConfig): {
  lazy: LazyClient;
  server: McpServer;
  goals: ReturnType<typeof createGoalsClient>;
} {
  const lazy = new LazyClient(config);
  const goals = createGoalsClient({
    client: () => lazy.get(),
    taskQueue: config.taskQueue,
    address: config.temporalAddress,
  });
  return {
    lazy,
    goals,
    server: createServer({ goals, toolsets: config.toolsets, context: { agentId: config.agentId } }),
  };
}

export async function serveStdio(config: RuntimeConfig): Promise<void> {
  const { lazy, server, goals } = agentServer(config);
  lazy.get().then(
    () => log.debug(`connected to Temporal at ${config.temporalAddress}`),
    () =>
      log.warn(
        `No Temporal server answers at ${config.temporalAddress}; every tool will say so until one does. ${UNAVAILABLE_HINT}`,
      ),
  );
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  const stop = async () => {
    await server.close().catch(() => undefined); // aborts calls in flight: long-polls send their cancellation
    await goals.drain();
    await lazy.close();
  };
  process.stdin.once('end', () => void stop());
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  await closed;
  await goals.drain();
  await lazy.close();
}
