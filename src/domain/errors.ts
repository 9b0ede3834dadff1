/**
 * Stable error codes shared by the workflows (as ApplicationFailure types), the client and the MCP layer
 * (as the `code` of an isError result). Each code has a default hint telling the caller what to do next.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'CONFLICT',
  'DEPENDENCY_CYCLE',
  'LEASE_LOST',
  'NO_WORK',
  'RETRY_EXHAUSTED',
  'GOAL_CLOSED',
  'BREAKER_OPEN',
  'TEMPORAL_UNAVAILABLE',
  'NO_WORKER',
  'FORBIDDEN',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A refusal that the caller can act on. Thrown by domain functions; mapped to ApplicationFailure in workflows. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new DomainError(code, message, details);
}
