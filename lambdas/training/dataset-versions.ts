import type { DatasetManifest } from '../datasets/pipeline.js';
import { InvalidInputError } from '../domain/index.js';
import type { ArtifactStore } from '../ports/artifact-store.js';

/** What training reads of a dataset manifest (older manifests may lack the splits). */
export type ManifestSummary = Pick<DatasetManifest, 'version' | 'createdAt'> & {
  splits?: Pick<DatasetManifest['splits'], 'train' | 'test'>;
};

export type TrainingDatasetKind = 'instruct' | 'preference';

/** The named dataset version (it must exist), or the newest one by creation time. */
export async function datasetManifest(
  artifacts: ArtifactStore,
  kind: TrainingDatasetKind,
  version: string | undefined,
): Promise<ManifestSummary> {
  return version ? namedManifest(artifacts, kind, version) : newestManifest(artifacts, kind);
}

async function namedManifest(
  artifacts: ArtifactStore,
  kind: TrainingDatasetKind,
  version: string,
): Promise<ManifestSummary> {
  const text = await artifacts.read(`datasets/${kind}/${version}/manifest.json`);
  if (text === undefined) {
    throw new InvalidInputError(`no ${kind} dataset ${version} in ${artifacts.location}`, `${kind}Version`);
  }
  return JSON.parse(text) as ManifestSummary;
}

async function newestManifest(artifacts: ArtifactStore, kind: TrainingDatasetKind): Promise<ManifestSummary> {
  const manifests = (await artifacts.list(`datasets/${kind}/`)).filter((key) =>
    /^datasets\/[a-z]+\/[0-9a-f]+\/manifest\.json$/u.test(key),
  );
  let newest: ManifestSummary | undefined;
  for (const key of manifests) {
    const text = await artifacts.read(key);
    if (!text) continue;
    const manifest = JSON.parse(text) as ManifestSummary;
    if (!newest || manifest.createdAt > newest.createdAt) newest = manifest;
  }
  if (!newest) {
    throw new InvalidInputError(
      `no ${kind} dataset in ${artifacts.location} yet; run the dataset workflow first`,
      `${kind}Version`,
    );
  }
  return newest;
}
