/**
 * What every entity workflow shares: Updates whose validators run the domain's checks (so refusals never reach
 * history), idempotency by update id carried across continue-as-new, and domain errors as ApplicationFailures.
 */
import { ApplicationFailure, currentUpdateInfo, setHandler } from '@temporalio/workflow';
import type { z } from 'zod';
import { DomainError } from '../domain/errors';
import { parseOrFail } from '../domain/validate';

/** How many applied update ids (with results) travel across continue-as-new for idempotent retries. */
export const APPLIED_KEPT = 256;

export function toFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof DomainError) {
    return ApplicationFailure.create({
      type: err.code,
      message: err.message,
      nonRetryable: true,
      details: err.details ? [err.details] : [],
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ type: 'INTERNAL', message, nonRetryable: true });
}

export interface UpdateRegistrarOptions {
  /** Update ids applied so far → what is kept of their results. */
  applied: Map<string, unknown>;
  /** Called after every applied change (search attributes, current details, timers). */
  afterChange: () => void;
  /** Shrinks a result before it is remembered; rehydrate() restores it for a retried call. */
  compact?: (result: unknown) => unknown;
  rehydrate?: (kept: unknown) => unknown;
}

export type RegisterUpdate = <I, R>(
  def: Parameters<typeof setHandler>[0],
  schema: z.ZodType<I>,
  what: string,
  check: (arg: I, now: number) => unknown,
  apply: (arg: I, now: number) => R,
) => void;

/**
 * Returns a function that registers an Update. Handlers are synchronous from validation to mutation (no await), so
 * updates arriving together are applied one after another and need no mutex.
 */
export function updateRegistrar(options: UpdateRegistrarOptions): RegisterUpdate {
  const { applied, afterChange, compact = (r) => r, rehydrate = (k) => k } = options;
  const seen = (): boolean => {
    const id = currentUpdateInfo()?.id;
    return id !== undefined && applied.has(id);
  };
  return <I, R>(
    def: Parameters<typeof setHandler>[0],
    schema: z.ZodType<I>,
    what: string,
    check: (arg: I, now: number) => unknown,
    apply: (arg: I, now: number) => R,
  ): void => {
    setHandler(
      def as never,
      ((raw: unknown): R => {
        const id = currentUpdateInfo()?.id;
        if (id !== undefined && applied.has(id)) return rehydrate(applied.get(id)) as R;
        let result: R;
        try {
          result = apply(parseOrFail(schema, raw, what), Date.now());
        } catch (err) {
          throw toFailure(err);
        }
        if (id !== undefined) {
          applied.set(id, compact(result));
          if (applied.size > APPLIED_KEPT) applied.delete(applied.keys().next().value as string);
        }
        afterChange();
        return result;
      }) as never,
      {
        validator: ((raw: unknown): void => {
          if (seen()) return;
          try {
            check(parseOrFail(schema, raw, what), Date.now());
          } catch (err) {
            throw toFailure(err);
          }
        }) as never,
      },
    );
  };
}
