import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { HuggingFaceDatasetHub } from '../../lambdas/adapters/hub/huggingface.js';
import { OpenAiJsonModel } from '../../lambdas/adapters/llm/openai-json.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { buildDataset, type DatasetResult } from '../../lambdas/datasets/pipeline.js';
import { publishDataset } from '../../lambdas/datasets/publish.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { TEST_DATASET_SETTINGS } from '../support/dataset-settings.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { startHubServer, type HubServer } from '../support/hub-server.js';
import { startLlmServer, type LlmServer } from '../support/llm-server.js';
import { referenceArticles } from '../support/reference-corpus.js';

const TOKEN = 'hf_testtokenwithwriteaccess0000000000';

describe.runIf(referenceCorpusAvailable())('publishing a dataset version to the Hugging Face Hub', () => {
  let dir: string;
  let llm: LlmServer;
  let artifacts: FolderArtifactStore;
  let dataset: DatasetResult;
  const hubs: HubServer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-publish-'));
    llm = await startLlmServer();
    const model = await OpenAiJsonModel.create({
      ...TEST_DATASET_SETTINGS,
      baseUrl: `${llm.url}/v1`,
      apiKey: 'k',
    });
    const vectors = await LanceVectorStore.open(join(dir, 'vectors'));
    const features = new FeatureStore(vectors, { id: 'test', size: 3, maxInputLength: 256 });
    await features.ensureCollections();
    await features.saveCleaned(
      'articles',
      referenceArticles()
        .slice(0, 2)
        .map((article) => cleanDocument(article, 'v1')),
    );
    artifacts = new FolderArtifactStore(join(dir, 'artifacts'));
    // Both articles whole: a train/test split needs at least two source documents.
    dataset = await buildDataset('instruct', { features, model, artifacts }, TEST_DATASET_SETTINGS);
    await vectors.close();
  });

  afterAll(async () => {
    for (const hub of hubs) await hub.close();
    await llm.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function hubAt(lfsThresholdBytes?: number) {
    const server = await startHubServer({
      token: TOKEN,
      ...(lfsThresholdBytes ? { lfsThresholdBytes } : {}),
    });
    hubs.push(server);
    const hub = await HuggingFaceDatasetHub.create({
      repo: 'ada/twin-instruct',
      token: TOKEN,
      private: true,
      hubUrl: server.url,
    });
    return { server, hub };
  }

  it('creates a private repository and commits the splits, the manifest and a card in one commit', async () => {
    const { server, hub } = await hubAt();
    const { version } = dataset.manifest;
    const published = await publishDataset(artifacts, hub, 'instruct', version);

    expect(published).toMatchObject({
      published: true,
      version,
      location: `${server.url}/datasets/ada/twin-instruct`,
    });
    const repository = server.repositories.get('ada/twin-instruct');
    expect(repository?.private).toBe(true);
    expect(repository?.commits).toEqual([`instruct dataset ${version}`]);
    expect(repository?.files.get(`data/${version}/train.jsonl`)).toBe(
      await artifacts.read(`${dataset.prefix}/train.jsonl`),
    );
    expect(repository?.files.get(`data/${version}/test.jsonl`)).toBe(
      await artifacts.read(`${dataset.prefix}/test.jsonl`),
    );
    expect(repository?.files.get(`data/${version}/manifest.json`)).toBe(
      await artifacts.read(`${dataset.prefix}/manifest.json`),
    );
    const card = repository?.files.get('README.md') ?? '';
    expect(card).toContain(`path: data/${version}/train.jsonl`);
    expect(card).toContain(
      `${String(dataset.manifest.splits.train)} train and ${String(dataset.manifest.splits.test)} test rows`,
    );
  });

  it('pushes a version only once', async () => {
    const { server, hub } = await hubAt();
    const { version } = dataset.manifest;
    await publishDataset(artifacts, hub, 'instruct', version);
    const again = await publishDataset(artifacts, hub, 'instruct', version);
    expect(again.published).toBe(false);
    expect(server.repositories.get('ada/twin-instruct')?.commits).toHaveLength(1);
  });

  it('sends large files through LFS, as the Hub asks', async () => {
    const { server, hub } = await hubAt(512);
    const { version } = dataset.manifest;
    await publishDataset(artifacts, hub, 'instruct', version);
    expect(server.requests).toContain('POST /datasets/ada/twin-instruct.git/info/lfs/objects/batch');
    expect(
      server.requests.filter((request) => request.startsWith('PUT /lfs-upload/')).length,
    ).toBeGreaterThan(0);
    expect(server.repositories.get('ada/twin-instruct')?.files.get(`data/${version}/train.jsonl`)).toBe(
      await artifacts.read(`${dataset.prefix}/train.jsonl`),
    );
  });

  it('refuses a version that is not in the artifact store, and a wrong token', async () => {
    const { hub } = await hubAt();
    await expect(publishDataset(artifacts, hub, 'preference', dataset.manifest.version)).rejects.toThrow(
      /no preference dataset .* run `twin dataset preference` first/u,
    );
    const { server } = await hubAt();
    const intruder = await HuggingFaceDatasetHub.create({
      repo: 'ada/twin-instruct',
      token: 'hf_wrong',
      private: true,
      hubUrl: server.url,
    });
    await expect(publishDataset(artifacts, intruder, 'instruct', dataset.manifest.version)).rejects.toThrow();
    expect(server.repositories.size).toBe(0);
  });
});
