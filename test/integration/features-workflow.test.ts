import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionError, type StateMachine } from 'aws-local-stepfunctions';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { createFeaturesHandler } from '../../lambdas/handlers/features.js';
import type { Embedder } from '../../lambdas/ports/embedder.js';
import { startS3Simulator } from '../support/aws-simulators.js';
import { localWorkflow } from '../support/distributed-map.js';
import { post } from '../support/documents.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { referenceArticles } from '../support/reference-corpus.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';

type Json = Parameters<StateMachine['run']>[0];
const BUCKET = 'twin-artifacts';

describe.runIf(embeddingModelAvailable() && referenceCorpusAvailable())(
  'the feature workflow (statemachines/features.asl.json) run locally against the real handler',
  () => {
    let embedder: Embedder;
    let dir: string;
    let warehouse: EmbeddedWarehouse;
    let vectors: LanceVectorStore;
    let features: FeatureStore;
    let invocations: unknown[];
    let runWorkflow: (input: Json) => Promise<Json>;
    let s3: Awaited<ReturnType<typeof startS3Simulator>>;

    beforeAll(async () => {
      embedder = await realEmbedder();
      s3 = await startS3Simulator();
    });
    afterAll(async () => {
      await s3.close();
    });

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'twin-features-sfn-'));
      warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
      vectors = await LanceVectorStore.open(join(dir, 'vectors'));
      features = new FeatureStore(vectors, embedder.model);
      const shortest = referenceArticles()
        .sort((a, b) => (a.content.Content?.length ?? 0) - (b.content.Content?.length ?? 0))
        .slice(0, 5);
      const author = shortest[0];
      if (!author) throw new Error('no reference articles');
      const user = await warehouse.getOrCreateUser(
        { firstName: 'Paul', lastName: 'Iusztin' },
        author.authorId,
      );
      const sameAuthor = shortest.map((article) => ({
        ...article,
        authorId: user.id,
        authorFullName: 'Paul Iusztin',
      }));
      await warehouse.insertDocuments([
        ...sameAuthor,
        post(user, 'https://www.linkedin.com/posts/p-1'),
        post(user),
      ]);

      const artifacts = new S3ArtifactStore(s3.client, BUCKET);
      const handler = createFeaturesHandler(() =>
        Promise.resolve({ warehouse, features, embedder, artifacts }),
      );
      invocations = [];
      const invoke = async (input: unknown) => {
        invocations.push(input);
        return (await handler(input)) as unknown as Json;
      };
      const machine = localWorkflow(
        loadDefinition('features.asl.json', {
          FeaturesFunctionArn: FAKE_FUNCTION_ARN,
          ArtifactBucket: BUCKET,
        }),
        s3.client,
      );
      runWorkflow = (input) =>
        machine.run(input, {
          overrides: {
            taskResourceLocalHandlers: { PlanBatches: invoke, FeaturizeBatch: invoke, Summarize: invoke },
            retryIntervalOverrides: { PlanBatches: 0, FeaturizeBatch: 0, Summarize: 0 },
          },
        }).result;
    });

    afterEach(async () => {
      await vectors.close();
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('plans batches, featurises them and totals the run', async () => {
      const output = (await runWorkflow({ batchSize: 2 })) as Record<string, unknown>;

      expect(output).toMatchObject({
        documents: 7,
        processed: 7,
        unchanged: 0,
        batches: 4,
        failedBatches: [],
      });
      expect(output.featureStore).toMatchObject({ cleaned: { articles: 5, posts: 2, repositories: 0 } });
      const actions = invocations.map((event) => (event as { action: string }).action);
      expect(actions).toEqual(['plan', 'featurize', 'featurize', 'featurize', 'featurize', 'summarize']);
    });

    it('starts no batch when nothing changed since the last run', async () => {
      await runWorkflow({});
      invocations = [];

      const output = await runWorkflow({});

      expect(output).toMatchObject({ documents: 7, processed: 0, unchanged: 7, batches: 0 });
      expect(invocations.map((event) => (event as { action: string }).action)).toEqual(['plan', 'summarize']);
    });

    it('loads every other batch when one keeps failing, then fails the execution naming the cause', async () => {
      // A real misconfiguration: the posts collection was made for a 3-dimensional model.
      await vectors.ensureCollection({ name: 'embedded_posts', vectorSize: 3 });

      const execution = runWorkflow({ batchSize: 5 });

      await expect(execution).rejects.toBeInstanceOf(ExecutionError);
      await expect(execution).rejects.toThrow(/Some document batches failed after retries/u);
      const featurizeCalls = invocations.filter(
        (event) => (event as { action: string }).action === 'featurize',
      );
      // Articles in one batch; the posts batch is tried three times (two retries) before it is caught.
      expect(featurizeCalls).toHaveLength(4);
      expect((await features.counts()).cleaned).toEqual({ articles: 5, posts: 0, repositories: 0 });
    });

    it('writes each chunk once when a batch is delivered twice at once, as an Express child may be, and skips it after', async () => {
      const handler = createFeaturesHandler(() =>
        Promise.resolve({ warehouse, features, embedder, artifacts: new S3ArtifactStore(s3.client, BUCKET) }),
      );
      await features.ensureCollections();
      const ids: string[] = [];
      for await (const document of warehouse.streamDocuments({ category: 'articles' })) ids.push(document.id);
      const batch = { action: 'featurize', category: 'articles', documentIds: ids.slice(0, 2) };

      const [first] = (await Promise.all([handler(batch), handler(batch)])) as { chunks: number }[];
      const counts = await features.counts();
      const later = await handler(batch);

      expect(counts.cleaned.articles).toBe(2);
      expect(counts.embedded.articles).toBe(first?.chunks);
      expect(later).toMatchObject({ processed: 0, unchanged: 2 });
      expect(await features.counts()).toEqual(counts);
    });

    it('rejects a request with a misspelled field before doing any work', async () => {
      const execution = runWorkflow({ authorsIds: ['x'] });
      await expect(execution).rejects.toThrow('invalid event: request: Unrecognized key: "authorsIds"');
      expect(invocations).toHaveLength(1);
    });
  },
);
