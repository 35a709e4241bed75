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
    const path = this.path(key);
    try {
      await access(path);
      return true;
    } catch (error) {
      if (isAbsent(error)) return false;
      throw error;
    }
  }

  async write(key: string, body: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${randomUUID()}.partial`;
    await writeFile(partial, body);
    await rename(partial, target);
  }

  /** Only a key that is not there reads as absent; a folder in its place or a denied read is an error. */
  async read(key: string): Promise<string | undefined> {
    const path = this.path(key);
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
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
    } catch (error) {
      if (isAbsent(error)) return [];
      throw error;
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

/** "Not found", and a path through something that is not a folder: the key is not there. */
function isAbsent(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
