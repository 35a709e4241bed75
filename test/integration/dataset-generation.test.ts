import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiJsonModel } from '../../lambdas/adapters/llm/openai-json.js';
import { buildDataset } from '../../lambdas/datasets/pipeline.js';
import { DatasetQualityError } from '../../lambdas/datasets/quality.js';
import { ModelAccessError } from '../../lambdas/ports/json-chat.js';
import { extractsOf } from '../../lambdas/datasets/extracts.js';
import { generateSamples } from '../../lambdas/datasets/generation.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import { TEST_DATASET_SETTINGS } from '../support/dataset-settings.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { startLlmServer, type Fault, type LlmServer } from '../support/llm-server.js';
import { referenceArticles } from '../support/reference-corpus.js';
import { cleanedArticleStores } from '../support/dataset-stores.js';

const SETTINGS = TEST_DATASET_SETTINGS;

const servers: LlmServer[] = [];
async function llm(
  fault?: (request: number) => Fault,
  extra: { retryAfterSeconds?: number; latencyMs?: number } = {},
) {
  const server = await startLlmServer({ ...(fault ? { fault } : {}), slowMs: 5_000, ...extra });
  servers.push(server);
  const model = await OpenAiJsonModel.create({
    ...SETTINGS,
    baseUrl: `${server.url}/v1`,
    apiKey: 'test-key',
  });
  return { server, model };
}

describe.runIf(referenceCorpusAvailable())(
  'dataset generation against a deterministic OpenAI-compatible server',
  () => {
    const articles = referenceArticles().slice(0, 3);
    const extracts = articles.flatMap((article) => extractsOf(cleanDocument(article, 'v1')));
    let dir: string;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'twin-dataset-'));
    });
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => server.close()));
      await rm(dir, { recursive: true, force: true });
    });

    /** A cleaned snapshot of the articles, and an empty artifact folder. */
    const datasetStores = () => cleanedArticleStores(dir, articles);

    it('splits articles into 1000-2000-character extracts that together hold the whole text', () => {
      for (const article of articles) {
        const cleaned = cleanDocument(article, 'v1');
        const own = extractsOf(cleaned);
        expect(own.map((extract) => extract.text).join(' ')).toBe(cleaned.content);
        for (const extract of own.slice(0, -1)) expect(extract.text.length).toBeLessThanOrEqual(2000);
      }
    });

    it('asks for five pairs per extract, counting malformed and incomplete replies instead of failing', async () => {
      const { server, model } = await llm((n) => (n === 2 ? 'malformed' : n === 3 ? 'incomplete' : 'ok'));
      const report = await generateSamples('instruct', model, extracts.slice(0, 6), 1);
      expect(report).toMatchObject({ requests: 6, malformed: 2, failed: 0 });
      expect(report.samples).toHaveLength(4 * 5);
      expect(report.usage.promptTokens).toBeGreaterThan(0);
      expect(server.requests).toBe(6);
    });

    it('retries 429 (honouring Retry-After) and 500 answers, and gives up on a request that times out', async () => {
      const { server, model } = await llm(
        (n) => (n === 1 ? 'rate-limit' : n === 3 ? 'server-error' : n >= 5 ? 'slow' : 'ok'),
        {
          retryAfterSeconds: 1,
        },
      );
      const started = Date.now();
      const report = await generateSamples('instruct', model, extracts.slice(0, 3), 1);
      // Extract 1: 429, then ok. Extract 2: 500, then ok. Extract 3: too slow, on every one of its 3 tries.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(report.samples).toHaveLength(2 * 5);
      expect(report).toMatchObject({ requests: 3, failed: 1, malformed: 0 });
      expect(report.failures[0]).toMatch(/timed out/iu);
      expect(server.requests).toBe(2 + 2 + 3);
    }, 30_000);

    it('stops at the first refused credential (401) instead of asking once per extract', async () => {
      const { server, model } = await llm(() => 'unauthorized', { latencyMs: 20 });

      const generation = generateSamples('instruct', model, extracts.slice(0, 30), 4);

      await expect(generation).rejects.toBeInstanceOf(ModelAccessError);
      await expect(generation).rejects.toThrow(
        /HTTP 401.*check OPENAI_API_KEY.*Stopped after \d+ of 30 requests/u,
      );
      // Only the requests already in flight when the first 401 came back follow it.
      expect(server.requests).toBeLessThanOrEqual(4);
    });

    it('fails a generation whose failures pass the threshold, and writes nothing', async () => {
      // One at a time: requests 1-3 and 10-12 answer 500, so extracts 1 and 7 fail on all three
      // tries: 2 of 9, more than 10%.
      const { model } = await llm((n) => (Math.floor((n - 1) / 3) % 3 === 0 ? 'server-error' : 'ok'));
      const { features, artifacts } = await datasetStores();

      const build = buildDataset(
        'instruct',
        { features, model, artifacts },
        { ...SETTINGS, concurrency: 1 },
        { limit: 9 },
      );

      await expect(build).rejects.toBeInstanceOf(DatasetQualityError);
      await expect(build).rejects.toThrow(
        /of 9 generation requests failed or were malformed .*TWIN_DATASET_MAX_FAILURE_RATE=0\.1/u,
      );
      expect(await artifacts.list('datasets/')).toEqual([]);
    });

    it('fails a dataset smaller than the minimum after curation, and writes nothing', async () => {
      const { model } = await llm();
      const { features, artifacts } = await datasetStores();

      const build = buildDataset(
        'instruct',
        { features, model, artifacts },
        { ...SETTINGS, minSamples: 1000 },
        { limit: 40 },
      );

      await expect(build).rejects.toThrow(
        /fewer than TWIN_DATASET_MIN_SAMPLES=1000; no dataset was written/u,
      );
      expect(await artifacts.list('datasets/')).toEqual([]);
    });

    it('splits by source document, so no document has samples on both sides', async () => {
      const { model } = await llm();
      const { features, artifacts } = await datasetStores();

      const { manifest, prefix } = await buildDataset('instruct', { features, model, artifacts }, SETTINGS, {
        limit: 40,
      });

      expect(manifest.splits.sharedDocuments).toBe(0);
      expect(manifest.splits.documents.test).toBeGreaterThanOrEqual(1);
      expect(manifest.splits.documents.train + manifest.splits.documents.test).toBe(manifest.sources.length);
      const instructions = async (split: string) =>
        new Set(
          ((await artifacts.read(`${prefix}/${split}.jsonl`)) ?? '')
            .split('\n')
            .filter(Boolean)
            .map((line) => (JSON.parse(line) as { instruction: string }).instruction),
        );
      const train = await instructions('train');
      expect([...(await instructions('test'))].filter((instruction) => train.has(instruction))).toEqual([]);
    });

    it('keeps up to `concurrency` requests in flight', async () => {
      const { server, model } = await llm(undefined, { latencyMs: 100 });
      await generateSamples('instruct', model, extracts.slice(0, 8), 4);
      expect(server.maxInFlight).toBe(4);
    });

    it('builds a curated, split, versioned preference dataset with its manifest, and finds it again on a re-run', async () => {
      const { model } = await llm();
      const { vectors, features, artifacts } = await datasetStores();

      const first = await buildDataset('preference', { features, model, artifacts }, SETTINGS, { limit: 10 });
      const stages = Object.fromEntries(first.manifest.counts.map((count) => [count.stage, count.total]));
      expect(stages.extracts).toBe(10);
      expect(stages.generated).toBe(50);
      // The paraphrased "extracted" answer of every extract is dropped; so are duplicate instructions.
      expect(stages['extracted answer found in its extract']).toBeLessThanOrEqual(40);
      expect(stages['exact and near-duplicate instructions removed']).toBeLessThan(
        stages['extracted answer found in its extract'] ?? 0,
      );
      expect(
        first.manifest.splits.train + first.manifest.splits.test + first.manifest.splits.decontaminated,
      ).toBe(stages['exact and near-duplicate instructions removed']);
      expect(first.manifest.generation).toMatchObject({
        model: 'gpt-4o-mini',
        promptVersion: 'dataset-prompts-v1',
        requests: 10,
      });
      expect(first.manifest.generation.estimatedCostUsd).toBeGreaterThan(0);
      expect(first.manifest.sources.every((source) => source.contentHash.length === 64)).toBe(true);

      const train = (await readFile(join(dir, 'artifacts', first.prefix, 'train.jsonl'), 'utf8'))
        .trim()
        .split('\n');
      const row = JSON.parse(train[0] ?? '{}') as Record<string, string>;
      expect(Object.keys(row)).toEqual(['prompt', 'chosen', 'rejected']);
      expect(train).toHaveLength(first.manifest.splits.train);

      const again = await buildDataset('preference', { features, model, artifacts }, SETTINGS, { limit: 10 });
      expect(again).toMatchObject({ reused: true, prefix: first.prefix });
      expect(again.manifest.createdAt).toBe(first.manifest.createdAt);
      await vectors.close();
    });
  },
);
