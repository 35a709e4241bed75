import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
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

  async list(prefix: string): Promise<string[]> {
    const folder = resolve(this.location, ...prefix.split('/').filter(Boolean));
    if (folder !== this.location && !folder.startsWith(this.location + sep)) {
      throw new Error(`artifact prefix ${prefix} leaves the store`);
    }
    let entries: string[];
    try {
      entries = await readdir(folder, { recursive: true });
    } catch {
      return [];
    }
    const keys: string[] = [];
    for (const entry of entries) {
      const full = join(folder, entry);
      // Only finished files: directories and writes still in progress are not keys.
      if (entry.endsWith('.partial') || !(await isFile(full))) continue;
      keys.push(relative(this.location, full).split(sep).join('/'));
    }
    return keys;
  }

  private path(key: string): string {
    const target = resolve(this.location, ...key.split('/'));
    if (!target.startsWith(this.location + sep)) throw new Error(`artifact key ${key} leaves the store`);
    return join(target);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
