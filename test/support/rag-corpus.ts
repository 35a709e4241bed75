import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { readGoldenSet, type GoldenQuestion } from '../../lambdas/evaluation/retrieval.js';
import { runFeaturePipeline } from '../../lambdas/features/pipeline.js';
import { openFeatureServices } from '../../lambdas/features/services.js';
import { loadSettings, type Settings } from '../../lambdas/settings/index.js';
import { folderSource } from '../../lambdas/warehouse/sources.js';
import { importWarehouse } from '../../lambdas/warehouse/import.js';
import { REFERENCE_DATA_DIR, REFERENCE_WAREHOUSE_DIR } from './environment.js';
import { realEmbedder, TEST_MODELS_DIR } from './models.js';

/** Golden questions whose articles the RAG corpus holds (both authors; some name their author). */
export const RAG_QUESTION_IDS = ['q001', 'q002', 'q003', 'q004', 'q009', 'q017'];

export interface RagCorpus {
  dataDir: string;
  /** The environment a `twin` process needs to use this corpus offline. */
  env: Record<string, string>;
  settings: Settings;
  questions: GoldenQuestion[];
  dispose(): Promise<void>;
}

/**
 * A featurised local data folder for RAG tests: the reference users, the articles that answer
 * RAG_QUESTION_IDS and, as distractors, each author's three shortest other articles, embedded with
 * the real model into the embedded warehouse and vector store.
 */
export async function buildRagCorpus(): Promise<RagCorpus> {
  const dataDir = await mkdtemp(join(tmpdir(), 'twin-rag-'));
  const golden = await readGoldenSet(join(REFERENCE_DATA_DIR, 'golden', 'retrieval-dev.jsonl'));
  const questions = golden.filter((question) => RAG_QUESTION_IDS.includes(question.id));
  const wanted = new Set(questions.flatMap((question) => question.relevant_links));

  const articles = JSON.parse(
    await readFile(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'), 'utf8'),
  ) as { link: string; author_full_name: string; content: { Content?: string } }[];
  const byLength = [...articles].sort(
    (a, b) => (a.content.Content?.length ?? 0) - (b.content.Content?.length ?? 0),
  );
  const distractors = ['Paul Iusztin', 'Maxime Labonne'].flatMap((name) =>
    byLength.filter((article) => article.author_full_name === name && !wanted.has(article.link)).slice(0, 3),
  );
  const chosen = [...articles.filter((article) => wanted.has(article.link)), ...distractors];

  const exportDir = join(dataDir, 'export');
  await mkdir(exportDir);
  await writeFile(join(exportDir, 'ArticleDocument.json'), JSON.stringify(chosen));
  await copyFile(join(REFERENCE_WAREHOUSE_DIR, 'UserDocument.json'), join(exportDir, 'UserDocument.json'));

  const env = {
    TWIN_DATA_DIR: dataDir,
    TWIN_MODELS_DIR: TEST_MODELS_DIR,
    TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
    // The model folder holds the CI's GGUF model too; tests that generate with it say so.
    TWIN_GENERATOR: 'none',
  };
  const settings = loadSettings(env);
  const warehouse = await openWarehouse(settings);
  try {
    await importWarehouse(warehouse, folderSource(exportDir));
    const services = await openFeatureServices(settings, await realEmbedder());
    try {
      await runFeaturePipeline({ warehouse, features: services.features, embedder: services.embedder });
    } finally {
      await services.close();
    }
  } finally {
    await warehouse.close();
  }
  return {
    dataDir,
    env,
    settings,
    questions,
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}
