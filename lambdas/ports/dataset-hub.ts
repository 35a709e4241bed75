export interface HubFile {
  path: string;
  content: string;
}

/** A dataset repository on a hub (the Hugging Face Hub) that versioned datasets are published to. */
export interface DatasetHub {
  /** The repository's web address, for messages. */
  readonly location: string;
  /** Creates the repository when it does not exist yet; an existing one is left as it is. */
  ensureRepository(): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Writes all files in one commit: a reader sees all of them or none. */
  commit(title: string, files: readonly HubFile[]): Promise<{ commit: string }>;
}
