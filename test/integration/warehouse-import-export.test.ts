import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportWarehouse } from '../../lambdas/warehouse/export.js';
import { importWarehouse, InvalidExportError } from '../../lambdas/warehouse/import.js';
import { folderSource, urlSource } from '../../lambdas/warehouse/sources.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { REFERENCE_WAREHOUSE_DIR, referenceCorpusAvailable } from '../support/environment.js';
import { startLoopbackServer } from '../support/http-server.js';
import { allWarehouseKinds, type WarehouseFixture } from '../support/warehouses.js';

const EXPORT_FILES = [
  'ArticleDocument.json',
  'PostDocument.json',
  'RepositoryDocument.json',
  'UserDocument.json',
];

describe.each(allWarehouseKinds())('warehouse import/export of the reference corpus: $name', (kind) => {
  let fixture: WarehouseFixture;
  let warehouse: Warehouse;
  let scratch: string;

  const runnable = kind.available && referenceCorpusAvailable();

  beforeEach(async (context) => {
    if (!runnable) context.skip();
    fixture = await kind.create();
    warehouse = fixture.warehouse;
    scratch = await mkdtemp(join(tmpdir(), 'twin-export-'));
  });
  afterEach(async () => {
    if (!runnable) return;
    await fixture.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A writable copy of the reference export, to damage in one test. */
  async function copyOfReference(): Promise<string> {
    const copy = join(scratch, 'source');
    await cp(REFERENCE_WAREHOUSE_DIR, copy, { recursive: true });
    return copy;
  }

  async function rows(folder: string, file: string): Promise<Record<string, unknown>[]> {
    return JSON.parse(await readFile(join(folder, file), 'utf8')) as Record<string, unknown>[];
  }

  it('imports exactly 2 users and 76 articles', async () => {
    const report = await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
    expect(report.users).toEqual({ created: 2, existing: 0, remapped: 0 });
    expect(report.documents).toEqual({
      articles: { inserted: 76, skipped: 0 },
      posts: { inserted: 0, skipped: 0 },
      repositories: { inserted: 0, skipped: 0 },
    });
    const stats = await warehouse.stats();
    expect(stats.users).toBe(2);
    expect(stats.categories.articles).toEqual({
      total: 76,
      byAuthor: { 'Paul Iusztin': 50, 'Maxime Labonne': 26 },
    });
  });

  it('changes nothing when the same export is imported twice', async () => {
    await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
    const before = await warehouse.stats();
    const second = await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
    expect(second.users).toEqual({ created: 0, existing: 2, remapped: 0 });
    expect(second.documents.articles).toEqual({ inserted: 0, skipped: 76 });
    expect(await warehouse.stats()).toEqual(before);
  });

  it('exports files identical, byte for byte, to the export it imported', async () => {
    await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
    const out = join(scratch, 'out');
    const report = await exportWarehouse(warehouse, out);
    expect(report).toMatchObject({ users: 2, documents: { articles: 76, posts: 0, repositories: 0 } });
    expect((await readdir(out)).sort()).toEqual(EXPORT_FILES);
    for (const file of EXPORT_FILES) {
      // Compared as text (the files are ASCII): a byte-wise deep equality of megabyte buffers is slow.
      const [written, original] = await Promise.all([
        readFile(join(out, file), 'latin1'),
        readFile(join(REFERENCE_WAREHOUSE_DIR, file), 'latin1'),
      ]);
      expect(written === original, `${file} differs from the imported export`).toBe(true);
    }
  });

  it('imports from the URL of a published export folder over HTTP', async () => {
    const requested: string[] = [];
    const server = await startLoopbackServer((request, response) => {
      requested.push(request.url ?? '');
      const file = EXPORT_FILES.find((name) => request.url === `/export/${name}`);
      if (!file) return response.writeHead(404).end();
      void readFile(join(REFERENCE_WAREHOUSE_DIR, file)).then((body) =>
        response.writeHead(200, { 'content-type': 'application/json' }).end(body),
      );
    });
    try {
      const report = await importWarehouse(warehouse, urlSource(`${server.url}/export`));
      expect(report.documents.articles.inserted).toBe(76);
      expect(requested.sort()).toEqual(EXPORT_FILES.map((file) => `/export/${file}`).sort());
    } finally {
      await server.close();
    }
  });

  it('reports a file that is not JSON, and writes nothing', async () => {
    const source = await copyOfReference();
    await writeFile(join(source, 'ArticleDocument.json'), '[{"content": ');
    const failure = importWarehouse(warehouse, folderSource(source));
    await expect(failure).rejects.toBeInstanceOf(InvalidExportError);
    await expect(failure).rejects.toThrow(/ArticleDocument\.json: not valid JSON/);
    expect((await warehouse.stats()).users).toBe(0);
  });

  it('names the file, row and field of an invalid row, and writes nothing from any file', async () => {
    const source = await copyOfReference();
    const articles = await rows(source, 'ArticleDocument.json');
    delete articles[41]?.link;
    (articles[7] as { content: Record<string, unknown> }).content.Content = 42;
    await writeFile(join(source, 'ArticleDocument.json'), JSON.stringify(articles));

    const failure = importWarehouse(warehouse, folderSource(source));
    await expect(failure).rejects.toThrow(
      /ArticleDocument\.json row 7: content\.Content: content values must be text/,
    );
    await expect(failure).rejects.toThrow(/ArticleDocument\.json row 41: link: /);
    const stats = await warehouse.stats();
    expect(stats.users).toBe(0);
    expect(stats.categories.articles.total).toBe(0);
  });

  it('rejects documents whose author is in neither the export nor the warehouse', async () => {
    const source = await copyOfReference();
    const articles = await rows(source, 'ArticleDocument.json');
    const orphan = {
      ...articles[0],
      _id: randomUUID(),
      author_id: randomUUID(),
      link: 'https://example.com/orphan',
    };
    await writeFile(join(source, 'ArticleDocument.json'), JSON.stringify([...articles, orphan]));
    await expect(importWarehouse(warehouse, folderSource(source))).rejects.toThrow(
      /ArticleDocument\.json row 76: author_id: .* is neither in UserDocument\.json nor in the warehouse/,
    );
    expect((await warehouse.stats()).categories.articles.total).toBe(0);
  });

  it('refuses a folder without UserDocument.json', async () => {
    const source = await copyOfReference();
    await rm(join(source, 'UserDocument.json'));
    await expect(importWarehouse(warehouse, folderSource(source))).rejects.toThrow(
      /UserDocument\.json: missing/,
    );
  });

  it("attaches imported documents to an existing user of the same name, keeping that user's id", async () => {
    const existing = await warehouse.getOrCreateUser(
      { firstName: 'Paul', lastName: 'Iusztin' },
      randomUUID(),
    );
    const report = await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
    expect(report.users).toEqual({ created: 1, existing: 1, remapped: 1 });
    expect(await warehouse.findDocumentsByAuthor('articles', existing.id)).toHaveLength(50);
    expect(await warehouse.listUsers()).toHaveLength(2);
  });
});
