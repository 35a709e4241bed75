import type { RawDocument, User } from '../../domain/index.js';
import type { Route } from '../links.js';
import { articleDocument } from './documents.js';
import { READ_MEDIUM_STORY, SCROLL_ONCE, type MediumStory } from './page-scripts.js';
import { CrawlError, type CrawlEnvironment, type Crawler } from './types.js';

const SCROLLS = 5;

/**
 * Medium renders and lazy-loads its stories with JavaScript: a headless browser scrolls the story (up
 * to five screens) and reads the title (h1.pw-post-title), the subtitle (h2.pw-subtitle-paragraph, often
 * absent) and the story text.
 */
export const mediumCrawler = {
  async crawl(route: Route, author: User, environment: CrawlEnvironment): Promise<RawDocument[]> {
    const story = await environment.browser.withPage(route.link, async (page) => {
      for (let scroll = 0; scroll < SCROLLS; scroll++) {
        if (!(await page.evaluate(SCROLL_ONCE))) break;
      }
      return (await page.evaluate(READ_MEDIUM_STORY)) as MediumStory;
    });
    if (!story.title || story.content.length < 100)
      throw new CrawlError('no Medium story on the page (title or text missing)');
    return [articleDocument(author, route.platform, route.link, story)];
  },
} satisfies Crawler;
