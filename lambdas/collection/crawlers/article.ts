import type { User } from '../../domain/index.js';
import { advertisedFeed, looksLikeFeed } from '../feeds.js';
import type { Route } from '../links.js';
import { fetchPage, isHtml, readArticle } from './article-page.js';
import { collectFeed } from './feed.js';
import type { Collected, CrawlContext, CrawlEnvironment, Crawler } from './types.js';

/**
 * Any article page (Substack, personal blogs, ...): a plain HTTP fetch and Readability, the browser
 * only for pages that render with JavaScript. A link that turns out to be a feed, or a site's home
 * page that advertises one, is collected as that feed.
 */
export const articleCrawler: Crawler = {
  async crawl(
    route: Route,
    author: User,
    environment: CrawlEnvironment,
    context?: CrawlContext,
  ): Promise<Collected> {
    const page = await fetchPage(route.link, environment);
    if (looksLikeFeed(page.contentType, page.body)) return collectFeed(page, author, environment, context);
    const feed = isHtml(page) && isSiteHome(route.link) ? advertisedFeed(page.body, page.url) : undefined;
    if (feed) return collectFeed(await fetchPage(feed, environment), author, environment, context);
    return { documents: [await readArticle(route, author, environment, page)] };
  },
};

/** A site's home page lists its writing; the feed it advertises holds the same, readably. */
function isSiteHome(link: string): boolean {
  return new URL(link).pathname === '/';
}
