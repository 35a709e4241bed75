/**
 * npm run bench:generate — the local generator (llama.cpp in process) on this machine: model load
 * time, time to first token with prompts of about 1k and 4k tokens, and tokens per second while
 * writing, through the adapter the product uses (LlamaCppChatModel.stream) next to node-llama-cpp's
 * bare LlamaCompletion on the same model, prompt, sampling and thread count. Medians of RUNS runs,
 * interleaved; the adapter should keep at least 0.9x the bare library's throughput.
 *
 * Models: BENCH_GGUF (comma-separated files), else the CI's Gemma 3 270M and, when it was pulled,
 * the README's default model.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LlamaCppChatModel } from '../../lambdas/adapters/llm/llama-cpp/chat-model.js';
import { LocalLlm } from '../../lambdas/adapters/llm/llama-cpp/local-llm.js';
import { leaseLocalLlm } from '../../lambdas/adapters/llm/llama-cpp/shared.js';
import { formatTwinPrompt } from '../../lambdas/adapters/llm/twin-prompt.js';
import type { ChatPrompt } from '../../lambdas/ports/chat-model.js';
import { DEFAULT_LOCAL_GENERATOR, localModelFile } from '../../lambdas/settings/local-model.js';
import { REFERENCE_WAREHOUSE_DIR } from '../support/environment.js';
import { TEST_GGUF, TEST_MODELS_DIR } from '../support/models.js';
import { median } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ANSWER_TOKENS = Number(process.env.BENCH_ANSWER_TOKENS ?? 128);
const CONTEXT = 8192;
const PROMPT_SIZES = [1000, 4000];
const SAMPLING = { temperature: 0, topP: 1, repetitionPenalty: 1.1 };

interface Timing {
  firstTokenMs: number;
  tokensPerSecond: number;
  tokens: number;
}

/** About `tokens` tokens of the reference corpus's prose, as the retrieved context of a request. */
async function promptOf(tokens: number, llm: LocalLlm): Promise<ChatPrompt> {
  const articles = JSON.parse(
    await readFile(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'), 'utf8'),
  ) as { content: { Content?: string } }[];
  const words = articles.flatMap((article) => (article.content.Content ?? '').split(/\s+/u));
  let context = '';
  for (let taken = 200; ; taken += 200) {
    context = words.slice(0, taken).join(' ');
    if (llm.countTokens(context) >= tokens) break;
  }
  return {
    system: 'Write in the voice of the author of the context.',
    user: `Request: a post about RAG.\n\nContext:\n${context}`,
  };
}

/** Times one streamed answer: from the call to the first piece, then pieces per second after it. */
async function timeStream(write: (onToken: () => void) => Promise<unknown>): Promise<Timing> {
  const started = performance.now();
  let first = 0;
  let last = 0;
  let tokens = 0;
  await write(() => {
    last = performance.now();
    if (tokens === 0) first = last;
    tokens += 1;
  });
  return {
    firstTokenMs: first - started,
    tokensPerSecond: tokens > 1 ? (tokens - 1) / ((last - first) / 1000) : 0,
    tokens,
  };
}

async function bench(file: string): Promise<void> {
  const settings = { file, contextSize: CONTEXT, sequences: 1 };
  const loads: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const llm = await LocalLlm.load(settings);
    loads.push(performance.now() - started);
    await llm.close();
  }

  const lease = await leaseLocalLlm(settings);
  const adapter = new LlamaCppChatModel(lease, {
    ...SAMPLING,
    maxNewTokens: ANSWER_TOKENS,
    timeoutMs: 600_000,
  });
  const library = await import('node-llama-cpp');
  const llama = await library.getLlama({ gpu: false, build: 'never', logLevel: library.LlamaLogLevel.error });
  llama.maxThreads = llama.cpuMathCores;
  const bareModel = await llama.loadModel({ modelPath: file });
  const bareContext = await bareModel.createContext({
    contextSize: CONTEXT,
    sequences: 1,
    threads: llama.cpuMathCores,
  });
  const bareSequence = bareContext.getSequence();

  console.log(
    `\n${lease.llm.name} (${file}), ${String(llama.cpuMathCores)} threads, ${String(RUNS)} runs each`,
  );
  console.log(`  load: median ${(median(loads) / 1000).toFixed(2)} s`);
  console.log('  prompt   first token (adapter / bare)   tokens/s (adapter / bare)   ratio');
  for (const size of PROMPT_SIZES) {
    const prompt = await promptOf(size, lease.llm);
    const promptTokens = lease.llm.countTokens(formatTwinPrompt(prompt));
    const adapterRuns: Timing[] = [];
    const bareRuns: Timing[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      adapterRuns.push(
        await timeStream(async (onToken) => {
          for await (const _piece of adapter.stream(prompt)) onToken();
        }),
      );
      bareRuns.push(
        await timeStream(async (onToken) => {
          await bareSequence.clearHistory();
          const completion = new library.LlamaCompletion({ contextSequence: bareSequence });
          await completion.generateCompletion(formatTwinPrompt(prompt), {
            maxTokens: ANSWER_TOKENS,
            temperature: 0,
            repeatPenalty: { penalty: SAMPLING.repetitionPenalty },
            customStopTriggers: ['### Instruction:', '### Response:'],
            onTextChunk: onToken,
          });
          completion.dispose({ disposeSequence: false });
        }),
      );
    }
    const first = (runs: Timing[]) => median(runs.map((timing) => timing.firstTokenMs)) / 1000;
    const speed = (runs: Timing[]) => median(runs.map((timing) => timing.tokensPerSecond));
    console.log(
      `  ${String(promptTokens).padStart(6)}   ${first(adapterRuns).toFixed(2)} s / ${first(bareRuns).toFixed(2)} s${' '.repeat(17)}` +
        `${speed(adapterRuns).toFixed(1)} / ${speed(bareRuns).toFixed(1)}${' '.repeat(17)}${(speed(adapterRuns) / speed(bareRuns)).toFixed(2)}x` +
        `   (${String(median(adapterRuns.map((timing) => timing.tokens)))} pieces written)`,
    );
  }
  await bareContext.dispose();
  await bareModel.dispose();
  await lease.release();
}

const defaultModel = localModelFile(DEFAULT_LOCAL_GENERATOR, TEST_MODELS_DIR).file;
const files = process.env.BENCH_GGUF?.split(',') ?? [
  TEST_GGUF,
  ...(existsSync(defaultModel) ? [defaultModel] : []),
];
for (const file of files) await bench(file);
