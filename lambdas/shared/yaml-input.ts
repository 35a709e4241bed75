import { parse } from 'yaml';
import type { z } from 'zod';
import { describeZodIssues, firstFailingField, InvalidInputError } from '../domain/index.js';

/**
 * A YAML file a person writes or edits (an author config, the access policy), validated: broken
 * YAML or a wrong field is an InvalidInputError that names the file and the field. `field` is named
 * when no single field is at fault.
 */
export function parseYamlInput<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  field: string,
  whenEmpty?: unknown,
): z.infer<S> {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `${source}: not valid YAML (${error instanceof Error ? error.message : String(error)})`,
      field,
    );
  }
  const parsed = schema.safeParse(raw ?? whenEmpty);
  if (!parsed.success) {
    throw new InvalidInputError(
      `${source}: ${describeZodIssues(parsed.error).join('; ')}`,
      firstFailingField(parsed.error) ?? field,
    );
  }
  return parsed.data;
}
