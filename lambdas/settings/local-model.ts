import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The local model `twin models pull --generator` fetches: Qwen2.5 1.5B Instruct in Q4_K_M (about
 * 1.1 GB, Apache-2.0). Instruction-tuned, so it also does self-query and query expansion.
 */
export const DEFAULT_LOCAL_GENERATOR = 'hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf';

/** Where GGUF models live inside the model folder. */
export function ggufDir(modelsDir: string): string {
  return join(modelsDir, 'gguf');
}

export interface LocalModelFile {
  file: string;
  hub?: { repo: string; path: string };
}

/**
 * A TWIN_GENERATOR_GGUF value as a file: a path as given (relative to the working directory), or
 * a Hub model `hf:owner/repo/file.gguf` at `<models>/gguf/owner/repo/file.gguf`, where
 * `twin models pull --generator` puts it.
 */
export function localModelFile(value: string, modelsDir: string): LocalModelFile {
  if (!value.startsWith('hf:')) return { file: resolve(value) };
  const [owner = '', name = '', ...rest] = value.slice('hf:'.length).split('/');
  const repo = `${owner}/${name}`;
  const path = rest.join('/');
  return { file: join(ggufDir(modelsDir), owner, name, ...rest), hub: { repo, path } };
}

/**
 * A GGUF model already in the model folder, when none is named: the default one if it was pulled,
 * else the first `.gguf` file found there (by path), else none.
 */
export function findLocalModel(modelsDir: string): LocalModelFile | undefined {
  const preferred = localModelFile(DEFAULT_LOCAL_GENERATOR, modelsDir);
  if (existsSync(preferred.file)) return preferred;
  const dir = ggufDir(modelsDir);
  if (!existsSync(dir)) return undefined;
  const found = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.gguf'))
    .sort();
  return found[0] === undefined ? undefined : { file: join(dir, found[0]) };
}
