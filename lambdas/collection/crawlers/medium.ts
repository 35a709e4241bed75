import type { RawDocument, User } from '../../domain/index.js';
import type { Route } from '../links.js';
import { articleDocument } from './documents.js';
import type { PageGlobals } from './page-globals.js';
import { CrawlError, type CrawlEnvironment, type Crawler } from './types.js';

const SCROLLS = 5;

/**
 * Medium renders and lazy-loads its stories with JavaScript: a headless browser scrolls the story (up
 * to five screens) and reads the title (h1.pw-post-title), the subtitle (h2.pw-subtitle-paragraph, often
 * absent) and the story text.
 */
export const mediumCrawler: Crawler = {
  async crawl(route: Route, author: User, environment: CrawlEnvironment): Promise<RawDocument[]> {
    const story = await environment.browser.withPage(route.link, async (page) => {
      for (let scroll = 0; scroll < SCROLLS; scroll++) {
        const grew = await page.evaluate(async () => {
          const { document, window } = globalThis as unknown as PageGlobals;
          const before = document.body.scrollHeight;
          window.scrollTo(0, before);
          await new Promise((resolve) => setTimeout(resolve, 150));
          return document.body.scrollHeight > before;
        });
        if (!grew) break;
      }
      return page.evaluate(() => {
        const { document } = globalThis as unknown as PageGlobals;
        const text = (selector: string) => document.querySelector(selector)?.textContent.trim() || null;
        const body = document.querySelector('article') ?? document.body;
        return {
          title: text('h1.pw-post-title') ?? text('h1'),
          subtitle: text('h2.pw-subtitle-paragraph'),
          content: body.innerText.trim(),
          language: document.documentElement.lang || null,
        };
      });
    });
    if (!story.title || story.content.length < 100)
      throw new CrawlError('no Medium story on the page (title or text missing)');
    return [articleDocument(author, route.platform, route.link, story)];
  },
};
