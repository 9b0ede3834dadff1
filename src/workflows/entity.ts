/**
 * What every entity workflow shares: Updates whose validators run the domain's checks (so refusals never reach
 * history), idempotency by update id carried across continue-as-new, and domain errors as ApplicationFailures.
 */
import {
  ApplicationFailure,
  currentUpdateInfo,
  isCancellation,
  setHandler,
  type QueryDefinition,
} from '@temporalio/workflow';
import { hasPatch } from './patches';
import type { z } from 'zod';
import { DomainError } from '../domain/errors';
import { refuseReusedKey, sameCall, splitRequestId } from '../domain/request-ids';
import { LIMITS } from '../domain/schemas';
import { jsonBytes, mib, StateBudget } from '../domain/state-size';
import { parseOrFail } from '../domain/validate';
import { noteRecordedWork } from './continue-as-new';

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

/**
 * For work a workflow runs on the side (a loop, a timer it does not await): a cancellation request on the workflow
 * (the Web UI's "Request Cancellation", `temporal workflow cancel`) ends it quietly, so the run can end as cancelled;
 * any other error still fails the workflow task. Without it such a promise's rejection goes unhandled and every
 * workflow task after the request fails.
 */
export function unlessCancelled(err: unknown): void {
  if (!isCancellation(err)) throw err;
}

/** What is kept for an update id that carried the digest of its arguments (see domain/request-ids.ts). */
interface Kept {
  '~d': string;
  r?: unknown;
}

function isKept(v: unknown): v is Kept {
  return v !== null && typeof v === 'object' && typeof (v as Partial<Kept>)['~d'] === 'string';
}

/**
 * The remembered result of the call with this update id: undefined when the call is new; a CONFLICT failure when its
 * request_id was used before for a call with other arguments.
 */
export function recall(applied: Map<string, unknown>, id: string | undefined): { result: unknown } | undefined {
  if (id === undefined) return undefined;
  const { key, digest } = splitRequestId(id);
  if (!applied.has(key)) return undefined;
  const kept = applied.get(key);
  if (!isKept(kept)) return { result: kept };
  if (!sameCall(kept['~d'], digest)) {
    try {
      refuseReusedKey(id);
    } catch (err) {
      throw toFailure(err);
    }
  }
  return { result: kept.r };
}

/** Remembers a call's (compacted) result under its key, with the digest of its arguments when it has one. */
export function keep(applied: Map<string, unknown>, id: string, compacted: unknown): void {
  const { key, digest } = splitRequestId(id);
  applied.set(key, digest === undefined ? compacted : ({ '~d': digest, r: compacted } satisfies Kept));
  if (applied.size > APPLIED_KEPT) applied.delete(applied.keys().next().value as string);
}

export interface UpdateRegistrarOptions {
  /** Update ids applied so far → what is kept of their results. */
  applied: Map<string, unknown>;
  /** Called after every applied change (search attributes, current details, timers). */
  afterChange: () => void;
  /** Shrinks a result before it is remembered; rehydrate() restores it for a retried call. */
  compact?: (result: unknown) => unknown;
  rehydrate?: (kept: unknown) => unknown;
  /**
   * What a change did for other callers, to ride on its answer (fields added to an object result; in a batch, to the
   * first call's that has one). Taken (and emptied) after each change; also emptied before one, so what a timer did
   * never rides on the next answer. Not remembered with the result: a retried call gets its own result alone.
   */
  riders?: () => Record<string, unknown> | undefined;
  /**
   * Weighs the changes that declare a growth (the last argument of a registration) against the state's budget: one
   * that could take the continue-as-new input past the server's payload limit is refused (see state-size.ts).
   */
  budget?: StateBudget;
}

export type RegisterUpdate = (<I, R>(
  def: Parameters<typeof setHandler>[0],
  schema: z.ZodType<I>,
  what: string,
  check: (arg: I, now: number) => unknown,
  apply: (arg: I, now: number) => R,
  /** Bytes the change may add to the state (weighed against the budget); none if omitted. */
  grows?: (arg: I) => number,
) => void) & {
  /**
   * Registers an Update applying several of the Updates registered so far (those named in `names`), in order, each
   * with its own idempotency id and its own result. The validator refuses the batch only when every call in it
   * would be refused on its own (with each call's error in the failure's details), so all-refused batches never
   * reach history; a call refused inside an accepted batch answers with its error.
   */
  batch: (def: Parameters<typeof setHandler>[0], names: readonly string[]) => void;
  /** Remembers the result of an Update applied by a handler of its own (one that waits), for idempotent retries. */
  remember: (id: string, result: unknown) => void;
};

interface Registered {
  schema: z.ZodType;
  what: string;
  check: (arg: unknown, now: number) => unknown;
  apply: (arg: unknown, now: number) => unknown;
  grows?: (arg: unknown) => number;
}

interface BatchOpIn {
  id: string;
  update: string;
  input: unknown;
}

type OpOutcome =
  { ok: true; value: unknown } | { ok: false; code: string; message: string; details?: Record<string, unknown> };

function failed(err: unknown): OpOutcome {
  const f = toFailure(err);
  const details = f.details?.[0];
  return {
    ok: false,
    code: f.type ?? 'INTERNAL',
    message: f.message,
    ...(details && typeof details === 'object' ? { details: details as Record<string, unknown> } : {}),
  };
}

function batchOps(raw: unknown, names: readonly string[]): BatchOpIn[] {
  const ops = (raw as { ops?: unknown } | null)?.ops;
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > LIMITS.opsPerBatch) {
    throw ApplicationFailure.create({
      type: 'INVALID_ARGUMENT',
      message: `Invalid applyBatch input: ops must be a list of 1 to ${LIMITS.opsPerBatch} calls.`,
      nonRetryable: true,
    });
  }
  for (const op of ops as Array<Partial<BatchOpIn> | null>) {
    if (!op || typeof op.id !== 'string' || op.id.length === 0 || !names.includes(op.update ?? '')) {
      throw ApplicationFailure.create({
        type: 'INVALID_ARGUMENT',
        message: `Invalid applyBatch input: each call needs an id and an update among ${names.join(', ')}.`,
        nonRetryable: true,
      });
    }
  }
  return ops as BatchOpIn[];
}

/**
 * The budget of a workflow whose continue-as-new input is `{ state, applied }` (see state-size.ts), or none in a run
 * started before budgets, which keeps its old behaviour on replay.
 */
export function stateBudget(
  state: unknown,
  applied: Map<string, unknown>,
  refusal: (holds: string, ceiling: string) => string,
): StateBudget | undefined {
  if (!hasPatch('state-budget')) return undefined;
  return new StateBudget(
    () => jsonBytes({ state, applied: [...applied.entries()] }),
    (bytes, max) => refusal(mib(bytes), mib(max)),
  );
}

/**
 * Returns a function that registers an Update. Handlers are synchronous from validation to mutation (no await), so
 * updates arriving together are applied one after another and need no mutex.
 */
export function updateRegistrar(options: UpdateRegistrarOptions): RegisterUpdate {
  const { applied, afterChange, compact = (r) => r, rehydrate = (k) => k, riders = () => undefined, budget } = options;
  const registered = new Map<string, Registered>();
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  /** The result with what the change did for others added (a copy: the remembered result stays as it was). */
  const withRiders = (result: unknown): unknown => {
    const extra = riders();
    return extra && isRecord(result) ? { ...result, ...extra } : result;
  };

  const remember = (id: string, result: unknown): void => keep(applied, id, compact(result));

  /** Applies one call (no afterChange): the remembered result for a known id, else the change. Throws on refusal. */
  const applyOne = (entry: Registered, id: string | undefined, raw: unknown): unknown => {
    const earlier = recall(applied, id);
    if (earlier) return rehydrate(earlier.result);
    let result: unknown;
    try {
      const input = parseOrFail(entry.schema, raw ?? {}, entry.what);
      const growth = budget && entry.grows ? entry.grows(input) : 0;
      budget?.check(growth);
      result = entry.apply(input, Date.now());
      budget?.applied(growth);
    } catch (err) {
      throw toFailure(err);
    }
    if (id !== undefined) remember(id, result);
    return result;
  };

  const checkOne = (entry: Registered, id: string | undefined, raw: unknown): void => {
    if (recall(applied, id)) return;
    try {
      const input = parseOrFail(entry.schema, raw ?? {}, entry.what);
      entry.check(input, Date.now());
      if (budget && entry.grows) budget.check(entry.grows(input));
    } catch (err) {
      throw toFailure(err);
    }
  };

  const register = <I, R>(
    def: Parameters<typeof setHandler>[0],
    schema: z.ZodType<I>,
    what: string,
    check: (arg: I, now: number) => unknown,
    apply: (arg: I, now: number) => R,
    grows?: (arg: I) => number,
  ): void => {
    const entry: Registered = {
      schema,
      what,
      check: check as Registered['check'],
      apply: apply as Registered['apply'],
      grows: grows as Registered['grows'],
    };
    registered.set(def.name, entry);
    setHandler(
      def as never,
      ((raw: unknown): R => {
        noteRecordedWork();
        const id = currentUpdateInfo()?.id;
        const fresh = recall(applied, id) === undefined;
        riders();
        const result = applyOne(entry, id, raw) as R;
        if (!fresh) return result;
        afterChange();
        return withRiders(result) as R;
      }) as never,
      { validator: ((raw: unknown): void => checkOne(entry, currentUpdateInfo()?.id, raw)) as never },
    );
  };

  const batch = (def: Parameters<typeof setHandler>[0], names: readonly string[]): void => {
    const entryOf = (name: string): Registered => {
      const entry = registered.get(name);
      if (!entry) throw new Error(`applyBatch: ${name} is not registered`);
      return entry;
    };
    setHandler(
      def as never,
      ((raw: unknown): OpOutcome[] => {
        noteRecordedWork();
        riders();
        const out = batchOps(raw, names).map((op): OpOutcome => {
          try {
            return { ok: true, value: applyOne(entryOf(op.update), op.id, op.input) };
          } catch (err) {
            return failed(err);
          }
        });
        afterChange();
        const first = out.findIndex((o) => o.ok && isRecord(o.value));
        if (first >= 0) out[first] = { ok: true, value: withRiders((out[first] as { value: unknown }).value) };
        return out;
      }) as never,
      {
        validator: ((raw: unknown): void => {
          const outcomes = batchOps(raw, names).map((op): OpOutcome => {
            try {
              checkOne(entryOf(op.update), op.id, op.input);
              return { ok: true, value: null };
            } catch (err) {
              return failed(err);
            }
          });
          if (outcomes.every((o) => !o.ok)) {
            throw ApplicationFailure.create({
              type: 'BATCH_REFUSED',
              message: 'Every call in the batch was refused.',
              nonRetryable: true,
              details: [{ results: outcomes }],
            });
          }
        }) as never,
      },
    );
  };

  return Object.assign(register, { batch, remember });
}

/**
 * A Query whose input is checked with a zod schema first: a missing or wrong input (from the `temporal` CLI, say) is
 * answered with a sentence naming the bad field, never a JavaScript TypeError.
 */
export function validatedQuery<R, I>(
  def: QueryDefinition<R, [I]>,
  schema: z.ZodType<I>,
  what: string,
  fn: (input: I) => R,
): void {
  setHandler(def as never, ((raw: unknown) => fn(parseOrFail(schema, raw ?? {}, what))) as never);
}
