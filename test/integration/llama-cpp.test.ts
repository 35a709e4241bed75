import { copyFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCppChatModel } from '../../lambdas/adapters/llm/llama-cpp/chat-model.js';
import { LlamaCppJsonModel } from '../../lambdas/adapters/llm/llama-cpp/json-model.js';
import { leaseLocalLlm, type LocalLlmLease } from '../../lambdas/adapters/llm/llama-cpp/shared.js';
import { formatTwinPrompt } from '../../lambdas/adapters/llm/twin-prompt.js';
import { GenerationError } from '../../lambdas/ports/chat-model.js';
import { expandQuery } from '../../lambdas/rag/query-expansion.js';
import { estimateTokens } from '../../lambdas/rag/prompt.js';
import { InvalidSettingsError, type LocalGeneratorSettings } from '../../lambdas/settings/index.js';
import { localModelAvailable, TEST_GGUF, TEST_GGUF_SHA256 } from '../support/models.js';

const SETTINGS: LocalGeneratorSettings = { file: TEST_GGUF, contextSize: 2048, sequences: 2 };
const SAMPLING = { temperature: 0, topP: 1, repetitionPenalty: 1.1, timeoutMs: 60_000 };
const PROMPT = {
  system: 'You are a content creator who writes in the voice of the author of the context below.',
  user: 'Request: Write a LinkedIn post about RAG evaluation.\n\nContext:\n[1] Evaluate retrieval and generation separately.',
};

describe.skipIf(!localModelAvailable())('the local generator on a real GGUF model (llama.cpp)', () => {
  let lease: LocalLlmLease;
  let twin: LlamaCppChatModel;

  beforeAll(async () => {
    lease = await leaseLocalLlm(SETTINGS);
    twin = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 24 });
  }, 60_000);
  afterAll(() => lease.release());

  it('streams the answer token by token, and the pieces are the answer', async () => {
    const pieces: string[] = [];
    const stream = twin.stream(PROMPT);
    let next = await stream.next();
    while (!next.done) {
      pieces.push(next.value);
      next = await stream.next();
    }
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join('')).toBe(next.value.text);
    expect(next.value.usage?.completionTokens).toBeGreaterThan(0);
    expect(next.value.usage?.completionTokens).toBeLessThanOrEqual(24);
    // A base model reads the Alpaca layout the twin is trained on; +1 for the beginning-of-text token.
    expect(next.value.usage?.promptTokens).toBe(lease.llm.countTokens(formatTwinPrompt(PROMPT)) + 1);
  }, 60_000);

  it('writes the same answer plainly at temperature 0', async () => {
    const streamed = await collectText(twin.stream(PROMPT));
    const plain = await twin.generate(PROMPT);
    expect(plain.text).toBe(streamed);
  }, 60_000);

  it('budgets the prompt with the model’s own tokenizer and context, leaving room for the answer', () => {
    const text = 'Retrieval-augmented generation (RAG) grounds answers in your own articles.';
    expect(twin.promptBudget.countTokens(text)).toBe(lease.llm.countTokens(text));
    expect(twin.promptBudget.countTokens(text)).not.toBe(estimateTokens(text));
    const frame = lease.llm.countTokens(formatTwinPrompt({ system: '', user: '' }));
    expect(twin.promptBudget.maxInputTokens).toBeLessThanOrEqual(2048 - 24 - frame);
    expect(twin.promptBudget.maxInputTokens).toBeGreaterThan(2048 - 24 - frame - 32);
    const narrowed = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 24, maxInputTokens: 700 });
    expect(narrowed.promptBudget.maxInputTokens).toBe(700);
  });

  it('stops generating when the request is aborted, and serves the next one', async () => {
    const long = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 2000 });
    const abort = new AbortController();
    let pieces = 0;
    const stream = long.stream(PROMPT, abort.signal);
    const failure = (async () => {
      for await (const _piece of stream) {
        pieces += 1;
        if (pieces === 3) abort.abort();
      }
    })();
    await expect(failure).rejects.toBeInstanceOf(GenerationError);
    expect(pieces).toBeLessThan(10);
    expect((await twin.generate(PROMPT)).text).not.toBe('');
  }, 60_000);

  it('stops generating when the reader stops reading', async () => {
    const long = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 2000 });
    const started = performance.now();
    for await (const _piece of long.stream(PROMPT)) break;
    // 2000 tokens would take far longer; the sequence is free again for the next request.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect((await twin.generate(PROMPT)).text).not.toBe('');
  }, 60_000);

  it('answers more requests than it has sequences: the rest wait their turn', async () => {
    const answers = await Promise.all(
      ['RAG evaluation', 'chunking articles', 'vector databases', 'fine-tuning with LoRA'].map((topic) =>
        twin.generate({ ...PROMPT, user: `Request: Write a post about ${topic}.` }),
      ),
    );
    for (const answer of answers) expect(answer.usage?.completionTokens).toBeGreaterThan(0);
  }, 120_000);

  it('times out a request that waits too long, as a generation timeout', async () => {
    const hasty = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 2000, timeoutMs: 1000 });
    await expect(hasty.generate(PROMPT)).rejects.toMatchObject({ name: 'GenerationError', kind: 'timeout' });
  }, 60_000);

  it('writes JSON of the asked shape, whatever the model would rather write', async () => {
    const json = new LlamaCppJsonModel(lease.llm, { maxTokens: 200, timeoutMs: 60_000 });
    const expansion = await expandQuery(json, 'How should I chunk articles for RAG?', 3);
    // The grammar holds the model to exactly two strings; blank or repeated rewrites are then dropped.
    const reply = await json.completeJson(
      'Rewrite "How should I chunk articles?" two ways as {"queries": [...]}',
      {
        type: 'object',
        properties: {
          queries: { type: 'array', items: { type: 'string', maxLength: 80 }, minItems: 2, maxItems: 2 },
        },
      },
    );
    const parsed = JSON.parse(reply.text) as { queries: string[] };
    expect(parsed.queries).toHaveLength(2);
    for (const query of parsed.queries) expect(query.length).toBeLessThanOrEqual(80);
    expect(expansion.queries[0]).toBe('How should I chunk articles for RAG?');
  }, 60_000);
});

describe.skipIf(!localModelAvailable())('a local model file that cannot be used', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-gguf-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const loadError = async (file: string, extra: Partial<LocalGeneratorSettings> = {}) => {
    const error = await leaseLocalLlm({ ...SETTINGS, file, ...extra }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(InvalidSettingsError);
    const message = (error as Error).message;
    expect(message).toContain(`TWIN_GENERATOR_GGUF: ${file}`);
    expect(message).toContain('twin models pull --generator');
    return message;
  };

  it('is missing', async () => {
    expect(await loadError(join(dir, 'absent.gguf'))).toContain('does not exist');
  });

  it('is not a GGUF file at all', async () => {
    const file = join(dir, 'page.gguf');
    await writeFile(file, '<!doctype html><title>Sign in to download</title>'.repeat(10));
    expect(await loadError(file)).toContain('is not a GGUF model (it starts with "<!do"');
  });

  it('was cut short in the download', async () => {
    const file = join(dir, 'truncated.gguf');
    await copyFile(TEST_GGUF, file);
    await truncate(file, 100_000_000);
    expect(await loadError(file)).toMatch(
      /could not be loaded by llama\.cpp \(.*(not within the file bounds|corrupted or incomplete)/u,
    );
  });

  it('is not the file its checksum names', async () => {
    const wrong = TEST_GGUF_SHA256.replace(/^a/u, 'b');
    expect(await loadError(TEST_GGUF, { sha256: wrong })).toContain(`not the ${wrong}`);
  }, 30_000);
});

async function collectText(stream: AsyncGenerator<string, unknown>): Promise<string> {
  let text = '';
  for await (const piece of stream) text += piece;
  return text;
}
