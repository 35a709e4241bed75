import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import type { CrawlEnvironment } from '../../lambdas/collection/crawlers/types.js';
import { DEFAULT_LIMITS } from '../../lambdas/collection/http-fetch.js';
import { crawlLinks } from '../../lambdas/collection/pipeline.js';
import { startFeedSites, type FeedSites } from '../support/feed-sites.js';
import { allWarehouseKinds, type WarehouseFixture } from '../support/warehouses.js';

const network = { allowLoopback: true };

describe.each(allWarehouseKinds())('feeds collected into the warehouse: $name', (kind) => {
  let sites: FeedSites;
  let environment: CrawlEnvironment;
  let fixture: WarehouseFixture;
  const crawl = (links: string[]) =>
    crawlLinks(fixture.warehouse, environment, 'Paul Iusztin', links, {
      concurrency: 2,
      perLinkTimeoutMs: 30_000,
    });

  beforeAll(async () => {
    sites = await startFeedSites();
    // No page of these sites needs rendering: a browser that started would fail the test.
    const browser = new BrowserSession({
      executablePath: '/nonexistent/chromium',
      network,
      navigationTimeoutMs: 5_000,
    });
    environment = {
      network,
      limits: DEFAULT_LIMITS,
      browser,
      git: { timeoutMs: 1, maxRepositoryBytes: 1, maxFileBytes: 1, config: {} },
    };
  });
  afterAll(async () => {
    await sites.close();
  });
  beforeEach(async () => {
    fixture = await kind.create();
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  it.runIf(kind.available)(
    'an RSS feed: full-text items stored as they are, a summary-only item read from its page',
    async () => {
      const report = await crawl([`${sites.url}/feed`]);
      const [result] = report.results;
      expect(result).toMatchObject({ crawler: 'feed', outcome: 'inserted', documents: 3 });
      expect(result?.detail).toBe(
        'RSS feed of 5 items: 2 with full text, 1 read from their pages, 2 without a usable link',
      );
      expect(report.byCrawler).toEqual({ feed: { links: 1, documents: 3 } });

      const articles = await fixture.warehouse.findDocumentsByAuthor('articles', report.author.id);
      const byLink = Object.fromEntries(
        articles.map((article) => [article.link.replace(sites.url, ''), article]),
      );
      expect(Object.keys(byLink).sort()).toEqual([
        '/p/chunking-measured',
        '/p/feature-pipelines',
        '/p/summary-only',
      ]);
      expect(byLink['/p/feature-pipelines']).toMatchObject({
        platform: '127.0.0.1',
        publishedAt: '2024-05-21T18:59:39.000Z',
        content: { Title: 'Feature pipelines & you', language: 'en' },
      });
      expect(byLink['/p/feature-pipelines']?.content.Content).toMatch(/^Feature pipelines, part 1/u);
      expect(byLink['/p/summary-only']?.content.Content).toContain('summary-only paragraph 1');
      expect(byLink['/p/summary-only']?.publishedAt).toBe('2024-05-01T08:00:00.000Z');

      const pagesRead = sites.hits.filter((path) => path.startsWith('/p/')).length;
      const again = await crawl([`${sites.url}/feed`]);
      expect(again.results[0]).toMatchObject({ outcome: 'skipped', documents: 0 });
      expect(again.results[0]?.detail).toMatch(/1 already stored/u);
      expect(sites.hits.filter((path) => path.startsWith('/p/')).length).toBe(pagesRead);
      expect((await fixture.warehouse.stats()).categories.articles.total).toBe(3);
    },
  );

  it.runIf(kind.available)('an Atom feed: inline content, a summary and content by reference', async () => {
    const report = await crawl([`${sites.url}/blog/atom.xml`]);
    expect(report.results[0]).toMatchObject({ crawler: 'feed', outcome: 'inserted', documents: 3 });
    expect(report.results[0]?.detail).toBe('ATOM feed of 3 items: 1 with full text, 2 read from their pages');
    const articles = await fixture.warehouse.findDocumentsByAuthor('articles', report.author.id);
    const inline = articles.find((article) => article.link.endsWith('/notes/fine-tuning'));
    expect(inline).toMatchObject({
      publishedAt: '2024-06-01T07:30:00.000Z',
      content: { Title: 'Fine-tuning without tears' },
    });
    expect(articles.map((article) => article.link.replace(sites.url, '')).sort()).toEqual([
      '/notes/fine-tuning',
      '/p/content-by-reference',
      '/p/merging-models',
    ]);
  });

  it.runIf(kind.available)("a blog's home page is collected through the feed it advertises", async () => {
    const report = await crawl([`${sites.url}/`]);
    expect(report.results[0]).toMatchObject({ crawler: 'article', outcome: 'inserted', documents: 3 });
    expect(report.results[0]?.detail).toMatch(/^RSS feed of 5 items/u);
  });
});
