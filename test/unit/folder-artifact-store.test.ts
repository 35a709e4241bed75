import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';

describe('the folder artifact store', () => {
  let dir: string;
  let store: FolderArtifactStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-artifacts-'));
    store = new FolderArtifactStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lists the finished keys under a prefix, not half-written ones', async () => {
    await store.write('datasets/instruct/a/manifest.json', '{}');
    await store.write('datasets/instruct/b/train.jsonl', '');
    await store.write('datasets/preference/c/manifest.json', '{}');
    await writeFile(join(dir, 'datasets', 'instruct', 'a', 'test.jsonl.123.partial'), 'half');
    expect((await store.list('datasets/instruct/')).sort()).toEqual([
      'datasets/instruct/a/manifest.json',
      'datasets/instruct/b/train.jsonl',
    ]);
    expect(await store.list('models/')).toEqual([]);
  });

  it('refuses prefixes that leave the folder', async () => {
    await expect(store.list('../elsewhere/')).rejects.toThrow('leaves the store');
  });

  it('reads only a missing key as absent: a folder in its place or a key that leaves the store is an error', async () => {
    expect(await store.read('datasets/none.json')).toBeUndefined();
    expect(await store.exists('datasets/none.json')).toBe(false);
    expect(await store.read('datasets/none/deeper.json')).toBeUndefined();
    await store.write('datasets/a/manifest.json', '{}');
    expect(await store.read('datasets/a/manifest.json/below')).toBeUndefined();

    await expect(store.read('datasets/a')).rejects.toThrow(/EISDIR/u);
    await expect(store.read('../outside.json')).rejects.toThrow('leaves the store');
    await expect(store.exists('../outside.json')).rejects.toThrow('leaves the store');
  });
});
