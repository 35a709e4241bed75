import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect } from '../support/async.js';
import { UserIdConflictError } from '../../lambdas/adapters/warehouse/index.js';
import type { RawDocument } from '../../lambdas/domain/index.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { article, post, repository } from '../support/documents.js';
import { allWarehouseKinds, type WarehouseFixture } from '../support/warehouses.js';

const paul = { firstName: 'Paul', lastName: 'Iusztin' };
const maxime = { firstName: 'Maxime', lastName: 'Labonne' };

describe.each(allWarehouseKinds())('Warehouse contract: $name', (kind) => {
  let fixture: WarehouseFixture;
  let warehouse: Warehouse;

  beforeEach(async (context) => {
    if (!kind.available) context.skip();
    fixture = await kind.create();
    warehouse = fixture.warehouse;
  });
  afterEach(async () => {
    if (kind.available) await fixture.dispose();
  });

  describe('users', () => {
    it('creates a user once and returns the same user afterwards', async () => {
      const created = await warehouse.getOrCreateUser(paul);
      const again = await warehouse.getOrCreateUser(paul, randomUUID());
      expect(again).toEqual(created);
      expect(created).toMatchObject(paul);
      expect(await warehouse.listUsers()).toEqual([created]);
    });

    it('uses the requested id only when it creates the user', async () => {
      const id = randomUUID();
      const created = await warehouse.getOrCreateUser(maxime, id);
      expect(created.id).toBe(id);
      expect(await warehouse.findUserById(id)).toEqual(created);
      expect(await warehouse.findUserByName(maxime)).toEqual(created);
      expect(await warehouse.findUserByName(paul)).toBeUndefined();
      expect(await warehouse.findUserById(randomUUID())).toBeUndefined();
    });

    it('creates exactly one user when 20 calls race for the same name', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => warehouse.getOrCreateUser(paul, randomUUID())),
      );
      expect(new Set(results.map((user) => user.id)).size).toBe(1);
      expect(await warehouse.listUsers()).toHaveLength(1);
    });

    it('refuses to create a user with an id that belongs to someone else', async () => {
      const existing = await warehouse.getOrCreateUser(paul);
      await expect(warehouse.getOrCreateUser(maxime, existing.id)).rejects.toBeInstanceOf(
        UserIdConflictError,
      );
      expect(await warehouse.listUsers()).toEqual([existing]);
    });

    it('lists users in creation order', async () => {
      const first = await warehouse.getOrCreateUser(maxime);
      const second = await warehouse.getOrCreateUser(paul);
      expect(await warehouse.listUsers()).toEqual([first, second]);
    });
  });

  describe('documents', () => {
    it('stores documents of every category and reads them back unchanged', async () => {
      const author = await warehouse.getOrCreateUser(paul);
      const docs: RawDocument[] = [
        article(author, 'https://example.com/a'),
        post(author, 'https://www.linkedin.com/posts/p1'),
        repository(author, 'https://github.com/example/demo'),
      ];
      expect(await warehouse.insertDocuments(docs)).toEqual({ inserted: 3, skipped: 0 });
      expect(await warehouse.findDocumentsByAuthor('articles', author.id)).toEqual([docs[0]]);
      expect(await warehouse.findDocumentsByAuthor('posts', author.id)).toEqual([docs[1]]);
      expect(await warehouse.findDocumentsByAuthor('repositories', author.id)).toEqual([docs[2]]);
    });

    it('skips a document whose link is already stored, and reports it', async () => {
      const author = await warehouse.getOrCreateUser(paul);
      const original = article(author, 'https://example.com/a', 'original text');
      await warehouse.insertDocuments([original]);
      const sameLink = article(author, 'https://example.com/a', 'a second crawl');
      const fresh = article(author, 'https://example.com/b');
      expect(await warehouse.insertDocuments([sameLink, fresh])).toEqual({ inserted: 1, skipped: 1 });
      const stored = await warehouse.findDocumentsByAuthor('articles', author.id);
      expect(stored.map((doc) => doc.content.Content)).toEqual(['original text', fresh.content.Content]);
    });

    it('skips a document whose id is already stored', async () => {
      const author = await warehouse.getOrCreateUser(paul);
      const doc = article(author, 'https://example.com/a');
      await warehouse.insertDocuments([doc]);
      expect(await warehouse.insertDocuments([{ ...doc, link: 'https://example.com/other' }])).toEqual({
        inserted: 0,
        skipped: 1,
      });
    });

    it('keeps link uniqueness per category, not across categories', async () => {
      const author = await warehouse.getOrCreateUser(paul);
      const link = 'https://github.com/example/demo';
      const report = await warehouse.insertDocuments([article(author, link), repository(author, link)]);
      expect(report).toEqual({ inserted: 2, skipped: 0 });
      expect(await warehouse.hasLink('articles', link)).toBe(true);
      expect(await warehouse.hasLink('repositories', link)).toBe(true);
      expect(await warehouse.hasLink('posts', link)).toBe(false);
    });

    it('stores several posts that have no link', async () => {
      const author = await warehouse.getOrCreateUser(paul);
      const report = await warehouse.insertDocuments([
        post(author),
        post(author),
        post(author, 'https://x.com/p/1'),
      ]);
      expect(report).toEqual({ inserted: 3, skipped: 0 });
      expect(await warehouse.insertDocuments([post(author, 'https://x.com/p/1')])).toEqual({
        inserted: 0,
        skipped: 1,
      });
    });

    it('finds documents by author only', async () => {
      const a = await warehouse.getOrCreateUser(paul);
      const b = await warehouse.getOrCreateUser(maxime);
      await warehouse.insertDocuments([
        article(a, 'https://example.com/a'),
        article(b, 'https://example.com/b'),
      ]);
      const ofB = await warehouse.findDocumentsByAuthor('articles', b.id);
      expect(ofB.map((doc) => doc.link)).toEqual(['https://example.com/b']);
    });

    it('streams documents of the given authors in insertion order, and can stop early', async () => {
      const a = await warehouse.getOrCreateUser(paul);
      const b = await warehouse.getOrCreateUser(maxime);
      const docs = Array.from({ length: 250 }, (_, i) => article(i % 2 ? a : b, `https://example.com/${i}`));
      await warehouse.insertDocuments(docs);

      const ofA = await collect(warehouse.streamDocuments({ category: 'articles', authorIds: [a.id] }));
      expect(ofA.map((doc) => doc.id)).toEqual(
        docs.filter((doc) => doc.authorId === a.id).map((doc) => doc.id),
      );
      const all = await collect(warehouse.streamDocuments({ category: 'articles' }));
      expect(all).toHaveLength(250);
      expect(await collect(warehouse.streamDocuments({ category: 'articles', authorIds: [] }))).toEqual([]);

      let read = 0;
      for await (const _doc of warehouse.streamDocuments({ category: 'articles' })) {
        if (++read === 3) break;
      }
      expect(read).toBe(3);
    });

    it('serves two streams over the same query at once', async () => {
      const a = await warehouse.getOrCreateUser(paul);
      await warehouse.insertDocuments([1, 2, 3].map((i) => article(a, `https://example.com/${i}`)));
      const first = warehouse.streamDocuments({ category: 'articles' })[Symbol.asyncIterator]();
      const second = warehouse.streamDocuments({ category: 'articles' })[Symbol.asyncIterator]();
      const firstItem = await first.next();
      const secondItem = await second.next();
      expect(secondItem.value).toEqual(firstItem.value);
      expect((await collect({ [Symbol.asyncIterator]: () => second })).length).toBe(2);
      expect((await collect({ [Symbol.asyncIterator]: () => first })).length).toBe(2);
    });

    it('streams only the documents with the given ids, ignoring unknown ones', async () => {
      const a = await warehouse.getOrCreateUser(paul);
      const b = await warehouse.getOrCreateUser(maxime);
      const docs = [1, 2, 3, 4].map((i) => article(i % 2 ? a : b, `https://example.com/${i}`));
      await warehouse.insertDocuments(docs);
      const wanted = [docs[3]?.id ?? '', docs[0]?.id ?? '', randomUUID()];

      const found = await collect(warehouse.streamDocuments({ category: 'articles', ids: wanted }));
      expect(found.map((doc) => doc.id)).toEqual([docs[0]?.id, docs[3]?.id]);
      const ofA = await collect(
        warehouse.streamDocuments({ category: 'articles', ids: wanted, authorIds: [a.id] }),
      );
      expect(ofA.map((doc) => doc.id)).toEqual([docs[0]?.id]);
      expect(await collect(warehouse.streamDocuments({ category: 'posts', ids: wanted }))).toEqual([]);
      expect(await collect(warehouse.streamDocuments({ category: 'articles', ids: [] }))).toEqual([]);
    });

    it('counts documents per category and author', async () => {
      const a = await warehouse.getOrCreateUser(paul);
      const b = await warehouse.getOrCreateUser(maxime);
      await warehouse.insertDocuments([
        article(a, 'https://example.com/1'),
        article(a, 'https://example.com/2'),
        article(b, 'https://example.com/3'),
        repository(b, 'https://github.com/b/r'),
      ]);
      expect(await warehouse.stats()).toEqual({
        users: 2,
        categories: {
          articles: { total: 3, byAuthor: { 'Paul Iusztin': 2, 'Maxime Labonne': 1 } },
          posts: { total: 0, byAuthor: {} },
          repositories: { total: 1, byAuthor: { 'Maxime Labonne': 1 } },
        },
      });
    });

    it('keeps what it stored across connections', async () => {
      const author = await warehouse.getOrCreateUser(paul);
      const doc = article(author, 'https://example.com/kept');
      await warehouse.insertDocuments([doc]);
      const second = await fixture.reopen();
      expect(await second.findUserByName(paul)).toEqual(author);
      expect(await second.findDocumentsByAuthor('articles', author.id)).toEqual([doc]);
    });
  });
});
