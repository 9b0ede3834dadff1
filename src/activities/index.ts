/**
 * Activities are plain async functions built from their dependencies. The goal workflow needs none: every
 * decision it makes is pure, and its timers are durable timers, not activities. Relay and breaker side effects
 * (completing a goal's task from a pipeline, notifying other workflows) register here.
 */
export interface ActivityDeps {
  /** Nothing yet; kept so the worker wiring does not change when activities arrive. */
  readonly _reserved?: never;
}

export function createActivities(_deps: ActivityDeps = {}): Record<string, (...args: never[]) => Promise<unknown>> {
  return {};
}
