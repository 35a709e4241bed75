import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sha256Of } from '../../adapters/llm/llama-cpp/gguf-file.js';
import { LocalLlm } from '../../adapters/llm/llama-cpp/local-llm.js';
import { formatTwinPrompt } from '../../adapters/llm/twin-prompt.js';
import { InvalidInputError } from '../../domain/index.js';
import type { LocalGeneratorSettings } from '../../settings/index.js';
import { runJobModule } from './python.js';

/** Prompts llama.cpp continues greedily; the imported model must pick the same tokens along the way. */
const REFERENCE_PROMPTS = [
  'Retrieval-augmented generation grounds a language model in documents it can cite.',
  formatTwinPrompt({ system: '', user: 'Explain why a vector database helps an LLM answer questions.' }),
  'The quick brown fox jumps over the lazy dog. In machine learning, a training loop',
  '# Fine-tuning\n\nWhen we fine-tune a model with LoRA, we',
];
const GREEDY_TOKENS = 24;
/** Texts both tokenizers must cut the same way: the layout the twin is trained and asked in, and a few edge cases. */
const TOKENIZATION_TEXTS = [
  formatTwinPrompt({ system: '', user: 'Write about feature pipelines.' }) +
    'A feature pipeline turns raw data into features.',
  'Naïve café — “quotes”, emoji 🚀, and code: `x = f(y)`;\n\n  indented line',
  '  leading spaces and numbers 3.14159 and 2026-12-07',
];

const ImportCheckSchema = z.object({
  architecture: z.string(),
  add_bos: z.boolean(),
  top1_agreement: z.number(),
  positions: z.number(),
  passed: z.boolean(),
});

export interface ImportedBase {
  gguf: string;
  sha256: string;
  /** The de-quantized model as a Hugging Face folder (what the training job loads). */
  folder: string;
  check: z.infer<typeof ImportCheckSchema>;
}

/**
 * The GGUF base as trainable weights, imported once per sha256 under `cacheDir` and checked against
 * llama.cpp (sagemaker/twin_training/gguf_import.py). A base that fails the check is refused with
 * its agreement and architecture; nothing is trained on it.
 */
export async function importBase(gguf: string, python: string, cacheDir: string): Promise<ImportedBase> {
  if (!gguf.endsWith('.gguf') || !existsSync(gguf)) {
    throw new InvalidInputError(
      `--base-model ${gguf}: the local twin trains on a GGUF file (the model llama.cpp serves); for a Hugging Face model use \`twin train sft --local --base-model <id>\``,
      'base-model',
    );
  }
  process.stderr.write(`Checking ${gguf}\n`);
  const sha256 = await sha256Of(gguf);
  const dir = join(cacheDir, sha256.slice(0, 16));
  const checkFile = join(dir, 'import-check.json');
  const folder = join(dir, 'model');
  const previous = await readCheck(checkFile);
  if (previous?.passed && existsSync(join(folder, 'config.json'))) {
    return { gguf, sha256, folder, check: previous };
  }
  await mkdir(dir, { recursive: true });
  const referenceFile = join(dir, 'reference.json');
  await writeFile(referenceFile, JSON.stringify(await llamaCppReference(gguf)));
  process.stderr.write(`Importing ${gguf} as trainable weights (once per base model)\n`);
  const run = await runJobModule(python, 'local_twin', [
    'import',
    '--gguf',
    gguf,
    '--reference',
    referenceFile,
    '--out',
    dir,
  ]);
  const check = await readCheck(checkFile);
  if (run.code !== 0 || !check?.passed) {
    throw new InvalidInputError(
      `${gguf} cannot be trained here: the importer refused it (its reason is above${check ? `; top-1 agreement with llama.cpp ${check.top1_agreement.toFixed(3)}, architecture ${check.architecture}` : ''})`,
      'base-model',
    );
  }
  return { gguf, sha256, folder, check };
}

async function readCheck(file: string): Promise<z.infer<typeof ImportCheckSchema> | undefined> {
  if (!existsSync(file)) return undefined;
  const parsed = ImportCheckSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/**
 * llama.cpp's greedy tokens for the fixed prompts (one in the Alpaca layout the twin is served in),
 * and its tokens for the fixed texts; with a twin's adapters when given.
 */
export async function llamaCppReference(gguf: string, twin?: LocalGeneratorSettings['twin']) {
  const llm = await LocalLlm.load({ file: gguf, contextSize: 512, sequences: 1, ...(twin ? { twin } : {}) });
  try {
    const cases = [];
    for (const prompt of REFERENCE_PROMPTS) {
      const tokens = llm.tokenizeAsServed(prompt);
      cases.push({ tokens, greedy: await llm.greedyTokens(tokens, GREEDY_TOKENS) });
    }
    const texts = TOKENIZATION_TEXTS.map((text) => ({ text, ids: llm.tokenizeAsServed(text) }));
    return { cases, texts };
  } finally {
    await llm.close();
  }
}
