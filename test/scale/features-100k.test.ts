import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { Point, VectorStore } from '../../lambdas/ports/vector-store.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { createFeaturesHandler } from '../../lambdas/handlers/features.js';
import type { Embedder } from '../../lambdas/ports/embedder.js';
import { startS3Simulator } from '../support/aws-simulators.js';
import { localWorkflow } from '../support/distributed-map.js';
import { post } from '../support/documents.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';
import { qdrantVectorStores, type VectorStoreFixture } from '../support/vector-stores.js';

/**
 * The feature workflow at 100,000 changed documents, run locally from statemachines/features.asl.json
 * through the Distributed Map shim: planning writes 6,250 batches to the item file, the Map runs them
 * all, the summary reads their results back from S3, and no state's input or output passes Step
 * Functions' 256 KiB (the shim checks every one). The warehouse is the embedded one, the feature
 * store a real Qdrant server; only the embedding model is replaced, by a fast deterministic stand-in,
 * for this test alone: it is the pipeline's plumbing at scale that is under test, not the model.
 */

const DOCUMENTS = 100_000;
const BATCH_SIZE = 16;

/** A hash of the text as an 8-dimensional unit vector: the same text, the same vector. */
function hashedVector(text: string): number[] {
  const digest = createHash('sha256').update(text).digest();
  const values = Array.from({ length: 8 }, (_, i) => digest.readInt16BE(i * 2) / 32768);
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

const standInEmbedder = (embedded: string[]): Embedder => ({
  model: { id: 'test/hashed-8', size: 8, maxInputLength: 256 },
  tokenizer: {
    maxInputTokens: 256,
    specialTokens: 2,
    countTokens: (text) => text.split(/\s+/u).filter(Boolean).length,
  },
  embed: (texts) => {
    embedded.push(...texts);
    return Promise.resolve(texts.map(hashedVector));
  },
});

/** The store as the pipeline sees it, counting how often each point id is written per collection. */
function countingWrites(store: VectorStore, writes: Map<string, number>): VectorStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'upsert') {
        return (collection: string, points: readonly Point[]) => {
          for (const point of points) {
            const key = `${collection}/${point.id}`;
            writes.set(key, (writes.get(key) ?? 0) + 1);
          }
          return target.upsert(collection, points);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const qdrant = qdrantVectorStores();

describe.runIf(qdrant.available)(
  'the feature workflow at 100,000 documents (Distributed Map, locally)',
  () => {
    let dir: string;
    let warehouse: EmbeddedWarehouse;
    let vectors: VectorStoreFixture;
    let s3: Awaited<ReturnType<typeof startS3Simulator>>;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'twin-features-100k-'));
      warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
      vectors = await qdrant.create();
      s3 = await startS3Simulator();
      const user = await warehouse.getOrCreateUser({ firstName: 'Paul', lastName: 'Iusztin' });
      for (let start = 0; start < DOCUMENTS; start += 10_000) {
        const documents = Array.from({ length: 10_000 }, (_, i) =>
          post(user, `https://www.linkedin.com/posts/p-${String(start + i)}`),
        );
        await warehouse.insertDocuments(documents);
      }
    }, 120_000);

    afterAll(async () => {
      await s3.close();
      await vectors.dispose();
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('plans 6,250 batches into the item file, runs them all and writes every chunk exactly once, within the payload limit', async () => {
      const embedded: string[] = [];
      const embedder = standInEmbedder(embedded);
      const writes = new Map<string, number>();
      const features = new FeatureStore(countingWrites(vectors.isolated(), writes), embedder.model);
      const artifacts = new S3ArtifactStore(s3.client, 'artifacts');
      const handler = createFeaturesHandler(() =>
        Promise.resolve({ warehouse, features, embedder, artifacts }),
      );
      const calls = { plan: 0, featurize: 0, summarize: 0 };
      const invoke = async (input: unknown) => {
        calls[(input as { action: keyof typeof calls }).action] += 1;
        return (await handler(input)) as never;
      };
      const workflow = localWorkflow(
        loadDefinition('features.asl.json', {
          FeaturesFunctionArn: FAKE_FUNCTION_ARN,
          ArtifactBucket: 'artifacts',
        }),
        s3.client,
      );

      const started = performance.now();
      const output = (await workflow.run(
        { batchSize: BATCH_SIZE },
        {
          overrides: {
            taskResourceLocalHandlers: { PlanBatches: invoke, FeaturizeBatch: invoke, Summarize: invoke },
          },
        },
      ).result) as Record<string, unknown>;
      const seconds = (performance.now() - started) / 1000;
      console.info(
        `${String(DOCUMENTS)} documents: ${String(calls.featurize)} batches in ${seconds.toFixed(1)} s (${((seconds * 1000) / calls.featurize).toFixed(2)} ms per batch locally)`,
      );

      const batches = DOCUMENTS / BATCH_SIZE;
      expect(output).toMatchObject({
        documents: DOCUMENTS,
        processed: DOCUMENTS,
        batches,
        failedBatches: [],
        failedBatchCount: 0,
      });
      expect(calls).toEqual({ plan: 1, featurize: batches, summarize: 1 });
      // The batches went through the item file, not the payload: 6,250 batches of 16 ids is over 3 MB.
      const itemFile = [...s3.objects.entries()].find(([key]) => key.endsWith('/batches.json'));
      expect(itemFile?.[1].body.length).toBeGreaterThan(3 * 1024 * 1024);
      // Every chunk embedded once and written once, and all of them are in the store.
      const chunks = Number(output.chunks);
      expect(chunks).toBeGreaterThanOrEqual(DOCUMENTS);
      expect(embedded).toHaveLength(chunks);
      const chunkWrites = [...writes].filter(([key]) => key.includes('embedded_'));
      expect(chunkWrites).toHaveLength(chunks);
      expect(chunkWrites.filter(([, times]) => times !== 1)).toEqual([]);
      expect(output.featureStore).toMatchObject({
        cleaned: { posts: DOCUMENTS },
        embedded: { posts: chunks },
      });
    }, 900_000);
  },
);
