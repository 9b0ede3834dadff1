/**
 * Natural batching of calls on one key (a goal): calls made in the same turn of the event loop go together, and while
 * a batch for a key is in flight, later calls for it wait and go together when it returns. A lone call goes alone
 * after one event-loop turn, so an idle goal adds no noticeable latency; a busy goal costs one round trip per batch
 * instead of one per call.
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
}

interface Waiting<Op, R> {
  op: Op;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export function createCoalescer<Op, R>(options: CoalescerOptions<Op, R>): Coalescer<Op, R> {
  const queues = new Map<string, { busy: boolean; scheduled: boolean; waiting: Array<Waiting<Op, R>> }>();
  let count = 0;

  const settle = (w: Waiting<Op, R>, outcome: R | Error): void => {
    count -= 1;
    if (outcome instanceof Error) w.reject(outcome);
    else w.resolve(outcome);
  };

  const drain = (key: string): void => {
    const q = queues.get(key);
    if (!q || q.busy) return;
    if (q.waiting.length === 0) {
      if (!q.scheduled) queues.delete(key);
      return;
    }
    const batch = q.waiting.splice(0, options.maxBatch);
    q.busy = true;
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
        q.busy = false;
        drain(key);
      });
  };

  return {
    submit(key, op) {
      return new Promise<R>((resolve, reject) => {
        let q = queues.get(key);
        if (!q) queues.set(key, (q = { busy: false, scheduled: false, waiting: [] }));
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
