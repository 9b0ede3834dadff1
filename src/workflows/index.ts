export { goalWorkflow } from './goal';
export { relayPipelineWorkflow } from './relay-pipeline';
export { benchFloorWorkflow } from './bench-floor';
export { circuitBreakerWorkflow } from './circuit-breaker';
export { idAliasesWorkflow } from './id-aliases';
export { agentWorkflow } from './agent';
export { workspaceWorkflow } from './workspace';
export { workspaceShardWorkflow } from './workspace-shard';
