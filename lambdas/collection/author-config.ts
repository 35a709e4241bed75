import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeZodIssues, firstFailingField, InvalidInputError } from '../domain/index.js';

/** An author and the links to collect for them (configs/authors/<name>.yaml). */
export const AuthorConfigSchema = z.strictObject({
  author: z.string().trim().min(1, 'must name the author (First Last)').max(200),
  links: z.array(z.string().trim().min(1)).min(1, 'must list at least one link').max(1000),
});
export type AuthorConfig = z.infer<typeof AuthorConfigSchema>;

export function parseAuthorConfig(text: string, source: string): AuthorConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `${source}: not valid YAML (${error instanceof Error ? error.message : String(error)})`,
      'config',
    );
  }
  const parsed = AuthorConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      `${source}: ${describeZodIssues(parsed.error).join('; ')}`,
      firstFailingField(parsed.error) ?? 'config',
    );
  }
  return parsed.data;
}

export async function readAuthorConfig(file: string): Promise<AuthorConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InvalidInputError(`cannot read author config ${file}`, 'config');
  }
  return parseAuthorConfig(text, file);
}

/** Every author config of a folder, in file-name order. */
export async function readAuthorConfigs(dir: string): Promise<{ file: string; config: AuthorConfig }[]> {
  const files = (await readdir(dir)).filter((name) => /\.ya?ml$/u.test(name)).sort();
  return Promise.all(files.map(async (file) => ({ file, config: await readAuthorConfig(join(dir, file)) })));
}
