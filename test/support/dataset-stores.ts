import { join } from 'node:path';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import type { Article } from '../../lambdas/domain/index.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';

/** A cleaned snapshot of the articles in an embedded store under `dir`, and an empty artifact folder. */
export async function cleanedArticleStores(dir: string, articles: readonly Article[]) {
  const vectors = await LanceVectorStore.open(join(dir, 'vectors'));
  const features = new FeatureStore(vectors, { id: 'test', size: 3, maxInputLength: 256 });
  await features.ensureCollections();
  await features.saveCleaned(
    'articles',
    articles.map((article) => cleanDocument(article, 'v1')),
  );
  return { vectors, features, artifacts: new FolderArtifactStore(join(dir, 'artifacts')) };
}
