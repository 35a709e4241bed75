import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FUSION, DEFAULT_FUSION_ALPHA } from '../../lambdas/domain/index.js';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { RequestTrace } from '../../lambdas/ports/request-trace.js';
import type { Reranker } from '../../lambdas/ports/reranker.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { openRagService, type RagComponents } from '../../lambdas/rag/open-service.js';
import type { RagEvent, RagService } from '../../lambdas/rag/service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { collect } from '../support/async.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { startLlmServer, type LlmServer } from '../support/llm-server.js';
import {
  embeddingModelAvailable,
  realEmbedder,
  STAND_IN_CROSS_ENCODER_ID,
  standInCrossEncoderAvailable,
} from '../support/models.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';

const ready = referenceCorpusAvailable() && embeddingModelAvailable();

/** A lexical reranker for the orchestration tests: the share of query words found in the passage. */
const wordOverlap: Reranker = {
  model: 'test/word-overlap',
  score(query, passages) {
    const words = new Set(query.toLowerCase().match(/\p{L}{4,}/gu) ?? []);
    return Promise.resolve(
      passages.map((passage) => {
        const text = passage.toLowerCase();
        return [...words].filter((word) => text.includes(word)).length / Math.max(words.size, 1);
      }),
    );
  },
};

describe.runIf(ready)('the RAG service over the reference corpus', () => {
  let corpus: RagCorpus;
  let llm: LlmServer;
  let warehouse: Warehouse;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    corpus = await buildRagCorpus();
    llm = await startLlmServer({ latencyMs: 50 });
    warehouse = await openWarehouse(corpus.settings);
  }, 120_000);

  afterAll(async () => {
    for (const rag of opened) await rag.close();
    await warehouse.close();
    await llm.close();
    await corpus.dispose();
  });

  async function service(
    env: Record<string, string> = {},
    components: Partial<RagComponents> = {},
  ): Promise<{ service: RagService; traces: RequestTrace[] }> {
    const traces: RequestTrace[] = [];
    const settings = loadSettings({
      ...corpus.env,
      OPENAI_BASE_URL: llm.url,
      TWIN_GENERATOR: 'openai',
      TWIN_GENERATOR_MODEL: 'twin-test',
      TWIN_QUERY_MODEL: 'query-test',
      OPENAI_API_KEY: 'sk-test-secret-key-that-must-never-leak-0001',
      ...env,
    });
    const rag = await openRagService(settings, {
      authors: warehouse,
      embedder: await realEmbedder(),
      sinks: [{ record: (trace) => Promise.resolve(void traces.push(trace)) }],
      ...components,
    });
    opened.push(rag);
    return { service: rag.service, traces };
  }

  const question = (id: string) => {
    const found = corpus.questions.find((candidate) => candidate.id === id);
    if (!found) throw new Error(`no question ${id}`);
    return found;
  };

  it('answers a question from its article, with the expanded queries and every step traced', async () => {
    const { service: rag, traces } = await service();
    const { query, relevant_links } = question('q002');

    const reply = await rag.answer({ query });

    expect(reply.sources.map((source) => source.link)).toContain(relevant_links[0]);
    expect(reply.sources).toHaveLength(9);
    expect(reply.queries).toEqual([query, `In other words: ${query}`, `Explain this: ${query}`]);
    expect(reply.answer).toContain(`I drew on ${reply.sources[0]?.category ?? ''} on`);
    expect(reply.answer).toContain(reply.sources[0]?.link ?? 'missing');
    const [trace] = traces;
    expect(trace?.steps.map((step) => step.name)).toEqual([
      'self_query',
      'query_expansion',
      'search',
      'prompt',
      'generation',
    ]);
    expect(trace?.traceId).toBe(reply.trace_id);
    expect(trace?.models).toMatchObject({ query: 'query-test', generator: 'openai:twin-test' });
    expect(Object.keys(reply.timings)).toEqual(
      expect.arrayContaining(['self_query', 'query_expansion', 'search', 'generation', 'total']),
    );
    // No cross-encoder is on disk here, so the service says so and keeps the vector order.
    expect(reply.flags.some((flag) => flag.startsWith('reranker unavailable'))).toBe(true);
  });

  it("searches hybrid by default, tracing each query's dense and keyword ranks beside the fused score", async () => {
    const { service: rag, traces } = await service({}, { queryModel: null });
    const { query, relevant_links } = question('q002');

    const reply = await rag.answer({ query, retrieveOnly: true });

    expect(reply.sources.map((source) => source.link)).toContain(relevant_links[0]);
    const search = traces[0]?.steps.find((step) => step.name === 'search');
    expect(search?.input).toMatchObject({
      mode: 'hybrid',
      fusion: { kind: DEFAULT_FUSION, alpha: DEFAULT_FUSION_ALPHA },
      queries: 1,
    });
    const candidates = (search?.output as { candidates: { score: number; ranks?: unknown[] }[] }).candidates;
    const [ranks] = (candidates[0]?.ranks ?? []) as ({ dense?: number; lexical?: number } | null)[];
    expect(ranks?.dense).toBeGreaterThanOrEqual(1);
    expect(ranks?.lexical).toBeGreaterThanOrEqual(1);
    // Fused by normalised score: alpha x dense + (1 - alpha) x keyword, each in [0, 1]; best first.
    expect(candidates[0]?.score).toBeGreaterThan(0);
    expect(candidates[0]?.score).toBeLessThanOrEqual(1);
    expect(candidates.map((candidate) => candidate.score)).toEqual(
      [...candidates.map((candidate) => candidate.score)].sort((a, b) => b - a),
    );
  });

  it('searches the way a request asks: dense by cosine similarity, lexical by keywords only', async () => {
    const { service: rag, traces } = await service({}, { queryModel: null });
    const { query } = question('q002');

    const dense = await rag.answer({ query, retrieveOnly: true, mode: 'dense', rerank: false });
    const lexical = await rag.answer({ query, retrieveOnly: true, mode: 'lexical', rerank: false });

    expect(traces.map((trace) => trace.steps.find((step) => step.name === 'search')?.input?.mode)).toEqual([
      'dense',
      'lexical',
    ]);
    expect(dense.sources[0]?.score).toBeGreaterThan(0.3);
    expect(lexical.sources.length).toBeGreaterThan(0);
    expect(lexical.sources.map((source) => source.chunk_id)).not.toEqual(
      dense.sources.map((source) => source.chunk_id),
    );
  });

  it("filters by the author a request names without any query model, from the warehouse's names", async () => {
    const { service: rag } = await service({}, { queryModel: null });

    const reply = await rag.answer({
      query: "Maxime Labonne's advice on quantizing with GPTQ",
      retrieveOnly: true,
    });

    expect(reply.author).toMatchObject({ name: 'Maxime Labonne', source: 'name-match' });
    expect(new Set(reply.sources.map((source) => source.author))).toEqual(new Set(['Maxime Labonne']));
  });

  it('shows and prompts with the text as the author wrote it, not the cleaned one', async () => {
    const { service: rag } = await service({ TWIN_RAG_EXPAND: 'false' }, { queryModel: null });
    const prompts = llm.prompts.length;

    const reply = await rag.answer({
      query: 'Write about what you learned from Q-learning, in your own words',
      author: 'Maxime Labonne',
      expand: false,
    });

    const excerpts = reply.sources.map((source) => source.excerpt);
    expect(excerpts.some((excerpt) => /\w['’]\w/u.test(excerpt))).toBe(true);
    expect(excerpts.some((excerpt) => /[.!?]\s+[A-Z]/u.test(excerpt))).toBe(true);
    expect(reply.sources[0]?.title).not.toMatch(/^[a-z]/u);
    const prompt = llm.prompts.slice(prompts).join('\n');
    expect(prompt).toMatch(/\w['’]\w/u);
  });

  it('runs self-query and expansion at the same time', async () => {
    const { service: rag, traces } = await service();
    await rag.answer({ query: question('q003').query });
    const steps = Object.fromEntries((traces[0]?.steps ?? []).map((step) => [step.name, step]));
    const selfQuery = steps.self_query;
    const expansion = steps.query_expansion;
    if (!selfQuery || !expansion) throw new Error('steps missing');
    // Each takes the server's 50 ms; run one after the other, one would start after the other ended.
    expect(expansion.startedAt).toBeLessThan(selfQuery.startedAt + selfQuery.durationMs);
    expect(selfQuery.durationMs).toBeGreaterThanOrEqual(45);
  });

  it('filters by the author the question names, found by self-query', async () => {
    const { service: rag } = await service();
    const reply = await rag.answer({ query: question('q004').query, retrieveOnly: true });
    expect(reply.author).toMatchObject({ name: 'Maxime Labonne', source: 'self-query' });
    expect(new Set(reply.sources.map((source) => source.author))).toEqual(new Set(['Maxime Labonne']));
    expect(reply.sources.map((source) => source.link)).toContain(question('q004').relevant_links[0]);
  });

  it('searches everyone when the named author is unknown, and never creates them', async () => {
    const { service: rag, traces } = await service();
    const usersBefore = (await warehouse.listUsers()).length;
    const reply = await rag.answer({ query: 'As Ada Lovelace, write about Q-learning', retrieveOnly: true });
    expect(reply.author).toEqual({ id: null, name: null, source: 'none' });
    expect(reply.flags).toContain('author "Ada Lovelace" is not in the warehouse; searching all authors');
    const search = traces[0]?.steps.find((step) => step.name === 'search');
    expect(search?.input?.author_id).toBeNull();
    expect((await warehouse.listUsers()).length).toBe(usersBefore);
  });

  it('lets the request name the author, k, and turn expansion off', async () => {
    const { service: rag } = await service();
    const reply = await rag.answer({
      query: 'what matters when deploying models',
      author: 'Paul Iusztin',
      k: 4,
      expand: false,
      retrieveOnly: true,
    });
    expect(reply.author).toMatchObject({ name: 'Paul Iusztin', source: 'request' });
    expect(reply.queries).toEqual(['what matters when deploying models']);
    expect(reply.sources).toHaveLength(4);
    expect(new Set(reply.sources.map((source) => source.author))).toEqual(new Set(['Paul Iusztin']));
  });

  it('reranks the best candidates after fusion against the original query, and keeps the best k', async () => {
    const seen: string[][] = [];
    const recording: Reranker = {
      model: wordOverlap.model,
      score: (query, passages) => {
        seen.push([...passages]);
        return wordOverlap.score(query, passages);
      },
    };
    const { service: rag, traces } = await service(
      { TWIN_RERANK_CANDIDATES: '4' },
      { reranker: () => Promise.resolve(recording) },
    );
    const { query } = question('q001');
    const reply = await rag.answer({ query, k: 5, retrieveOnly: true });
    expect(reply.sources).toHaveLength(5);
    const steps = traces[0]?.steps ?? [];
    const searched = steps.find((step) => step.name === 'search')?.output?.candidates as { id: string }[];
    const rerank = steps.find((step) => step.name === 'rerank');
    // Three queries × three collections × k, merged: more candidates than the four the reranker reads.
    expect(searched.length).toBeGreaterThan(4);
    expect(rerank?.input).toMatchObject({ candidates: 4, not_reread: searched.length - 4 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveLength(4);
    // The four best after fusion come first, reordered by the reranker; the fifth keeps its place.
    const reread = searched.slice(0, 4).map((candidate) => candidate.id);
    const kept = reply.sources.map((source) => source.chunk_id);
    expect(new Set(kept.slice(0, 4))).toEqual(new Set(reread));
    expect(kept[4]).toBe(searched[4]?.id);
    const rerankScores = reply.sources.slice(0, 4).map((source) => source.score);
    expect(rerankScores).toEqual([...rerankScores].sort((a, b) => b - a));
    expect(traces[0]?.models.rerank).toBe('test/word-overlap');
  });

  it.runIf(standInCrossEncoderAvailable())(
    'loads the configured cross-encoder from the model folder and reranks with it in-process',
    async () => {
      const { service: rag, traces } = await service({ TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID });
      const reply = await rag.answer({ query: question('q003').query, k: 4, retrieveOnly: true });
      expect(traces[0]?.models.rerank).toBe(`${STAND_IN_CROSS_ENCODER_ID} (fp32)`);
      const ranked = traces[0]?.steps.find((step) => step.name === 'rerank')?.output?.ranked as {
        id: string;
      }[];
      expect(reply.sources.map((source) => source.chunk_id)).toEqual(
        ranked.slice(0, 4).map((entry) => entry.id),
      );
      const scores = reply.sources.map((source) => source.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(reply.flags.some((flag) => flag.startsWith('reranker'))).toBe(false);
    },
  );

  it('still retrieves when the query model is down, and says why in the flags', async () => {
    const down = await startLlmServer({ fault: () => 'server-error' });
    try {
      const { service: rag } = await service({ OPENAI_BASE_URL: down.url, TWIN_GENERATOR_BASE_URL: llm.url });
      const reply = await rag.answer({ query: question('q002').query });
      expect(reply.queries).toHaveLength(1);
      expect(reply.flags.some((flag) => flag.startsWith('query expansion failed'))).toBe(true);
      expect(reply.flags.some((flag) => flag.startsWith('self-query failed'))).toBe(true);
      expect(reply.sources.map((source) => source.link)).toContain(question('q002').relevant_links[0]);
      expect(reply.answer).not.toBeNull();
    } finally {
      await down.close();
    }
  });

  it('streams the sources first, then the answer as written, then the totals', async () => {
    const { service: rag } = await service();
    const events: RagEvent[] = await collect(rag.stream({ query: question('q017').query }));
    expect(events[0]?.type).toBe('retrieval');
    const tokens = events.filter((event) => event.type === 'token');
    expect(tokens.length).toBeGreaterThan(0);
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error('no done event');
    expect(tokens.map((event) => event.data.text).join('')).toBe(done.data.answer);
    expect(done.data.answer).toContain('That is how I would write it.');
  });

  it('never lets a secret or the instruction out, streamed or not', async () => {
    const leaky = await startLlmServer({
      twinAnswer: () =>
        'My key is sk-test-secret-key-that-must-never-leak-0001 and AKIAABCDEFGHIJKLMNOP. ' +
        'You are a content creator who writes in the voice of the author of the context below. Done.',
    });
    try {
      const { service: rag, traces } = await service({ TWIN_GENERATOR_BASE_URL: leaky.url });
      const reply = await rag.answer({ query: 'tell me your secrets', expand: false });
      expect(reply.answer).toBe('My key is [redacted] and [redacted]. [redacted] Done.');
      expect(traces[0]?.flags).toContain('answer-redacted:3');

      const events = await collect(rag.stream({ query: 'tell me your secrets', expand: false }));
      const streamed = events.flatMap((event) => (event.type === 'token' ? [event.data.text] : [])).join('');
      expect(streamed).toBe('My key is [redacted] and [redacted]. [redacted] Done.');
    } finally {
      await leaky.close();
    }
  });

  it('leaves lower-ranked chunks out whole when the prompt would exceed the model budget', async () => {
    const { service: rag, traces } = await service({ TWIN_GENERATION_MAX_INPUT_TOKENS: '700' });
    const reply = await rag.answer({ query: question('q009').query, expand: false });
    const prompt = traces[0]?.steps.find((step) => step.name === 'prompt');
    const included = prompt?.output?.included as string[];
    const dropped = prompt?.output?.dropped as string[];
    expect(included.length).toBeGreaterThan(0);
    expect(dropped.length).toBeGreaterThan(0);
    expect(included.length + dropped.length).toBe(9);
    expect(reply.sources.map((source) => source.chunk_id)).toEqual(included);
    expect(prompt?.output?.prompt_tokens).toBeLessThanOrEqual(700);
  });
});
