import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InvalidSettingsError } from '../../../settings/index.js';

/** Every GGUF file starts with these four bytes. */
const GGUF_MAGIC = 'GGUF';
/** The smallest header: magic, version, tensor count and metadata count. */
const GGUF_HEADER_BYTES = 24;

/** What to do about a local model that cannot be used, said once in every message. */
export const LOCAL_MODEL_FIX =
  'run `npx twin models pull --generator` for the default model, or point TWIN_GENERATOR_GGUF at a GGUF file';

/** A local model file that cannot be used: a settings problem, reported as TWIN_GENERATOR_GGUF. */
export function localModelProblem(file: string, problem: string): InvalidSettingsError {
  return new InvalidSettingsError([`TWIN_GENERATOR_GGUF: ${file} ${problem}; ${LOCAL_MODEL_FIX}`]);
}

/**
 * Checks a GGUF file before llama.cpp maps it: present, a GGUF at all, and the expected bytes when a
 * sha256 is given. A truncated file passes here and fails at load, where llama.cpp says so.
 */
export async function checkGgufFile(file: string, sha256?: string): Promise<void> {
  const problem = await ggufProblem(file, sha256);
  if (problem !== undefined) throw localModelProblem(file, problem);
}

/** What is wrong with a GGUF file, in words that follow its name; undefined when nothing is. */
export async function ggufProblem(file: string, sha256?: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return 'does not exist';
  if (info.size < GGUF_HEADER_BYTES) return `is ${String(info.size)} bytes, not a model`;
  const handle = await open(file, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    const magic = buffer.toString('latin1');
    if (magic !== GGUF_MAGIC)
      return `is not a GGUF model (it starts with ${JSON.stringify(magic)}, not "GGUF")`;
  } finally {
    await handle.close();
  }
  if (sha256 !== undefined) {
    const actual = await sha256Of(file);
    if (actual !== sha256) {
      return `has sha256 ${actual}, not the ${sha256} TWIN_GENERATOR_GGUF_SHA256 expects (a partial or different download?)`;
    }
  }
  return undefined;
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const block of createReadStream(file)) hash.update(block as Buffer);
  return hash.digest('hex');
}
