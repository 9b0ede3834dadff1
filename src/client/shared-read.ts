/**
 * One read shared by its callers: a caller joins the read in flight, or takes the last one's answer if it came within
 * `freshMs`; a failed read is not kept. Many waiting claims of one process looking for goals with ready work then cost
 * Visibility one list call, not one each.
 */
export function sharedRead<T>(read: () => Promise<T>, freshMs: number, now: () => number = Date.now): () => Promise<T> {
  let last: { p: Promise<T>; settledAt?: number } | undefined;
  return () => {
    if (last && (last.settledAt === undefined || now() - last.settledAt < freshMs)) return last.p;
    const entry: { p: Promise<T>; settledAt?: number } = { p: read() };
    last = entry;
    entry.p.then(
      () => {
        entry.settledAt = now();
      },
      () => {
        if (last === entry) last = undefined;
      },
    );
    return entry.p;
  };
}
