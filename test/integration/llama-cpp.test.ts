import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LlamaCppChatModel } from '../../lambdas/adapters/llm/llama-cpp/chat-model.js';
import { LlamaCppJsonModel } from '../../lambdas/adapters/llm/llama-cpp/json-model.js';
import { leaseLocalLlm, type LocalLlmLease } from '../../lambdas/adapters/llm/llama-cpp/shared.js';
import { formatTwinPrompt } from '../../lambdas/adapters/llm/twin-prompt.js';
import { GenerationError } from '../../lambdas/ports/chat-model.js';
import { expandQuery } from '../../lambdas/rag/query-expansion.js';
import { estimateTokens } from '../../lambdas/rag/prompt.js';
import { InvalidSettingsError, type LocalGeneratorSettings } from '../../lambdas/settings/index.js';
import { REPO_ROOT } from '../support/environment.js';
import { localModelAvailable, TEST_GGUF, TEST_GGUF_SHA256, TEST_MODELS_DIR } from '../support/models.js';

const run = promisify(execFile);

const SETTINGS: LocalGeneratorSettings = { file: TEST_GGUF, contextSize: 2048, sequences: 2 };
const SAMPLING = { temperature: 0, topP: 1, repetitionPenalty: 1.1, timeoutMs: 120_000 };
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
  }, 180_000);
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
  }, 180_000);

  it('writes the same answer plainly at temperature 0', async () => {
    const streamed = await collectText(twin.stream(PROMPT));
    const plain = await twin.generate(PROMPT);
    expect(plain.text).toBe(streamed);
  }, 180_000);

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
  }, 180_000);

  it('stops generating when the reader stops reading', async () => {
    const long = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 2000 });
    const completions = vi.spyOn(lease.llm, 'complete');
    try {
      for await (const _piece of long.stream(PROMPT)) break;
      // The generation behind the stream was aborted, not left to write its 2000 tokens.
      await expect(completions.mock.results[0]?.value).rejects.toThrow('the reader stopped reading');
    } finally {
      completions.mockRestore();
    }
    expect((await twin.generate(PROMPT)).text).not.toBe('');
  }, 180_000);

  it('answers more requests than it has sequences: the rest wait their turn', async () => {
    const answers = await Promise.all(
      ['RAG evaluation', 'chunking articles', 'vector databases', 'fine-tuning with LoRA'].map((topic) =>
        twin.generate({ ...PROMPT, user: `Request: Write a post about ${topic}.` }),
      ),
    );
    for (const answer of answers) expect(answer.usage?.completionTokens).toBeGreaterThan(0);
  }, 240_000);

  it('times out a request that waits too long, as a generation timeout', async () => {
    const hasty = new LlamaCppChatModel(lease, { ...SAMPLING, maxNewTokens: 2000, timeoutMs: 1000 });
    await expect(hasty.generate(PROMPT)).rejects.toMatchObject({ name: 'GenerationError', kind: 'timeout' });
  }, 180_000);

  it('writes JSON of the asked shape, whatever the model would rather write', async () => {
    const json = new LlamaCppJsonModel(lease.llm, { maxTokens: 120, timeoutMs: 120_000 });
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
  }, 180_000);
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

  it('stops twin serve at start-up with the file and the fix, not a stack trace', async () => {
    const file = join(dir, 'download-page.gguf');
    await writeFile(file, '<!doctype html><title>Sign in to download</title>'.repeat(10));
    const failed = await run(process.execPath, [join(REPO_ROOT, 'bin', 'twin.js'), 'serve', '--port', '0'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TWIN_DATA_DIR: dir,
        TWIN_MODELS_DIR: TEST_MODELS_DIR,
        TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
        TWIN_GENERATOR: 'local',
        TWIN_GENERATOR_GGUF: file,
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`TWIN_GENERATOR_GGUF: ${file} is not a GGUF model`);
    expect(failed.stderr).not.toMatch(/^\s+at /mu);
  }, 180_000);

  it('is not the file its checksum names', async () => {
    const wrong = TEST_GGUF_SHA256.replace(/^a/u, 'b');
    expect(await loadError(TEST_GGUF, { sha256: wrong })).toContain(`not the ${wrong}`);
  }, 120_000);
});

async function collectText(stream: AsyncGenerator<string, unknown>): Promise<string> {
  let text = '';
  for await (const piece of stream) text += piece;
  return text;
}
