import { parseHTML } from 'linkedom';
import type { Route } from './links.js';
import { CrawlError } from './crawlers/types.js';

/** What a crawler saw at the end of a navigation or fetch, after redirects. */
export interface SeenPage {
  status: number;
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  html: string;
}

export interface BotWall {
  /** A challenge (Cloudflare and the like), a refusal (LinkedIn's HTTP 999), or a login wall. */
  kind: 'challenge' | 'refusal' | 'login';
  /** What gave it away, in words. */
  evidence: string;
}

/** Script hosts and paths that only bot checks load. */
const CHALLENGE_SCRIPTS = [
  /challenges\.cloudflare\.com/u,
  /\/cdn-cgi\/challenge-platform\//u,
  /captcha-delivery\.com/u, // DataDome
  /\/px-captcha|perimeterx/iu,
];

const CHALLENGE_TITLES = [
  /^just a moment/iu,
  /^attention required! \| cloudflare/iu,
  /^verify you are human/iu,
];

/** Paths a site sends an anonymous or suspicious visitor to instead of the page asked for. */
const LOGIN_PATH = /(^|\/)(login|signin|sign-in|sign_in|authwall|checkpoint|uas\/login)(\/|$)/iu;

interface Node {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
interface Document {
  querySelector(selector: string): Node | null;
  querySelectorAll(selector: string): Iterable<Node>;
}

/**
 * Recognises a page that stands between the crawler and the content: a bot check, a refusal, or a
 * login wall. Only the page's structure is read (its title, the scripts it loads, its forms), never
 * its text, so an article that merely talks about Cloudflare is not mistaken for a challenge.
 * `loginExpected` is for a crawler that opens a login page on purpose.
 */
export function recognizeBotWall(
  page: SeenPage,
  options: { loginExpected?: boolean } = {},
): BotWall | undefined {
  if (page.status === 999) return { kind: 'refusal', evidence: 'HTTP 999 (LinkedIn refuses crawlers)' };
  const mitigated = header(page, 'cf-mitigated');
  if (mitigated === 'challenge')
    return { kind: 'challenge', evidence: 'a Cloudflare challenge (cf-mitigated)' };
  const document = (parseHTML(page.html) as unknown as { document: Document }).document;
  const title = document.querySelector('title')?.textContent?.trim() ?? '';
  if (CHALLENGE_TITLES.some((pattern) => pattern.test(title)))
    return { kind: 'challenge', evidence: `a bot check titled "${title.slice(0, 60)}"` };
  for (const script of document.querySelectorAll('script[src], iframe[src]')) {
    const source = script.getAttribute('src') ?? '';
    if (CHALLENGE_SCRIPTS.some((pattern) => pattern.test(source)))
      return { kind: 'challenge', evidence: `a bot check (it loads ${hostOf(source)})` };
  }
  if (document.querySelector('#challenge-form, #cf-challenge-running, .cf-turnstile'))
    return { kind: 'challenge', evidence: 'a Cloudflare challenge form' };
  if (options.loginExpected) return undefined;
  let path = '';
  try {
    path = new URL(page.url).pathname;
  } catch {
    // an unparseable URL has no path to judge
  }
  if (LOGIN_PATH.test(path))
    return { kind: 'login', evidence: `it sent the crawler to a login page (${path})` };
  if ((page.status === 401 || page.status === 403) && document.querySelector('input[type="password"]'))
    return { kind: 'login', evidence: `HTTP ${String(page.status)} with a login form` };
  return undefined;
}

function header(page: SeenPage, name: string): string | undefined {
  const value = page.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase();
}

function hostOf(source: string): string {
  try {
    return new URL(source, 'https://page.invalid').hostname.replace('page.invalid', 'the site itself');
  } catch {
    return 'a bot-check script';
  }
}

/**
 * A link that a bot wall stood in front of. Nothing from such a page is stored; the ETL reports it
 * as `blocked`, with the hint for its platform (`hintFor`).
 */
export class BlockedError extends CrawlError {
  constructor(
    link: string,
    readonly wall: BotWall,
  ) {
    super(`blocked: ${link} answered with ${wall.evidence}, not the page`);
    this.name = 'BlockedError';
  }
}

/** What gets the same writing without a crawler, per platform: its export or its feed. */
export function hintFor(route: Pick<Route, 'link' | 'platform'>): string {
  const url = new URL(route.link);
  switch (route.platform) {
    case 'medium': {
      const user = /^\/(@[^/]+)/u.exec(url.pathname)?.[1];
      const feed = user ? `https://medium.com/feed/${user}` : 'https://medium.com/feed/@<you>';
      return (
        'Medium shows crawlers a bot check. Import your Medium export instead (medium.com → Settings → ' +
        'Security and apps → Download your information, then `twin etl --export <zip> --author "<name>"`), ' +
        `or collect your feed ${feed} (your latest stories).`
      );
    }
    case 'linkedin':
      return (
        'LinkedIn refuses crawlers and challenges logins from servers. Import your LinkedIn data export ' +
        'instead (Settings & Privacy → Data privacy → Get a copy of your data; pick Articles and Posts), ' +
        'with `twin etl --export <zip> --author "<name>"`.'
      );
    case 'substack':
      return (
        `Import your Substack export instead (Settings → Exports, then \`twin etl --export <zip> --site ${url.origin}\`), ` +
        `or collect the feed ${url.origin}/feed.`
      );
    default:
      return `If the site has an RSS or Atom feed (often ${url.origin}/feed), collect that link instead: feeds are read without a browser.`;
  }
}
