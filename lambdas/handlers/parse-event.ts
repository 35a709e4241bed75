import type { z } from 'zod';
import { describeZodIssues, firstFailingField, InvalidInputError } from '../domain/index.js';

/** Validates an incoming event; a bad one fails with every problem and the first bad field named. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown): z.output<S> {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(
      `invalid event: ${describeZodIssues(parsed.error).join('; ')}`,
      firstFailingField(parsed.error),
    );
  }
  return parsed.data;
}
