/**
 * What a workflow's state weighs when it travels. A run continues as new with its whole state as the input, and the
 * server refuses an input over its payload limit (2 MB by default, `limit.blobSize.error`) by ending the run: a goal or
 * an agent whose state outgrew it would be closed with its work inside. Every change that could make the state grow is
 * weighed first (docs/DECISIONS.md, "State that always fits").
 */
import { fail } from './errors';

/**
 * The most a workflow's continue-as-new input may weigh after a change that stores long text, in bytes of JSON; small
 * changes may use RESERVE_BYTES more, which still leaves a quarter of a megabyte under the server's 2 MB.
 */
export const STATE_BYTES_MAX = 1_536 * 1024;

/** Bytes of `value` as UTF-8 JSON (what the payload converter sends). */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value) ?? '';
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    // Two bytes below U+0800, three above; a surrogate pair (two chars) is four bytes, two for each half.
    bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

/** Bytes as people read them: "1.42 MB". */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

/** What a change that stores `input` may add to the state: twice its JSON (field names, escapes) and 1 KiB. */
export function growthOf(input: unknown, items = 0): number {
  return 2 * jsonBytes(input) + 1024 + ITEM_BYTES * items;
}

/**
 * The worker's warning threshold for one payload it sends (a continue-as-new input, say): above what a state within
 * its budget may weigh (STATE_BYTES_MAX + RESERVE_BYTES), under the server's 2 MiB limit. The SDK's default of 512 KiB
 * warned on every continue-as-new of a goal past about 900 tasks, all within budget.
 */
export const PAYLOAD_WARN_BYTES = 1_856 * 1024;
/**
 * The worker's warning threshold for a memo: an agent's board row carries up to ten planned and ten recent tasks with
 * their titles (up to about 12 KB); the SDK's default is 2 KiB. Only the warning moves: the server's limit stays.
 */
export const MEMO_WARN_BYTES = 16 * 1024;

/** A task's own fields beside the text it was given (about 520 bytes measured; the rest is margin). */
export const ITEM_BYTES = 640;

/** A change that may add at most this much (a completion with a short result, a plain message) is a small one. */
export const SMALL_CHANGE_BYTES = 4 * 1024;
/** Room above the limit kept for small changes only, so a goal full of text can still be worked to the end. */
export const RESERVE_BYTES = 256 * 1024;

/**
 * Keeps an upper bound of the state's weight and refuses a change that could take it past `max` — or, for a small
 * change, past `max + reserve`: long text is refused first, and the work already in a full goal can still be
 * completed. The state is weighed exactly only when the bound comes near the limit, so a small goal never pays for it.
 * Changes that only shrink or move the state (a claim, an acknowledgement) declare no growth and are never refused: a
 * full mailbox can always be emptied.
 */
export class StateBudget {
  private bound: number | undefined;

  constructor(
    private readonly weigh: () => number,
    private readonly refusal: (bytes: number, max: number) => string,
    private readonly max = STATE_BYTES_MAX,
    private readonly reserve = RESERVE_BYTES,
  ) {}

  /** Throws INVALID_ARGUMENT when a change that may add `growth` bytes could take the state past its ceiling. */
  check(growth: number): void {
    if (growth <= 0) return;
    const ceiling = growth <= SMALL_CHANGE_BYTES ? this.max + this.reserve : this.max;
    if (this.bound === undefined || this.bound + growth > ceiling) this.bound = this.weigh();
    if (this.bound + growth > ceiling) fail('INVALID_ARGUMENT', this.refusal(this.bound, ceiling));
  }

  /** Counts a change that may have added `growth` bytes as applied. */
  applied(growth: number): void {
    if (this.bound !== undefined && growth > 0) this.bound += growth;
  }
}
