import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { BlockedError, hintFor } from '../../lambdas/collection/bot-walls.js';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import { linkedinCrawler } from '../../lambdas/collection/crawlers/linkedin.js';
import { mediumCrawler } from '../../lambdas/collection/crawlers/medium.js';
import { repositoryCrawler } from '../../lambdas/collection/crawlers/repository.js';
import type { CrawlEnvironment } from '../../lambdas/collection/crawlers/types.js';
import { DEFAULT_LIMITS } from '../../lambdas/collection/http-fetch.js';
import type { Resolver } from '../../lambdas/collection/network-guard.js';
import { crawlLinks } from '../../lambdas/collection/pipeline.js';
import type { User } from '../../lambdas/domain/index.js';
import { CHROMIUM_PATH, chromiumAvailable } from '../support/chromium.js';
import { startFixtureSites, type FixtureSites } from '../support/fixture-sites.js';
import { createRepository, githubToLocal } from '../support/git-repositories.js';

/** Every name resolves to loopback: no test sends a packet outside 127.0.0.0/8, not even to DNS. */
const loopbackResolver: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
const network = { allowLoopback: true, resolver: loopbackResolver };

describe.runIf(chromiumAvailable())('crawlers against fixture sites, with real Chromium and real git', () => {
  let sites: FixtureSites;
  let dir: string;
  let browser: BrowserSession;
  let environment: CrawlEnvironment;
  let warehouse: EmbeddedWarehouse;
  const author: User = { id: '6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b', firstName: 'Paul', lastName: 'Iusztin' };

  beforeAll(async () => {
    sites = await startFixtureSites();
    dir = await mkdtemp(join(tmpdir(), 'twin-crawl-'));
    await createRepository(join(dir, 'repos'), 'paul', 'llm-twin', {
      'README.md': '# LLM Twin\nA twin that writes like you.\n',
      'src/twin/app.py': 'def answer(query):\n    return retrieve(query)\n',
      'package-lock.json': '{"lockfileVersion": 3}',
      'docs/diagram.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
      'data/weights': Buffer.from([1, 2, 0, 3, 4]),
      'data/latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9]),
      'data/huge.txt': 'x'.repeat(300_000),
    });
    browser = new BrowserSession({ executablePath: CHROMIUM_PATH, network, navigationTimeoutMs: 20_000 });
    environment = {
      network,
      limits: DEFAULT_LIMITS,
      browser,
      git: {
        timeoutMs: 30_000,
        maxRepositoryBytes: 10_000_000,
        maxFileBytes: 256_000,
        config: githubToLocal(join(dir, 'repos')),
      },
    };
  });
  afterAll(async () => {
    await browser.close();
    await sites.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    warehouse = new EmbeddedWarehouse(join(dir, `warehouse-${String(Date.now())}.sqlite`));
  });
  afterEach(async () => {
    await warehouse.close();
  });

  it('reads a Medium story after scrolling: title, subtitle, lazy-loaded text', async () => {
    const route = { crawler: 'medium' as const, platform: 'medium', link: `${sites.url}/@paul/story` };
    const [story] = await mediumCrawler.crawl(route, author, environment);
    expect(story?.content).toMatchObject({
      Title: 'An End-to-End Framework for Production-Ready LLM Systems',
      Subtitle: 'From data collection to deployment',
      language: 'en',
    });
    expect(story?.content.Content).toContain('Lazy paragraph loaded after scrolling');
    expect(story).toMatchObject({
      category: 'articles',
      platform: 'medium',
      authorId: author.id,
      authorFullName: 'Paul Iusztin',
    });
  });

  it('tolerates a Medium story without a subtitle', async () => {
    const route = {
      crawler: 'medium' as const,
      platform: 'medium',
      link: `${sites.url}/@paul/story-without-subtitle`,
    };
    const [story] = await mediumCrawler.crawl(route, author, environment);
    expect(story?.content.Subtitle).toBeNull();
  });

  it('logs in to a LinkedIn-like site and stores one post per feed item, with link and image', async () => {
    const route = {
      crawler: 'linkedin' as const,
      platform: 'linkedin',
      link: `${sites.url}/in/paul/recent-activity/all`,
    };
    const credentials = { username: 'paul@example.com', password: 'correct horse' };
    const posts = await linkedinCrawler.crawl(route, author, { ...environment, linkedin: credentials });

    expect(posts.map((post) => post.content.text)).toEqual([
      'Retrieval beats memorisation: ground your LLM in your own notes.',
      'Three lessons from deploying an LLM twin on serverless AWS.',
      'A post that loads only after scrolling the feed.',
    ]);
    expect(posts[0]).toMatchObject({
      category: 'posts',
      platform: 'linkedin',
      link: `${sites.url}/feed/update/urn:li:activity:7001`,
      image: 'https://media.licdn.com/image/post-7001.jpg',
    });
    expect(posts[1]).not.toHaveProperty('image');
    const again = await linkedinCrawler.crawl(route, author, { ...environment, linkedin: credentials });
    expect(again.map((post) => post.id)).toEqual(posts.map((post) => post.id));
  });

  it('says LinkedIn needs credentials, and that a wrong password was refused', async () => {
    const route = {
      crawler: 'linkedin' as const,
      platform: 'linkedin',
      link: `${sites.url}/in/paul/recent-activity/all`,
    };
    await expect(linkedinCrawler.crawl(route, author, environment)).rejects.toThrow(
      /LinkedIn needs credentials/u,
    );
    const stranger = new BrowserSession({
      executablePath: CHROMIUM_PATH,
      network,
      navigationTimeoutMs: 20_000,
    });
    try {
      const wrong = {
        ...environment,
        browser: stranger,
        linkedin: { username: 'paul@example.com', password: 'wrong' },
      };
      await expect(linkedinCrawler.crawl(route, author, wrong)).rejects.toThrow(
        /LinkedIn refused the login/u,
      );
    } finally {
      await stranger.close();
    }
  });

  it('clones a repository with real git and keeps its text files only', async () => {
    const route = {
      crawler: 'repository' as const,
      platform: 'github',
      link: 'https://github.com/paul/llm-twin',
    };
    const [repository] = await repositoryCrawler.crawl(route, author, environment);
    expect(repository).toMatchObject({
      category: 'repositories',
      name: 'llm-twin',
      link: route.link,
      platform: 'github',
    });
    expect(Object.keys(repository?.content ?? {}).sort()).toEqual(['README.md', 'src/twin/app.py']);
    expect(repository?.content['src/twin/app.py']).toContain('def answer');
  });

  it('reports a repository that cannot be cloned, and leaves no temporary folder behind', async () => {
    const before = await readdir(tmpdir());
    const route = {
      crawler: 'repository' as const,
      platform: 'github',
      link: 'https://github.com/paul/does-not-exist',
    };
    await expect(repositoryCrawler.crawl(route, author, environment)).rejects.toThrow(/git clone failed/u);
    const leftovers = (await readdir(tmpdir())).filter(
      (name) => name.startsWith('twin-repo-') && !before.includes(name),
    );
    expect(leftovers).toEqual([]);
  });

  it('collects a batch: articles, a script-rendered page, a repository; reports failures per link; skips what it has', async () => {
    const links = [
      `${sites.url}/p/the-new-king-of-iac?utm_source=mail`,
      `${sites.url}/app/rendered`,
      'https://github.com/paul/llm-twin/tree/main/src',
      `${sites.url}/files/paper.pdf`,
      `${sites.url}/gone`,
      'not a link',
      'https://www.linkedin.com/in/paul/recent-activity/all/',
    ];
    const report = await crawlLinks(warehouse, environment, 'Paul Iusztin', links, {
      concurrency: 3,
      perLinkTimeoutMs: 60_000,
    });

    const outcome = Object.fromEntries(report.results.map((result) => [result.input, result]));
    expect(outcome[links[0] ?? '']).toMatchObject({
      outcome: 'inserted',
      link: `${sites.url}/p/the-new-king-of-iac`,
    });
    expect(outcome[links[1] ?? '']).toMatchObject({ outcome: 'inserted' });
    expect(outcome[links[2] ?? '']).toMatchObject({
      outcome: 'inserted',
      link: 'https://github.com/paul/llm-twin',
    });
    expect(outcome[links[3] ?? '']?.reason).toMatch(/not an article page: application\/pdf/u);
    expect(outcome[links[4] ?? '']?.reason).toBe(`HTTP 404 from ${sites.url}/gone`);
    expect(outcome[links[5] ?? '']?.reason).toMatch(/not a URL/u);
    expect(outcome[links[6] ?? '']).toMatchObject({ outcome: 'failed', crawler: 'linkedin' });
    expect(outcome[links[6] ?? '']?.reason).toMatch(/LinkedIn needs credentials/u);
    expect(report.byDomain['127.0.0.1']).toEqual({ successful: 2, total: 4 });
    expect(report.byDomain['github.com']).toEqual({ successful: 1, total: 1 });

    const articles = await warehouse.findDocumentsByAuthor('articles', report.author.id);
    const rendered = articles.find((article) => article.link === `${sites.url}/app/rendered`);
    expect(rendered?.content.Content).toContain('Client-side paragraph 1');
    const substack = articles.find((article) => article.link.endsWith('the-new-king-of-iac'));
    expect(substack?.content).toMatchObject({
      Title: 'the-new-king-of-iac | Decoding ML',
      Subtitle: 'Why the-new-king-of-iac matters for LLM systems',
      language: 'en',
    });
    expect(substack?.content.Content).not.toMatch(/Subscribe|Privacy/u);

    const hitsBefore = sites.hits.length;
    const again = await crawlLinks(warehouse, environment, 'Paul Iusztin', links.slice(0, 3), {
      concurrency: 3,
      perLinkTimeoutMs: 60_000,
    });
    expect(again.results.map((result) => result.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(sites.hits.length).toBe(hitsBefore);
    expect((await warehouse.stats()).categories.articles.total).toBe(2);
  });
});

describe.runIf(chromiumAvailable())('bot walls: reported as blocked with a hint, never stored', () => {
  let sites: FixtureSites;
  let dir: string;
  let browser: BrowserSession;
  let environment: CrawlEnvironment;
  let warehouse: EmbeddedWarehouse;

  beforeAll(async () => {
    sites = await startFixtureSites();
    dir = await mkdtemp(join(tmpdir(), 'twin-walls-'));
    browser = new BrowserSession({ executablePath: CHROMIUM_PATH, network, navigationTimeoutMs: 20_000 });
    environment = {
      network,
      limits: DEFAULT_LIMITS,
      browser,
      git: { timeoutMs: 30_000, maxRepositoryBytes: 10_000_000, maxFileBytes: 256_000, config: {} },
    };
    warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
  });
  afterAll(async () => {
    await warehouse.close();
    await browser.close();
    await sites.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a challenge, a challenge served as 200, HTTP 999 and a login redirect as blocked; stores nothing', async () => {
    const links = [
      `${sites.url}/p/walled`,
      `${sites.url}/p/challenge-served-200`,
      `${sites.url}/in/refused`,
      `${sites.url}/members/only`,
      `${sites.url}/p/a-real-article`,
    ];
    const report = await crawlLinks(warehouse, environment, 'Paul Iusztin', links, {
      concurrency: 2,
      perLinkTimeoutMs: 60_000,
    });
    const [challenge, served200, refused, login, real] = report.results;

    expect(challenge).toMatchObject({ outcome: 'blocked', documents: 0 });
    expect(challenge?.reason).toMatch(/Cloudflare challenge/u);
    expect(challenge?.hint).toMatch(/RSS or Atom feed \(often http:\/\/127\.0\.0\.1:\d+\/feed\)/u);
    expect(served200).toMatchObject({ outcome: 'blocked' });
    expect(served200?.reason).toMatch(/bot check titled "Just a moment/u);
    expect(refused).toMatchObject({ outcome: 'blocked' });
    expect(refused?.reason).toMatch(/HTTP 999/u);
    expect(login).toMatchObject({ outcome: 'blocked' });
    expect(login?.reason).toMatch(/login page \(\/account\/login\)/u);
    expect(real).toMatchObject({ outcome: 'inserted', documents: 1 });
    expect(report.byDomain['127.0.0.1']).toEqual({ successful: 1, total: 5 });

    const stored = await warehouse.findDocumentsByAuthor('articles', report.author.id);
    expect(stored.map((article) => article.link)).toEqual([`${sites.url}/p/a-real-article`]);
    expect(JSON.stringify(stored)).not.toMatch(/Verify you are human|Just a moment/u);
  });

  it('a Medium story behind a challenge: the browser crawler is blocked and the hint names the export and feed', async () => {
    const route = { crawler: 'medium' as const, platform: 'medium', link: `${sites.url}/@paul/walled-story` };
    const error = await mediumCrawler
      .crawl(
        route,
        { id: '6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b', firstName: 'Paul', lastName: 'Iusztin' },
        environment,
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BlockedError);
    expect(hintFor(route)).toMatch(/Medium export.*https:\/\/medium\.com\/feed\/@paul/su);
  });
});
