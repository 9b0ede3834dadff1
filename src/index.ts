/** The library surface: the client API by intent, the MCP server factory, and the shared message definitions. */
export { createGoalsClient, makeGoalId, type GoalsClient, type ClaimOutcome } from './client/goals';
export { createProjectsClient, type ProjectsClient } from './client/projects';
export { LazyClient, connectClient } from './client/connection';
export { AppError } from './client/errors';
export { createServer, buildRegistry } from './mcp/server';
export { serveHttp } from './mcp/http';
export { startWorker } from './worker';
export { startDevServer } from './dev-server';
export { resolveTemporalCli, findTemporalCli } from './temporal-cli';
export { loadConfig, type RuntimeConfig } from './config';
export * from './workflows/messages';
export * from './domain/schemas';
