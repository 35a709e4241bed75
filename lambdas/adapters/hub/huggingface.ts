import type { DatasetHub, HubFile } from '../../ports/dataset-hub.js';

export interface HuggingFaceHubOptions {
  /** `owner/name` of the dataset repository. */
  repo: string;
  token: string;
  /** Visibility when the repository has to be created. */
  private: boolean;
  /** The Hub's address (HF_ENDPOINT); a mirror or a test server may stand in. */
  hubUrl: string;
}

type HubLibrary = typeof import('@huggingface/hub');

/**
 * A dataset repository on the Hugging Face Hub, through `@huggingface/hub`: small files go inline in
 * the commit, large ones through the Hub's LFS storage, as the Hub decides per file.
 */
export class HuggingFaceDatasetHub implements DatasetHub {
  private constructor(
    private readonly hub: HubLibrary,
    private readonly options: HuggingFaceHubOptions,
  ) {}

  static async create(options: HuggingFaceHubOptions): Promise<HuggingFaceDatasetHub> {
    return new HuggingFaceDatasetHub(await import('@huggingface/hub'), options);
  }

  get location(): string {
    return `${this.options.hubUrl.replace(/\/+$/u, '')}/datasets/${this.options.repo}`;
  }

  private get target() {
    return {
      repo: { type: 'dataset' as const, name: this.options.repo },
      accessToken: this.options.token,
      hubUrl: this.options.hubUrl,
    };
  }

  async ensureRepository(): Promise<void> {
    if (await this.hub.repoExists({ ...this.target })) return;
    try {
      await this.hub.createRepo({ ...this.target, visibility: this.options.private ? 'private' : 'public' });
    } catch (error) {
      // Created meanwhile by someone else: that is what we wanted.
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    }
  }

  exists(path: string): Promise<boolean> {
    return this.hub.fileExists({ ...this.target, path });
  }

  async commit(title: string, files: readonly HubFile[]): Promise<{ commit: string }> {
    const result = await this.hub.uploadFiles({
      ...this.target,
      commitTitle: title,
      files: files.map((file) => ({ path: file.path, content: new Blob([file.content]) })),
    });
    return { commit: result?.commit.oid ?? 'unknown' };
  }
}
