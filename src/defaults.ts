/** Defaults shared by the runtime and the thin stdio front; no imports, so the front stays light. */
export const TASK_QUEUE = 'agent-runtime';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';
