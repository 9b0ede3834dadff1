/**
 * What `tools/list` shows of each tool. Agents pay for every byte of it in their context, so the listing keeps what a
 * model needs to call a tool well (names, types, enums, numeric bounds, descriptions, required fields) and leaves out
 * what the server checks anyway with a clear error (string patterns and lengths, list sizes) and the annotation hints
 * that only repeat MCP's defaults. Output schemas are listed only with AGENT_RUNTIME_OUTPUT_SCHEMAS=on, shallow (each
 * result field's name and type). Results themselves (`structuredContent`, and the same JSON as text) are the same
 * either way.
 */
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

type Json = Record<string, unknown>;

const INPUT_DROPS = new Set(['pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'propertyNames', '$schema']);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function mapValues(o: unknown, fn: (v: unknown) => unknown): Json {
  return isObject(o) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v)])) : {};
}

/** An input schema without the constraints the server enforces on its own. */
export function compactInput(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactInput);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (INPUT_DROPS.has(k)) continue;
    if (k === 'maximum' && v === Number.MAX_SAFE_INTEGER) continue;
    if (k === 'minimum' && v === Number.MIN_SAFE_INTEGER) continue;
    if (k === 'additionalProperties' && isObject(v) && Object.keys(v).length === 0) continue;
    out[k] = k === 'properties' || k === '$defs' ? mapValues(v, compactInput) : compactInput(v);
  }
  // A union of plain types (an id given as a string or a number) reads as one list of types.
  const plain = (a: unknown): boolean =>
    isObject(a) && Object.keys(a).every((k) => k === 'type' || k === 'minimum' || k === 'maximum');
  if (Array.isArray(out.anyOf) && out.anyOf.every(plain)) {
    const { anyOf, ...rest } = out;
    return { ...rest, type: typesOf({ anyOf }) };
  }
  return out;
}

/** The JSON types a schema allows, when it says (through `type` or a union of typed alternatives). */
function typesOf(node: unknown): string | string[] | undefined {
  if (!isObject(node)) return undefined;
  if (typeof node.type === 'string' || Array.isArray(node.type)) return node.type as string | string[];
  const alts = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
  if (!Array.isArray(alts)) return undefined;
  const all = new Set<string>();
  for (const a of alts) {
    const t = typesOf(a);
    if (t === undefined) return undefined;
    for (const x of Array.isArray(t) ? t : [t]) all.add(x);
  }
  return all.size === 1 ? [...all][0] : [...all];
}

/** An output schema reduced to its top-level fields and their types. */
export function shallowOutput(schema: Json): Json {
  const properties = mapValues(schema.properties, (p) => {
    const type = typesOf(p);
    return type === undefined ? {} : { type };
  });
  return { type: 'object', properties };
}

/** MCP's defaults for the hints: a tool is assumed to write, destructively, not idempotently, in an open world. */
const HINT_DEFAULTS = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
} as const;

/** The hints that say something: those that differ from MCP's defaults (the title is the tool's own). */
export function listedAnnotations(a: ToolAnnotations): ToolAnnotations {
  const out: ToolAnnotations = {};
  for (const key of Object.keys(HINT_DEFAULTS) as Array<keyof typeof HINT_DEFAULTS>) {
    // A read-only tool's destructive and idempotent hints are meaningless (MCP: only for tools that write).
    if (a.readOnlyHint === true && (key === 'destructiveHint' || key === 'idempotentHint')) continue;
    if (a[key] !== undefined && a[key] !== HINT_DEFAULTS[key]) out[key] = a[key];
  }
  return out;
}
