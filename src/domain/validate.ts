import type { z } from 'zod';
import { DomainError } from './errors';

/** Formats zod issues as one sentence per field, e.g. `priority: Too big: expected number to be <=100`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(arguments)'}: ${issue.message}`)
    .join('; ');
}

/** Parses `value` or throws INVALID_ARGUMENT naming each bad field. */
export function parseOrFail<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new DomainError('INVALID_ARGUMENT', `Invalid ${what}: ${describeIssues(parsed.error)}.`, {
      issues: parsed.error.issues.slice(0, 8).map((i) => ({ path: i.path.map(String), message: i.message })),
    });
  }
  return parsed.data;
}
