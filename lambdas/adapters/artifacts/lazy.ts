import type { ArtifactStore } from '../../ports/artifact-store.js';

/**
 * An artifact store opened on first use: a function that reads one small object now and then (the
 * access policy) does not load an SDK client during its cold start.
 */
export function lazyArtifactStore(location: string, open: () => Promise<ArtifactStore>): ArtifactStore {
  let opened: Promise<ArtifactStore> | undefined;
  const store = () => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return {
    location,
    exists: async (key) => (await store()).exists(key),
    write: async (key, body) => (await store()).write(key, body),
    read: async (key) => (await store()).read(key),
    list: async (prefix) => (await store()).list(prefix),
  };
}

/** The artifact bucket as a lazily opened store. */
export function lazyS3ArtifactStore(bucket: string): ArtifactStore {
  return lazyArtifactStore(`s3://${bucket}`, async () => {
    const [{ S3Client }, { S3ArtifactStore }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('./s3.js'),
    ]);
    return new S3ArtifactStore(new S3Client({}), bucket);
  });
}
