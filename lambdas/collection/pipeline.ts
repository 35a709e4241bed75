import { performance } from 'node:perf_hooks';
import { splitFullName, type Category, type User } from '../domain/index.js';
import type { Warehouse } from '../ports/warehouse.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import { BlockedError, hintFor } from './bot-walls.js';
import { articleCrawler } from './crawlers/article.js';
import { linkedinCrawler } from './crawlers/linkedin.js';
import { mediumCrawler } from './crawlers/medium.js';
import { feedCrawler } from './crawlers/feed.js';
import { repositoryCrawler } from './crawlers/repository.js';
import type { CrawlEnvironment, Crawler } from './crawlers/types.js';
import { routeLink, type CrawlerKind } from './links.js';

const CATEGORY_OF: Record<CrawlerKind, Category> = {
  article: 'articles',
  medium: 'articles',
  linkedin: 'posts',
  repository: 'repositories',
  feed: 'articles',
};

/** Crawlers that find many documents behind one link: the link itself is never stored, so never skipped. */
const MANY_PER_LINK = new Set<CrawlerKind>(['linkedin', 'feed']);

export const DEFAULT_CRAWLERS: Partial<Record<CrawlerKind, Crawler>> = {
  article: articleCrawler,
  medium: mediumCrawler,
  linkedin: linkedinCrawler,
  repository: repositoryCrawler,
  feed: feedCrawler,
};

export interface LinkResult {
  /** The link as given, and as normalised (absent when it could not be parsed). */
  input: string;
  link?: string;
  crawler?: CrawlerKind;
  outcome: LinkOutcome;
  documents: number;
  reason?: string;
  /** For a blocked link: the export or feed that gets the same writing. */
  hint?: string;
  /** What a link with many documents held (a feed's items), in words. */
  detail?: string;
  ms: number;
}

/** `blocked`: a bot wall answered instead of the page; nothing was stored. */
export type LinkOutcome = 'inserted' | 'skipped' | 'blocked' | 'failed';

export interface EtlReport {
  author: User;
  results: LinkResult[];
  /** Per domain: links that ended inserted or already there, out of all links. */
  byDomain: Record<string, { successful: number; total: number }>;
  /** Per crawler (feed, article, ...): links routed to it and documents they stored. */
  byCrawler: Record<string, { links: number; documents: number }>;
}

export interface CrawlOptions {
  concurrency: number;
  /** A link that takes longer is reported failed (its fetch, browser and git limits stop the work). */
  perLinkTimeoutMs: number;
  crawlers?: Partial<Record<CrawlerKind, Crawler>>;
  /** Told each link's outcome as soon as it is known (for live run status). */
  onLinkDone?: (index: number, result: LinkResult) => void;
}

/**
 * The ETL step: get or create the author, then crawl the links a few at a time and load what they
 * hold. A link already in the warehouse is not crawled again; a failing link is reported and never
 * stops the others.
 */
export async function crawlLinks(
  warehouse: Warehouse,
  environment: CrawlEnvironment,
  authorFullName: string,
  links: readonly string[],
  options: CrawlOptions,
  onProgress: ProgressListener = ignoreProgress,
): Promise<EtlReport> {
  const author = await warehouse.getOrCreateUser(splitFullName(authorFullName));
  const crawlers = options.crawlers ?? DEFAULT_CRAWLERS;
  const results: LinkResult[] = new Array<LinkResult>(links.length);
  let next = 0;
  let done = 0;
  onProgress({ stage: 'links', done, total: links.length });

  const worker = async () => {
    for (let index = next++; index < links.length; index = next++) {
      const result = await crawlOne(
        warehouse,
        environment,
        author,
        links[index] ?? '',
        crawlers,
        options.perLinkTimeoutMs,
      );
      results[index] = result;
      options.onLinkDone?.(index, result);
      onProgress({ stage: 'links', done: ++done, total: links.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, links.length)) }, worker));
  return { author, results, byDomain: byDomain(results), byCrawler: byCrawler(results) };
}

async function crawlOne(
  warehouse: Warehouse,
  environment: CrawlEnvironment,
  author: User,
  input: string,
  crawlers: Partial<Record<CrawlerKind, Crawler>>,
  timeoutMs: number,
): Promise<LinkResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let route;
  try {
    route = routeLink(input);
  } catch (error) {
    return { input, outcome: 'failed', documents: 0, reason: reasonOf(error), ms: elapsed() };
  }
  const base = { input, link: route.link, crawler: route.crawler };
  try {
    if (
      !MANY_PER_LINK.has(route.crawler) &&
      (await warehouse.hasLink(CATEGORY_OF[route.crawler], route.link))
    ) {
      return { ...base, outcome: 'skipped', documents: 0, reason: 'already in the warehouse', ms: elapsed() };
    }
    const crawler = crawlers[route.crawler];
    if (!crawler) {
      return {
        ...base,
        outcome: 'failed',
        documents: 0,
        reason: `no ${route.crawler} crawler is available yet`,
        ms: elapsed(),
      };
    }
    const context = { isStored: (category: Category, link: string) => warehouse.hasLink(category, link) };
    const found = await withTimeout(
      crawler.crawl(route, author, environment, context),
      timeoutMs,
      route.link,
    );
    const { documents, detail } = Array.isArray(found) ? { documents: found, detail: undefined } : found;
    const report = await warehouse.insertDocuments(documents);
    const outcome = report.inserted > 0 ? 'inserted' : 'skipped';
    return {
      ...base,
      outcome,
      documents: report.inserted,
      ms: elapsed(),
      ...(outcome === 'skipped' ? { reason: 'already in the warehouse' } : {}),
      ...(detail ? { detail } : {}),
    };
  } catch (error) {
    if (error instanceof BlockedError) {
      const hint = hintFor(route);
      return { ...base, outcome: 'blocked', documents: 0, reason: error.message, hint, ms: elapsed() };
    }
    return { ...base, outcome: 'failed', documents: 0, reason: reasonOf(error), ms: elapsed() };
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, link: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up on ${link} after ${String(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Per crawler: links routed to it, and the documents they stored. */
export function byCrawler(results: readonly LinkResult[]): EtlReport['byCrawler'] {
  const crawlers: EtlReport['byCrawler'] = {};
  for (const result of results) {
    const entry = (crawlers[result.crawler ?? 'none'] ??= { links: 0, documents: 0 });
    entry.links += 1;
    entry.documents += result.documents;
  }
  return crawlers;
}

/** Per domain: links that ended inserted or already there, out of all links. */
export function byDomain(results: readonly LinkResult[]): EtlReport['byDomain'] {
  const domains: EtlReport['byDomain'] = {};
  for (const result of results) {
    let domain = 'invalid links';
    try {
      domain = new URL(result.link ?? result.input).hostname.replace(/^www\./u, '');
    } catch {
      // unparseable links are counted together
    }
    const entry = (domains[domain] ??= { successful: 0, total: 0 });
    entry.total += 1;
    if (result.outcome === 'inserted' || result.outcome === 'skipped') entry.successful += 1;
  }
  return domains;
}
