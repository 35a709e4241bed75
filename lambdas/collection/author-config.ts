import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseYamlInput } from '../shared/yaml-input.js';
import { InvalidInputError } from '../domain/index.js';

/** An author and the links to collect for them (configs/authors/<name>.yaml). */
export const AuthorConfigSchema = z.strictObject({
  author: z.string().trim().min(1, 'must name the author (First Last)').max(200),
  links: z.array(z.string().trim().min(1)).min(1, 'must list at least one link').max(1000),
});
export type AuthorConfig = z.infer<typeof AuthorConfigSchema>;

export function parseAuthorConfig(text: string, source: string): AuthorConfig {
  return parseYamlInput(text, source, AuthorConfigSchema, 'config');
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
/** Where configs/authors is copied in the continuous-training authors function's bundle. */
export const BUNDLED_AUTHOR_CONFIGS = 'authors';

export async function readAuthorConfigs(dir: string): Promise<{ file: string; config: AuthorConfig }[]> {
  const files = (await readdir(dir)).filter((name) => /\.ya?ml$/u.test(name)).sort();
  return Promise.all(files.map(async (file) => ({ file, config: await readAuthorConfig(join(dir, file)) })));
}
