import type { RawDocument, User } from '../../domain/index.js';
import { BlockedError, recognizeBotWall } from '../bot-walls.js';
import { guardedFetch } from '../http-fetch.js';
import { extractArticle } from '../html.js';
import type { Route } from '../links.js';
import { articleDocument } from './documents.js';
import { CrawlError, type CrawlEnvironment, type Crawler } from './types.js';

/**
 * Any article page (Substack, personal blogs, ...): a plain HTTP fetch and Readability. Only when the
 * served HTML holds no readable article (a page that renders with JavaScript) is the browser used.
 */
export const articleCrawler: Crawler = {
  async crawl(route: Route, author: User, environment: CrawlEnvironment): Promise<RawDocument[]> {
    const page = await guardedFetch(route.link, environment.network, environment.limits);
    const wall = recognizeBotWall({ ...page, html: page.body });
    if (wall) throw new BlockedError(route.link, wall);
    if (page.status >= 400) throw new CrawlError(`HTTP ${String(page.status)} from ${page.url}`);
    if (!/^(text\/html|application\/xhtml\+xml)/u.test(page.contentType)) {
      throw new CrawlError(
        `not an article page: ${page.contentType || 'no content type'} (only HTML articles, posts and repositories are collected)`,
      );
    }
    const article =
      extractArticle(page.body) ??
      (await environment.browser.withPage(route.link, async (rendered) =>
        extractArticle(await rendered.content()),
      ));
    if (!article)
      throw new CrawlError('no readable article on the page, even after rendering it in a browser');
    return [articleDocument(author, route.platform, route.link, article)];
  },
};
