import type { RawDocument, User } from '../../domain/index.js';
import { BlockedError } from '../bot-walls.js';
import type { Route } from '../links.js';
import { postDocument } from './documents.js';
import { READ_LINKEDIN_POSTS, SCROLL_ONCE, type FeedPost } from './page-scripts.js';
import { CrawlError, type CrawlEnvironment, type Crawler } from './types.js';

const SCROLLS = 5;

/**
 * LinkedIn: logs in with the configured account, opens the author's activity feed, scrolls it (up to
 * five screens) and stores one `posts` document per post: its text, its link when it has an id, its
 * first image when it has one.
 */
export const linkedinCrawler = {
  async crawl(route: Route, author: User, environment: CrawlEnvironment): Promise<RawDocument[]> {
    const credentials = environment.linkedin;
    if (!credentials) {
      throw new CrawlError(
        'LinkedIn needs credentials: set LINKEDIN_USERNAME and LINKEDIN_PASSWORD (on AWS, their secrets in Secrets Manager)',
      );
    }
    const origin = new URL(route.link).origin;
    await environment.browser.withPage(
      `${origin}/login`,
      async (page) => {
        if (!(await page.$('#username'))) return; // this browser is already logged in
        await page.type('#username', credentials.username);
        await page.type('#password', credentials.password);
        await Promise.all([
          page.waitForNavigation({ waitUntil: 'networkidle2' }),
          page.click('button[type="submit"]'),
        ]);
        // A login from a server's address is often sent to a security check instead of the feed.
        if (/\/checkpoint(\/|$)/u.test(new URL(page.url()).pathname)) {
          throw new BlockedError(route.link, {
            kind: 'login',
            evidence: 'a security check after the login (LinkedIn challenges logins from servers)',
          });
        }
        if (await page.$('#username'))
          throw new CrawlError('LinkedIn refused the login: check LINKEDIN_USERNAME and LINKEDIN_PASSWORD');
      },
      { loginExpected: true },
    );
    const posts = await environment.browser.withPage(route.link, async (page) => {
      for (let scroll = 0; scroll < SCROLLS; scroll++) await page.evaluate(SCROLL_ONCE);
      return (await page.evaluate(READ_LINKEDIN_POSTS)) as FeedPost[];
    });
    return uniquePosts(posts)
      .filter((post) => post.text !== '')
      .map((post) => postFromFeed(author, origin, post));
  },
} satisfies Crawler;

function uniquePosts(posts: FeedPost[]): FeedPost[] {
  const seen = new Set<string>();
  return posts.filter((post) => {
    const key = post.urn ?? post.text;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function postFromFeed(author: User, origin: string, post: FeedPost): RawDocument {
  const link = post.urn ? `${origin}/feed/update/${post.urn}` : undefined;
  const image = post.image && /^https?:/u.test(post.image) ? post.image : undefined;
  return postDocument(author, 'linkedin', post.urn ?? post.text, {
    text: post.text,
    ...(link ? { link } : {}),
    ...(image ? { image } : {}),
  });
}
