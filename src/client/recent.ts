/**
 * Visibility shows a change a moment after the workflow made it (up to about two seconds on a busy server). What this
 * process created or changed within this window is read live, so a caller sees its own changes at once.
 */
export const RECENT_CHANGE_MS = 5_000;

/** Ids this process touched within the last `windowMs`, oldest first. */
export function recentlyTouched(windowMs: number) {
  const touched = new Map<string, number>();
  const forget = (now: number): void => {
    for (const [id, at] of touched) {
      if (now - at <= windowMs) break; // re-inserted on each touch, so the map is in time order
      touched.delete(id);
    }
  };
  return {
    touch(id: string, now = Date.now()): void {
      touched.delete(id);
      touched.set(id, now);
      forget(now);
    },
    /** Each id touched within the window, with when. */
    entries(now = Date.now()): Array<[string, number]> {
      forget(now);
      return [...touched];
    },
    ids(now = Date.now()): string[] {
      forget(now);
      return [...touched.keys()];
    },
  };
}

/**
 * At most this many of the ids touched a moment ago are read live by a list (one wave of Queries, 16 at a time): a
 * process that just created a thousand goals lists them from Visibility (one call) rather than with a thousand Queries.
 */
export const RECENT_LIVE_MAX = 16;

/**
 * Rows from Visibility merged with the ids this process touched a moment ago (the newest `max` of them): a touched row
 * loses its indexed form (`row`), so the caller reads it live; touched ids Visibility does not list yet come first,
 * the newest first.
 */
export function mergeTouched<R>(
  listed: ReadonlyArray<{ id: string; row?: R }>,
  allTouched: readonly string[],
  max = RECENT_LIVE_MAX,
): Array<{ id: string; row?: R }> {
  const touched = allTouched.slice(-max);
  const fresh = new Set(touched);
  const listedIds = new Set(listed.map((r) => r.id));
  const unlisted = touched
    .filter((id) => !listedIds.has(id))
    .reverse()
    .map((id) => ({ id }));
  return [...unlisted, ...listed.map((r) => (fresh.has(r.id) ? { id: r.id } : r))];
}
