import { createHash } from 'node:crypto';
import {
  describeZodIssues,
  fullNameOf,
  PostSchema,
  type RawDocument,
  type User,
} from '../../domain/index.js';
import { BlockedError } from '../bot-walls.js';
import type { Route } from '../links.js';
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
      .map((post) => postDocument(author, origin, post));
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

/**
 * A UUID (version-4 shaped) derived from the author and the post, so that crawling a feed twice
 * stores each post once even when it has no link.
 */
export function postId(authorId: string, identity: string): string {
  const hex = createHash('sha256').update(authorId).update('\n').update(identity).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function postDocument(author: User, origin: string, post: FeedPost): RawDocument {
  const link = post.urn ? `${origin}/feed/update/${post.urn}` : undefined;
  const image = post.image && /^https?:/u.test(post.image) ? post.image : undefined;
  const parsed = PostSchema.safeParse({
    category: 'posts',
    id: postId(author.id, post.urn ?? post.text),
    content: { text: post.text },
    platform: 'linkedin',
    authorId: author.id,
    authorFullName: fullNameOf(author),
    ...(link ? { link } : {}),
    ...(image ? { image } : {}),
  });
  if (!parsed.success)
    throw new CrawlError(`a LinkedIn post did not validate: ${describeZodIssues(parsed.error).join('; ')}`);
  return parsed.data;
}
