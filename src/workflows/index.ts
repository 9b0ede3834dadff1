export { goalWorkflow } from './goal';
export { relayPipelineWorkflow } from './relay-pipeline';
