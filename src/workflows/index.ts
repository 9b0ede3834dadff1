export { goalWorkflow } from './goal';
