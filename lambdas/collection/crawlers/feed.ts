import type { RawDocument, User } from '../../domain/index.js';
import { advertisedFeed, FULL_TEXT_MIN_CHARS, looksLikeFeed, parseFeed, type FeedItem } from '../feeds.js';
import type { FetchedPage } from '../http-fetch.js';
import { routeLink, type Route } from '../links.js';
import { fetchPage, isHtml, readArticle } from './article-page.js';
import { articleDocument } from './documents.js';
import {
  CrawlError,
  type Collected,
  type CrawlContext,
  type CrawlEnvironment,
  type Crawler,
} from './types.js';

/**
 * Items followed to their pages in one run. The rest wait for the next run, which skips what is
 * stored: a long summary-only feed is collected over a few runs instead of one run that times out.
 */
export const MAX_FOLLOWED_PER_RUN = 25;

/** An RSS or Atom feed link (or a page that advertises one), read with the guarded fetch. */
export const feedCrawler: Crawler = {
  async crawl(route: Route, author: User, environment: CrawlEnvironment, context?: CrawlContext) {
    let page = await fetchPage(route.link, environment);
    if (!looksLikeFeed(page.contentType, page.body)) {
      const advertised = isHtml(page) ? advertisedFeed(page.body, page.url) : undefined;
      if (!advertised) {
        throw new CrawlError(
          `not an RSS or Atom feed: ${page.url} is ${page.contentType || 'of no content type'} and names no feed`,
        );
      }
      page = await fetchPage(advertised, environment);
    }
    return collectFeed(page, author, environment, context);
  },
};

/**
 * The articles of a fetched feed. Items with their full text in the feed are stored as they are;
 * items with only a summary are followed to their page through the article reader (guarded fetch,
 * bot-wall check), unless the warehouse already has that link.
 */
export async function collectFeed(
  page: FetchedPage,
  author: User,
  environment: CrawlEnvironment,
  context?: CrawlContext,
): Promise<Collected> {
  const feed = parseFeed(page.body);
  if (!feed) throw new CrawlError(`${page.url} could not be read as an RSS 2.0 or Atom feed`);
  if (feed.items.length === 0) throw new CrawlError(`the feed ${page.url} has no items`);
  const tally = { full: 0, followed: 0, stored: 0, later: 0, unusable: 0, failed: [] as string[] };
  const documents: RawDocument[] = [];
  const seen = new Set<string>();
  for (const item of feed.items) {
    const route = itemRoute(item);
    if (!route || seen.has(route.link)) {
      tally.unusable += 1;
      continue;
    }
    seen.add(route.link);
    if (item.text && item.text.length >= FULL_TEXT_MIN_CHARS) {
      documents.push(fullTextDocument(author, route, item, feed.language));
      tally.full += 1;
      continue;
    }
    if (await context?.isStored('articles', route.link)) {
      tally.stored += 1;
      continue;
    }
    if (tally.followed >= MAX_FOLLOWED_PER_RUN) {
      tally.later += 1;
      continue;
    }
    tally.followed += 1;
    try {
      const article = await fetchPage(route.link, environment);
      documents.push(await readArticle(route, author, environment, article, item.publishedAt));
    } catch (error) {
      tally.failed.push(`${route.link}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (documents.length === 0 && tally.failed.length > 0)
    throw new CrawlError(`no item of the feed could be read; first: ${tally.failed[0] ?? ''}`);
  return { documents, detail: describe(feed.format, feed.items.length, tally) };
}

function itemRoute(item: FeedItem): Route | undefined {
  if (!item.link) return undefined;
  try {
    const route = routeLink(item.link);
    return { ...route, crawler: 'article' };
  } catch {
    return undefined;
  }
}

function fullTextDocument(author: User, route: Route, item: FeedItem, language: string | null) {
  const article = { title: item.title, subtitle: null, content: item.text ?? '', language };
  return articleDocument(author, route.platform, route.link, article, item.publishedAt);
}

function describe(
  format: string,
  items: number,
  tally: {
    full: number;
    followed: number;
    stored: number;
    later: number;
    unusable: number;
    failed: string[];
  },
): string {
  const parts = [
    `${format.toUpperCase()} feed of ${String(items)} items: ${String(tally.full)} with full text`,
  ];
  if (tally.followed > 0) parts.push(`${String(tally.followed - tally.failed.length)} read from their pages`);
  if (tally.stored > 0) parts.push(`${String(tally.stored)} already stored`);
  if (tally.later > 0) parts.push(`${String(tally.later)} left for the next run`);
  if (tally.unusable > 0) parts.push(`${String(tally.unusable)} without a usable link`);
  if (tally.failed.length > 0) parts.push(`${String(tally.failed.length)} failed (${tally.failed[0] ?? ''})`);
  return parts.join(', ');
}
