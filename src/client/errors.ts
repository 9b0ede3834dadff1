/**
 * Turns whatever Temporal throws into an AppError with a stable code and a sentence saying what to do.
 * The MCP layer shows these as isError results.
 */
import { WorkflowUpdateFailedError, isGrpcServiceError, ServiceError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, WorkflowNotFoundError } from '@temporalio/common';
import { DomainError, isErrorCode, type ErrorCode } from '../domain/errors';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

const GRPC = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;

export const UNAVAILABLE_HINT =
  'Start it with `npx agent-runtime up` (or `npm start` in the agent-runtime checkout), or set TEMPORAL_ADDRESS to a running Temporal server.';

/** The gRPC error behind an SDK error (its cause chain), if any. */
function grpcErrorOf(err: unknown): { code: number; details?: string; message: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (isGrpcServiceError(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function grpcCode(err: unknown): number | undefined {
  return grpcErrorOf(err)?.code;
}

/** What a call started after its process closed its Temporal client is refused with. */
export class ClientClosedError extends Error {
  constructor() {
    super('This process has closed its Temporal connection (it is stopping); the call was not sent.');
    this.name = 'ClientClosedError';
  }
}

export function isUnavailable(err: unknown): boolean {
  const code = grpcCode(err);
  if (code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED) return true;
  const msg = err instanceof Error ? err.message : '';
  return /Failed to connect before the deadline|ECONNREFUSED|No connection established|TransportError/i.test(msg);
}

/**
 * The server dropped an Update because the workflow task that carried it failed (a continue-as-new refused because
 * a timer fired or a Signal arrived meanwhile, say). Nothing of that task was written, so the Update was not applied:
 * sending it again with the same update id applies it once.
 */
export function isUpdateLostWithTask(err: unknown): boolean {
  const e = grpcErrorOf(err);
  return e?.code === GRPC.FAILED_PRECONDITION && /unexpected workflow task failure/i.test(e.details ?? e.message);
}

/**
 * A query refused because the workflow's last workflow task failed (it ran past its timeout on an overloaded worker,
 * say): the server schedules that task again, and the workflow answers once it has run.
 */
export function isWorkflowTaskFailed(err: unknown): boolean {
  const e = grpcErrorOf(err);
  return e?.code === GRPC.FAILED_PRECONDITION && /workflow task in failed state/i.test(e.details ?? e.message);
}

/**
 * A call that met a workflow run in its last workflow task (continuing as new): the server refuses it as busy
 * (RESOURCE_EXHAUSTED, "workflow is closing") although the next run takes it a moment later.
 */
export function isWorkflowClosing(status: { code: number; details?: string }): boolean {
  return status.code === GRPC.RESOURCE_EXHAUSTED && /workflow is closing/i.test(status.details ?? '');
}

/** Too many in-flight updates on one workflow: a transient refusal worth retrying with the same update id. */
export function isResourceExhausted(err: unknown): boolean {
  return grpcCode(err) === GRPC.RESOURCE_EXHAUSTED;
}

export function toAppError(err: unknown, context: { entity?: string; address?: string } = {}): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof DomainError) return new AppError(err.code, err.message, err.details);
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const f = err.cause;
    const code = isErrorCode(f.type) ? f.type : 'INTERNAL';
    const details = f.details?.[0];
    return new AppError(
      code,
      f.message,
      details && typeof details === 'object' ? (details as Record<string, unknown>) : undefined,
    );
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof CancelledFailure) {
    return new AppError(
      'NOT_FOUND',
      `${context.entity ?? 'The workflow'} is closed: its workflow was cancelled while this call waited, so it takes no more changes.`,
    );
  }
  if (err instanceof WorkflowNotFoundError || grpcCode(err) === GRPC.NOT_FOUND) {
    if (/already completed/i.test((err as Error).message)) {
      return new AppError(
        'NOT_FOUND',
        `${context.entity ?? 'The workflow'} is closed: its workflow has ended (finished, or cancelled or terminated in Temporal), so it takes no more changes; its history stays readable in the Web UI.`,
      );
    }
    return new AppError(
      'NOT_FOUND',
      `${context.entity ?? 'The workflow'} does not exist (or has been closed and deleted).`,
    );
  }
  if (isResourceExhausted(err)) {
    return new AppError(
      'TEMPORAL_UNAVAILABLE',
      `Temporal is too busy with ${context.entity ?? 'this workflow'} to take this call now (${grpcErrorOf(err)?.details ?? (err as Error).message}). Call again in a moment; with the same request_id nothing is applied twice.`,
    );
  }
  if (isWorkflowTaskFailed(err)) {
    return new AppError(
      'TEMPORAL_UNAVAILABLE',
      `${context.entity ?? 'This workflow'} could not be read: its last workflow task failed and Temporal is running it again (a worker overloaded or restarting, most often). Call again in a moment.`,
    );
  }
  if (err instanceof ClientClosedError) {
    return new AppError('TEMPORAL_UNAVAILABLE', `${err.message} Call again once it is running.`);
  }
  if (isUnavailable(err)) {
    return new AppError(
      'TEMPORAL_UNAVAILABLE',
      `No Temporal server answers at ${context.address ?? 'the configured address'}. ${UNAVAILABLE_HINT}`,
    );
  }
  if (err instanceof ServiceError || isGrpcServiceError(err)) {
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
    return new AppError('INTERNAL', `Temporal refused the call: ${(err as Error).message}${why}`);
  }
  return new AppError('INTERNAL', err instanceof Error ? err.message : String(err));
}
