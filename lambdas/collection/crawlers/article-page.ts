import type { DocumentOf, User } from '../../domain/index.js';
import { BlockedError, recognizeBotWall } from '../bot-walls.js';
import { guardedFetch, type FetchedPage } from '../http-fetch.js';
import { extractArticle } from '../html.js';
import type { Route } from '../links.js';
import { articleDocument } from './documents.js';
import { CrawlError, type CrawlEnvironment } from './types.js';

/** A guarded fetch that fails on a bot wall (BlockedError) and on an HTTP error, with the reason. */
export async function fetchPage(link: string, environment: CrawlEnvironment): Promise<FetchedPage> {
  const page = await guardedFetch(link, environment.network, environment.limits);
  const wall = recognizeBotWall({ ...page, html: page.body });
  if (wall) throw new BlockedError(link, wall);
  if (page.status >= 400) throw new CrawlError(`HTTP ${String(page.status)} from ${page.url}`);
  return page;
}

export function isHtml(page: FetchedPage): boolean {
  return /^(text\/html|application\/xhtml\+xml)/u.test(page.contentType);
}

/**
 * The article of a fetched page with Readability. Only when the served HTML holds no readable article
 * (a page that renders with JavaScript) is the browser used.
 */
export async function readArticle(
  route: Route,
  author: User,
  environment: CrawlEnvironment,
  page: FetchedPage,
  publishedAt?: string,
): Promise<DocumentOf<'articles'>> {
  if (!isHtml(page)) {
    throw new CrawlError(
      `not an article page: ${page.contentType || 'no content type'} (only HTML articles, feeds, posts and repositories are collected)`,
    );
  }
  const article =
    extractArticle(page.body) ??
    (await environment.browser.withPage(route.link, async (rendered) =>
      extractArticle(await rendered.content()),
    ));
  if (!article) throw new CrawlError('no readable article on the page, even after rendering it in a browser');
  return articleDocument(author, route.platform, route.link, article, publishedAt);
}
