/**
 * Idempotency keys that remember what they were used for. The MCP layer turns a caller's `request_id` into
 * `<request_id>~<digest>`, the digest being a hash of the tool, the caller and the arguments. Everything downstream uses
 * that string as before (as an Update id, or with a suffix such as `:claim`); whatever applies a keyed change splits it
 * back into the key and the digest, so a retry with the same arguments is answered with the first result, and the
 * same key with other arguments is refused with CONFLICT instead of silently answered with an unrelated result.
 *
 * Pure and deterministic (no Node APIs): the workflows use it too.
 */
import { fail } from './errors';

const MARK = '~';
const DIGEST_LENGTH = 8;
const HEX = /^[0-9a-f]{8}$/;

/** JSON with object keys sorted, so that two equal argument objects give one text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** 32-bit FNV-1a of the canonical JSON, as 8 hex digits. Not a security hash: it tells retries from new calls. */
export function argsDigest(value: unknown): string {
  const text = canonicalJson(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(DIGEST_LENGTH, '0');
}

/** The key a caller gave, with the digest of what it was given for. */
export function withDigest(requestId: string, args: unknown): string {
  return `${requestId}${MARK}${argsDigest(args)}`;
}

/**
 * Splits an id made by withDigest (possibly with a suffix added after it, as in `<id>~<digest>:claim`) into the key
 * (`<id>:claim`) and the digest. An id without a digest (made by the project itself, or recorded before digests)
 * is its own key and matches any arguments.
 */
export function splitRequestId(id: string): { key: string; digest?: string } {
  const at = id.lastIndexOf(MARK);
  if (at < 0) return { key: id };
  const digest = id.slice(at + 1, at + 1 + DIGEST_LENGTH);
  if (!HEX.test(digest)) return { key: id };
  return { key: id.slice(0, at) + id.slice(at + 1 + DIGEST_LENGTH), digest };
}

/** The `~<digest>` part of an id, to carry onto an id derived from it ('' when it has none). */
export function digestSuffix(id: string | undefined): string {
  const digest = id === undefined ? undefined : splitRequestId(id).digest;
  return digest === undefined ? '' : `${MARK}${digest}`;
}

/** The caller's own key, without the digest and without any suffix the project added after it. */
export function callerKey(id: string): string {
  const at = id.lastIndexOf(MARK);
  return at >= 0 && HEX.test(id.slice(at + 1, at + 1 + DIGEST_LENGTH)) ? id.slice(0, at) : splitRequestId(id).key;
}

/** Refuses a key already used with other arguments. */
export function refuseReusedKey(id: string): never {
  const key = callerKey(id);
  return fail(
    'CONFLICT',
    `request_id "${key}" was already used for a different call (other tool, caller or arguments). Use a new request_id for a new call; to retry the first call, send its arguments unchanged.`,
    { request_id: key },
  );
}

/** Whether two digests (either possibly absent) can stand for the same call. */
export function sameCall(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}
