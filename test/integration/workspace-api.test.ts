import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { readAuthorConfig } from '../../lambdas/collection/author-config.js';
import { openCrawlEnvironment } from '../../lambdas/collection/environment.js';
import type { Resolver } from '../../lambdas/collection/network-guard.js';
import type { HttpReply } from '../../lambdas/http/contract.js';
import type { CollectionRun } from '../../lambdas/ports/collection-runs.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { AuthorLinksRepository, slugOf } from '../../lambdas/workspace/author-links.js';
import { WorkspaceHttpApi } from '../../lambdas/workspace/http-api.js';
import { LocalCollectionRuns } from '../../lambdas/workspace/local-runs.js';
import { startFixtureSites, type FixtureSites } from '../support/fixture-sites.js';
import { embeddedWarehouses, type WarehouseFixture } from '../support/warehouses.js';

const loopbackResolver: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);

const COMMENTED_CONFIG = `# Ada's public writing; edited by hand and by the web app.
author: Ada Lovelace
links:
  - https://ada.example.com/p/notes
`;

describe('the workspace API (author links, collection runs, counts)', () => {
  let dir: string;
  let sites: FixtureSites;
  let fixture: WarehouseFixture;
  let runs: LocalCollectionRuns;
  let api: WorkspaceHttpApi;
  const errors: unknown[] = [];

  beforeAll(async () => {
    sites = await startFixtureSites({ latencyMs: 150 });
  });
  afterAll(() => sites.close());

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-workspace-'));
    fixture = await embeddedWarehouses.create();
    runs = new LocalCollectionRuns({
      warehouse: fixture.warehouse,
      openEnvironment: () =>
        openCrawlEnvironment(loadSettings({}), {
          network: { allowLoopback: true, resolver: loopbackResolver },
        }),
      concurrency: 2,
      perLinkTimeoutMs: 30_000,
      onError: (error) => errors.push(error),
    });
    const links = new AuthorLinksRepository(new FolderArtifactStore(dir));
    api = new WorkspaceHttpApi(() =>
      Promise.resolve({
        links,
        runs,
        stats: async () => ({
          authors: (await fixture.warehouse.listUsers()).map((user) => ({
            id: user.id,
            name: `${user.firstName} ${user.lastName}`,
            warehouse: { articles: 0, posts: 0, repositories: 0 },
            features: {
              cleaned: { articles: 0, posts: 0, repositories: 0 },
              embedded: { articles: 0, posts: 0, repositories: 0 },
            },
          })),
        }),
      }),
    );
  });
  afterEach(async () => {
    await runs.settle();
    await fixture.dispose();
    await rm(dir, { recursive: true, force: true });
    expect(errors.splice(0)).toEqual([]);
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> => {
    const reply: HttpReply = await api.handle({
      method,
      path,
      // As the web app sends it.
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (typeof reply.body !== 'string') throw new Error('workspace replies are whole');
    return { status: reply.statusCode, json: reply.body ? (JSON.parse(reply.body) as unknown) : undefined };
  };

  async function finished(id: string): Promise<CollectionRun> {
    for (;;) {
      const { json } = await call('GET', `/collection-runs/${id}`);
      const run = json as CollectionRun;
      if (run.state !== 'running') return run;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  describe('author links', () => {
    it('saves a list as a config file that twin etl reads, with duplicate spellings dropped', async () => {
      const saved = await call('PUT', '/authors', {
        author: 'Ada Lovelace',
        links: [
          'https://ada.example.com/p/notes?utm_source=x',
          'https://github.com/ada/engine.git',
          'https://ada.example.com/p/notes',
        ],
      });
      expect(saved).toEqual({
        status: 200,
        json: {
          slug: 'ada-lovelace',
          author: 'Ada Lovelace',
          links: ['https://ada.example.com/p/notes?utm_source=x', 'https://github.com/ada/engine.git'],
        },
      });
      expect(await readAuthorConfig(join(dir, 'ada-lovelace.yaml'))).toEqual({
        author: 'Ada Lovelace',
        links: ['https://ada.example.com/p/notes?utm_source=x', 'https://github.com/ada/engine.git'],
      });
      expect((await call('GET', '/authors')).json).toEqual({
        authors: [saved.json as object],
        unreadable: [],
      });
    });

    it('keeps the comments of a file edited by hand', async () => {
      await writeFile(join(dir, 'ada-lovelace.yaml'), COMMENTED_CONFIG);
      await call('PUT', '/authors', { author: 'Ada Lovelace', links: ['https://ada.example.com/p/engine'] });
      const text = await readFile(join(dir, 'ada-lovelace.yaml'), 'utf8');
      expect(text).toContain("# Ada's public writing; edited by hand and by the web app.");
      expect(text).toContain('https://ada.example.com/p/engine');
      expect(text).not.toContain('/p/notes');
    });

    it('names the bad field and writes nothing', async () => {
      await writeFile(join(dir, 'ada-lovelace.yaml'), COMMENTED_CONFIG);
      const cases: [unknown, string][] = [
        [
          { author: 'Ada Lovelace', links: ['https://ok.example.com', 'ftp://files.example.com/x'] },
          'links.1',
        ],
        [{ author: 'Ada Lovelace', links: ['https://github.com/ada'] }, 'links.0'],
        [{ author: 'Ada Lovelace', links: ['http://user:pw@example.com/'] }, 'links.0'],
        [{ author: 'Ada Lovelace', links: [] }, 'links'],
        [{ author: '  ', links: ['https://ok.example.com'] }, 'author'],
        [{ author: '---', links: ['https://ok.example.com'] }, 'author'],
        [{ author: 'Ada Lovelace', links: ['https://ok.example.com'], admin: true }, 'admin'],
        ['{"author": ', 'body'],
        ['', 'author'],
      ];
      for (const [body, field] of cases) {
        const reply = await call('PUT', '/authors', body);
        expect({ status: reply.status, field: (reply.json as { field: string }).field }).toEqual({
          status: 400,
          field,
        });
      }
      expect(await readFile(join(dir, 'ada-lovelace.yaml'), 'utf8')).toBe(COMMENTED_CONFIG);
    });

    it('lists a broken file as unreadable instead of failing the whole list', async () => {
      await writeFile(join(dir, 'ada-lovelace.yaml'), COMMENTED_CONFIG);
      await writeFile(join(dir, 'broken.yaml'), 'author: [unclosed');
      const { status, json } = await call('GET', '/authors');
      expect(status).toBe(200);
      const listing = json as { authors: { slug: string }[]; unreadable: { file: string }[] };
      expect(listing.authors.map((author) => author.slug)).toEqual(['ada-lovelace']);
      expect(listing.unreadable.map((entry) => entry.file)).toEqual(['broken.yaml']);
    });

    it('turns names into file names', () => {
      expect(slugOf('Paul Iusztin')).toBe('paul-iusztin');
      expect(slugOf('  Zoë  Ångström-Ñúñez ')).toBe('zoe-angstrom-nunez');
      expect(() => slugOf('!!!')).toThrow(/at least one letter or digit/u);
    });
  });

  describe('collection runs', () => {
    it('collects the saved links in the background, showing each outcome, one run per author', async () => {
      await call('PUT', '/authors', {
        author: 'Ada Lovelace',
        links: [`${sites.url}/p/first-post`, `${sites.url}/files/paper.pdf`, `${sites.url}/missing`],
      });
      const started = await call('POST', '/collection-runs', { author: 'ada lovelace' });
      expect(started.status).toBe(202);
      const run = started.json as CollectionRun;
      expect(run).toMatchObject({ author: 'Ada Lovelace', state: 'running', step: 'collecting' });
      expect(run.links.map((link) => link.outcome)).toEqual(['pending', 'pending', 'pending']);

      const again = await call('POST', '/collection-runs', { author: 'Ada Lovelace' });
      expect(again).toEqual({
        status: 409,
        json: { error: expect.stringMatching(/already going/u) as unknown, run_id: run.id },
      });

      const done = await finished(run.id);
      expect(done).toMatchObject({ state: 'succeeded', step: 'done' });
      expect(done.links.map((link) => [link.outcome, link.documents])).toEqual([
        ['inserted', 1],
        ['failed', 0],
        ['failed', 0],
      ]);
      expect(done.links[1]?.reason).toMatch(/^not an article page: application\/pdf/u);
      expect((await fixture.warehouse.stats()).categories.articles.byAuthor).toEqual({ 'Ada Lovelace': 1 });

      // A second run finds the article already stored and fetches nothing.
      const hitsBefore = sites.hits.length;
      const rerun = await finished(
        ((await call('POST', '/collection-runs', { author: 'Ada Lovelace' })).json as CollectionRun).id,
      );
      expect(rerun.links[0]).toMatchObject({ outcome: 'skipped', documents: 0 });
      expect(sites.hits.slice(hitsBefore)).not.toContain('/p/first-post');
    }, 60_000);

    it('marks a run failed when no link could be collected', async () => {
      await call('PUT', '/authors', { author: 'Ada Lovelace', links: [`${sites.url}/missing`] });
      const { json } = await call('POST', '/collection-runs', { author: 'Ada Lovelace' });
      const done = await finished((json as CollectionRun).id);
      expect(done).toMatchObject({
        state: 'failed',
        error: 'none of the links could be collected; see each link',
      });
    }, 30_000);

    it('answers unknown authors, runs and methods plainly', async () => {
      expect(await call('POST', '/collection-runs', { author: 'Nobody Known' })).toEqual({
        status: 404,
        json: { error: 'no links are saved for Nobody Known; save some first', field: 'author' },
      });
      expect(
        (await call('POST', '/collection-runs', { author: 'Ada Lovelace', who: 'x' })).json,
      ).toMatchObject({ field: 'who' });
      expect((await call('GET', '/collection-runs/not-a-run')).status).toBe(404);
      expect((await call('DELETE', '/authors')).status).toBe(405);
      expect((await call('GET', '/collection-runs')).status).toBe(405);
      expect((await call('GET', '/stats')).json).toEqual({ authors: [] });
    });
  });
});
