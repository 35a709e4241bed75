import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { AuthorDirectory } from '../../lambdas/ports/warehouse.js';
import { matchAuthorName } from '../../lambdas/rag/self-query.js';
import { CachedAuthorDirectory } from '../../lambdas/warehouse/cached-author-directory.js';

/** The real embedded warehouse, with a count of the author reads that reach it. */
function counted(warehouse: EmbeddedWarehouse) {
  const reads = { list: 0, byName: 0, byId: 0 };
  const directory: AuthorDirectory = {
    listUsers: () => (reads.list++, warehouse.listUsers()),
    findUserByName: (name) => (reads.byName++, warehouse.findUserByName(name)),
    findUserById: (id) => (reads.byId++, warehouse.findUserById(id)),
  };
  return { directory, reads };
}

describe('the authors read through a short cache', () => {
  let dir: string;
  let warehouse: EmbeddedWarehouse;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-authors-'));
    warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
    await warehouse.getOrCreateUser({ firstName: 'Maxime', lastName: 'Labonne' });
    clock = 0;
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('matches the names in many requests with one read of the warehouse', async () => {
    const { directory, reads } = counted(warehouse);
    const authors = new CachedAuthorDirectory(directory, 30_000, now);

    const filters = await Promise.all(
      ['Write like Maxime Labonne about LoRA', "maxime labonne's take on GGUF", 'no name here'].map((query) =>
        matchAuthorName(authors, query),
      ),
    );

    expect(filters.map((filter) => filter.authorName)).toEqual([
      'Maxime Labonne',
      'Maxime Labonne',
      undefined,
    ]);
    expect(reads.list).toBe(1);
  });

  it('reads again once the time is up, and sees an author added meanwhile', async () => {
    const { directory, reads } = counted(warehouse);
    const authors = new CachedAuthorDirectory(directory, 30_000, now);
    await authors.listUsers();
    await warehouse.getOrCreateUser({ firstName: 'Paul', lastName: 'Iusztin' });

    expect((await matchAuthorName(authors, 'as Paul Iusztin would')).source).toBe('none');
    clock = 30_001;
    expect((await matchAuthorName(authors, 'as Paul Iusztin would')).authorName).toBe('Paul Iusztin');
    expect(reads.list).toBe(2);
  });

  it('finds an author added since the last read by name or id at once, asking the warehouse', async () => {
    const { directory, reads } = counted(warehouse);
    const authors = new CachedAuthorDirectory(directory, 30_000, now);
    await authors.listUsers();
    const paul = await warehouse.getOrCreateUser({ firstName: 'Paul', lastName: 'Iusztin' });

    expect(await authors.findUserByName({ firstName: 'Paul', lastName: 'Iusztin' })).toEqual(paul);
    expect(reads.byName).toBe(1);
    // The hit made the list stale: the next read sees Paul too.
    expect((await authors.listUsers()).map((user) => user.firstName)).toEqual(['Maxime', 'Paul']);
    expect(await authors.findUserById(paul.id)).toEqual(paul);
    expect(reads.byId).toBe(0);
    expect(await authors.findUserById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(reads.byId).toBe(1);
  });

  it('reads again after invalidate, as a collection run in the same process calls it', async () => {
    const { directory, reads } = counted(warehouse);
    const authors = new CachedAuthorDirectory(directory, 30_000, now);
    await authors.listUsers();
    await warehouse.getOrCreateUser({ firstName: 'Paul', lastName: 'Iusztin' });
    authors.invalidate();

    expect((await authors.listUsers()).length).toBe(2);
    expect(reads.list).toBe(2);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const authors = new CachedAuthorDirectory(
      {
        listUsers: () => (fail ? Promise.reject(new Error('warehouse down')) : warehouse.listUsers()),
        findUserByName: (name) => warehouse.findUserByName(name),
        findUserById: (id) => warehouse.findUserById(id),
      },
      30_000,
      now,
    );
    await expect(authors.listUsers()).rejects.toThrow('warehouse down');
    fail = false;
    expect((await authors.listUsers()).length).toBe(1);
  });
});
