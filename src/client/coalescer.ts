/**
 * Natural batching of calls on one key (a goal): calls made in the same turn of the event loop go together, and while
 * a batch for a key is in flight, later calls for it wait and go together when it returns. A lone call goes alone
 * after one event-loop turn, so an idle goal adds no noticeable latency; a busy goal costs one round trip per batch
 * instead of one per call.
 *
 * With `secondAt`, a second batch may leave while one is in flight, once at least `secondAt` calls wait and at least
 * as many as the batch in flight holds: the server queues it and applies it in the workflow task right after the
 * first, instead of after the first's answer has come back here and a new batch has gone out (on a busy goal, that
 * gap was a third of each cycle). Never more than two per key, and never a second batch smaller than the first, so a
 * busy goal is not cut into many small workflow tasks.
 */
export interface Coalescer<Op, R> {
  submit(key: string, op: Op): Promise<R>;
  /** Calls waiting or in flight, over all keys. */
  pending(): number;
}

export interface CoalescerOptions<Op, R> {
  /** Sends one call alone. */
  one: (key: string, op: Op) => Promise<R>;
  /** Sends several; settles with one outcome per op, in order (an Error outcome rejects that op alone). */
  many: (key: string, ops: Op[]) => Promise<Array<R | Error>>;
  maxBatch: number;
  /** Calls waiting that let a second batch leave while one is in flight (at least as many as it holds); 0: never. */
  secondAt?: number;
}

interface Waiting<Op, R> {
  op: Op;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export function createCoalescer<Op, R>(options: CoalescerOptions<Op, R>): Coalescer<Op, R> {
  /** Per key: batches in flight (0–2), the size of the last one sent, calls waiting. */
  const queues = new Map<
    string,
    { inFlight: number; size: number; scheduled: boolean; waiting: Array<Waiting<Op, R>> }
  >();
  const secondAt = options.secondAt ?? 0;
  let count = 0;

  const settle = (w: Waiting<Op, R>, outcome: R | Error): void => {
    count -= 1;
    if (outcome instanceof Error) w.reject(outcome);
    else w.resolve(outcome);
  };

  const drain = (key: string): void => {
    const q = queues.get(key);
    if (!q) return;
    if (q.waiting.length === 0) {
      if (!q.scheduled && q.inFlight === 0) queues.delete(key);
      return;
    }
    if (q.inFlight > 0) {
      const second = secondAt > 0 && q.inFlight === 1 && q.waiting.length >= Math.max(secondAt, q.size);
      if (!second) return;
    }
    const batch = q.waiting.splice(0, options.maxBatch);
    q.inFlight += 1;
    q.size = batch.length;
    const sent: Promise<Array<R | Error>> =
      batch.length === 1
        ? options.one(key, (batch[0] as Waiting<Op, R>).op).then((r) => [r])
        : options.many(
            key,
            batch.map((w) => w.op),
          );
    sent
      .then(
        (outcomes) =>
          batch.forEach((w, i) =>
            settle(w, outcomes[i] ?? new Error('the batch answered with fewer results than calls')),
          ),
        (err: unknown) =>
          batch.forEach((w) => {
            count -= 1;
            w.reject(err);
          }),
      )
      .finally(() => {
        q.inFlight -= 1;
        drain(key);
      });
  };

  return {
    submit(key, op) {
      return new Promise<R>((resolve, reject) => {
        let q = queues.get(key);
        if (!q) queues.set(key, (q = { inFlight: 0, size: 0, scheduled: false, waiting: [] }));
        q.waiting.push({ op, resolve, reject });
        count += 1;
        // Calls made in the same turn of the event loop (agents woken together) leave together.
        if (!q.scheduled) {
          q.scheduled = true;
          setImmediate(() => {
            (q as { scheduled: boolean }).scheduled = false;
            drain(key);
          });
        }
      });
    },
    pending: () => count,
  };
}
