import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ArtifactStore } from '../../ports/artifact-store.js';

/** The local artifact store: one file per key under a folder; each write lands by an atomic rename. */
export class FolderArtifactStore implements ArtifactStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await access(this.path(key));
      return true;
    } catch {
      return false;
    }
  }

  async write(key: string, body: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${randomUUID()}.partial`;
    await writeFile(partial, body);
    await rename(partial, target);
  }

  async read(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), 'utf8');
    } catch {
      return undefined;
    }
  }

  private path(key: string): string {
    const target = resolve(this.location, ...key.split('/'));
    if (!target.startsWith(this.location + sep)) throw new Error(`artifact key ${key} leaves the store`);
    return join(target);
  }
}
