import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { RequestTrace } from '../../lambdas/ports/request-trace.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { openRagService } from '../../lambdas/rag/open-service.js';
import type { RagEvent } from '../../lambdas/rag/service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { collect } from '../support/async.js';
import { REPO_ROOT, referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, localModelAvailable, realEmbedder } from '../support/models.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';
import { startTwinServe } from '../support/twin-serve.js';

const run = promisify(execFile);
const ready = referenceCorpusAvailable() && embeddingModelAvailable() && localModelAvailable();

/**
 * No cloud model at all: the twin is found in the model folder (TWIN_GENERATOR=auto) and writes
 * with llama.cpp in process. Short answers keep the CPU time down.
 */
const OFFLINE = {
  TWIN_GENERATOR: 'auto',
  OPENAI_API_KEY: '',
  OPENAI_BASE_URL: '',
  TWIN_SAGEMAKER_ENDPOINT: '',
  TWIN_GENERATION_MAX_NEW_TOKENS: '40',
  TWIN_RAG_RERANK: 'false',
};

describe.runIf(ready)('the twin written by the local model, offline', () => {
  let corpus: RagCorpus;
  let warehouse: Warehouse;

  beforeAll(async () => {
    corpus = await buildRagCorpus();
    warehouse = await openWarehouse(corpus.settings);
  }, 300_000);
  afterAll(async () => {
    await warehouse.close();
    await corpus.dispose();
  });

  async function openService(env: Record<string, string>) {
    const traces: RequestTrace[] = [];
    const rag = await openRagService(loadSettings({ ...corpus.env, ...OFFLINE, ...env }), {
      authors: warehouse,
      embedder: await realEmbedder(),
      sinks: [{ record: (trace) => Promise.resolve(void traces.push(trace)) }],
    });
    return { ...rag, traces };
  }

  it('twin ask streams an answer written by the local model, then its sources, and exits 0', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'twin.js'), 'ask', 'Write a LinkedIn post about RAG evaluation', '--trace'],
      { cwd: REPO_ROOT, env: { ...process.env, ...corpus.env, ...OFFLINE } },
    );
    const [answer = ''] = stdout.split('\n\nSources (');
    expect(answer.trim()).not.toBe('');
    expect(stdout).toMatch(/\n\nSources \(all authors; 1 queries; trace [0-9a-f-]{36}\):/u);
    expect(stderr).toContain('"generator": "local:');
    // A base model follows no instructions: it is not asked for self-query or expansion.
    expect(stderr).not.toContain('"query": "local:');
  }, 240_000);

  it('twin serve streams tokens as they are written, and answers two requests at once', async () => {
    // Long enough that the answer guard's look-behind (220 characters) lets tokens out as they come.
    const serve = await startTwinServe([], {
      ...corpus.env,
      ...OFFLINE,
      TWIN_GENERATION_MAX_NEW_TOKENS: '150',
    });
    try {
      const ask = (query: string, stream: boolean) =>
        fetch(`${serve.url}/rag`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, stream, k: 3 }),
        });
      const streamed = await ask('Write a post about RAG evaluation', true);
      expect(streamed.status).toBe(200);
      const events = parseEvents(await streamed.text());
      expect(events[0]?.event).toBe('retrieval');
      const tokens = events.filter((event) => event.event === 'token');
      expect(tokens.length).toBeGreaterThan(3);
      const done = events.at(-1);
      expect(done?.event).toBe('done');
      const written = tokens.map((event) => (event.data as { text: string }).text).join('');
      expect((done?.data as { answer: string }).answer).toBe(written);

      const [first, second] = await Promise.all([
        ask('Write about chunking articles', false),
        ask('Write about LoRA fine-tuning', false),
      ]);
      for (const reply of [first, second]) {
        expect(reply.status).toBe(200);
        expect(((await reply.json()) as { answer: string }).answer.trim()).not.toBe('');
      }
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 300_000);

  it('leaves whole chunks out when the context is small, and the prompt fits the model', async () => {
    const rag = await openService({
      TWIN_GENERATOR_CONTEXT: '1024',
      TWIN_RAG_K: '9',
      TWIN_RAG_EXPAND: 'false',
    });
    try {
      const answer = await rag.service.answer({ query: 'How do I evaluate a RAG system?' });
      const prompt = rag.traces[0]?.steps.find((step) => step.name === 'prompt');
      const output = prompt?.output as { prompt_tokens: number; included: string[]; dropped: string[] };
      const input = prompt?.input as { chunks: number; max_input_tokens: number };
      expect(input.max_input_tokens).toBeLessThan(1024 - 40);
      expect(output.dropped.length).toBeGreaterThan(0);
      expect(output.included.length + output.dropped.length).toBe(input.chunks);
      expect(output.prompt_tokens).toBeLessThanOrEqual(input.max_input_tokens);
      expect(answer.sources.map((source) => source.chunk_id)).toEqual(output.included);
      expect(answer.answer?.trim()).not.toBe('');
    } finally {
      await rag.close();
    }
  }, 240_000);

  it('asks the local model for the author and the rewrites when told to, and reads every reply', async () => {
    // Auto leaves a base model out of self-query and expansion; TWIN_QUERY_BACKEND=local uses it anyway.
    const rag = await openService({ TWIN_QUERY_BACKEND: 'local', TWIN_RAG_EXPAND: 'true' });
    try {
      const query = 'Write like Maxime Labonne about fine-tuning LLMs';
      await rag.service.answer({ query, retrieveOnly: true });
      const trace = rag.traces[0];
      expect(trace?.models.query).toMatch(/^local:/u);
      const step = (name: string) => trace?.steps.find((candidate) => candidate.name === name)?.output;
      expect(['self-query', 'none']).toContain((step('self_query') as { source: string }).source);
      const { queries } = step('query_expansion') as { queries: string[] };
      expect(queries[0]).toBe(query);
      // The grammar holds replies to their JSON: none is unreadable, and nothing fell back.
      expect(trace?.flags.join('\n')).not.toMatch(/unreadable|failed/u);
    } finally {
      await rag.close();
    }
  }, 240_000);

  it('still redacts a secret the model writes, across token boundaries', async () => {
    const request = { query: 'Write a LinkedIn post about RAG evaluation', expand: false, k: 3 };
    const greedy = { TWIN_GENERATION_TEMPERATURE: '0' };
    const plain = await openService(greedy);
    const written = answerOf(await collect(plain.service.stream(request)));
    await plain.close();
    // Greedy decoding writes the same answer again; now part of it is a secret of this deployment.
    const secret = written.slice(Math.floor(written.length / 3), Math.floor(written.length / 3) + 12);
    expect(secret.trim().length).toBeGreaterThanOrEqual(8);
    const guarded = await openService({ ...greedy, HF_TOKEN: secret });
    try {
      const events = await collect(guarded.service.stream(request));
      const tokens = events.filter((event) => event.type === 'token');
      const sent = tokens.map((event) => event.data.text).join('');
      expect(sent).not.toContain(secret);
      expect(sent).toContain('[redacted]');
      expect(guarded.traces[0]?.flags).toContainEqual(expect.stringMatching(/^answer-redacted:\d+$/u));
    } finally {
      await guarded.close();
    }
  }, 300_000);
});

function answerOf(events: RagEvent[]): string {
  const done = events.find((event) => event.type === 'done');
  return done?.type === 'done' ? (done.data.answer ?? '') : '';
}

function parseEvents(body: string): { event: string; data: unknown }[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.+)$/mu.exec(block)?.[1] ?? '';
      const data = /^data: (.+)$/mu.exec(block)?.[1] ?? 'null';
      return { event, data: JSON.parse(data) as unknown };
    });
}
