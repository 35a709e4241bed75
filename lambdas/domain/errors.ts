import type { z } from 'zod';

/**
 * Raised when input from outside the process (a file, an event, an HTTP body, the environment)
 * fails validation. `field` names what is wrong so callers can report it (CLI line, HTTP 400 body).
 */
export class InvalidInputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One readable line per zod issue: `path.to.field: message`. */
export function describeZodIssues(error: z.ZodError, prefix?: string): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

/** The dotted path of the first failing field, for error responses that name one field. */
export function firstFailingField(error: z.ZodError): string | undefined {
  const [first] = error.issues;
  return first && first.path.length > 0 ? first.path.map(String).join('.') : undefined;
}
