import { OnnxEmbedder } from '../adapters/embedder/onnx.js';
import { openVectorStore } from '../adapters/vector-store/index.js';
import { InvalidInputError, fullNameOf, splitFullName } from '../domain/index.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import type { Settings } from '../settings/index.js';
import { FeatureStore } from './feature-store.js';
import type { LexicalIndexing } from './lexical-terms.js';

/** The configured embedder and feature store, opened together (the store needs the model's dimension). */
export async function openFeatureServices(
  settings: Settings,
  embedder?: Embedder,
  indexing?: LexicalIndexing,
): Promise<{ embedder: Embedder; features: FeatureStore; close(): Promise<void> }> {
  const model = embedder ?? (await OnnxEmbedder.load(settings.embedding));
  const store = await openVectorStore(settings);
  return {
    embedder: model,
    features: new FeatureStore(store, model.model, indexing),
    close: () => store.close(),
  };
}

/** The feature store for reading snapshots only (no model is loaded). */
export async function openFeatureStoreForReading(
  settings: Settings,
): Promise<{ features: FeatureStore; close(): Promise<void> }> {
  const store = await openVectorStore(settings);
  return { features: new FeatureStore(store), close: () => store.close() };
}

/** Resolves author full names to user ids; an unknown name is an input error listing the known ones. */
export async function authorIdsByName(warehouse: Warehouse, names: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const user = await warehouse.findUserByName(splitFullName(name));
    if (!user) {
      const known = (await warehouse.listUsers()).map((known) => fullNameOf(known));
      throw new InvalidInputError(
        `unknown author "${name}"; the warehouse has ${known.length > 0 ? known.join(', ') : 'no authors yet (run twin warehouse import)'}`,
        'authors',
      );
    }
    ids.push(user.id);
  }
  return ids;
}
