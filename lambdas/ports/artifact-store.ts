/**
 * Where versioned artifacts (datasets, later models and evaluation results) are kept: a local folder
 * by default, the versioned S3 artifact bucket on AWS. Keys are `/`-separated paths.
 */
export interface ArtifactStore {
  /** Where the store is, for messages (a folder path or an s3:// URL). */
  readonly location: string;
  exists(key: string): Promise<boolean>;
  /** Writes the whole object; a reader never sees a half-written one. */
  write(key: string, body: string): Promise<void>;
  read(key: string): Promise<string | undefined>;
  /** Every key under a prefix (ending in `/`), in no particular order. */
  list(prefix: string): Promise<string[]>;
}
