import { InvalidInputError } from '../domain/index.js';

/** Which crawler handles a link, and which platform its documents are stored under. */
export type CrawlerKind = 'medium' | 'linkedin' | 'repository' | 'feed' | 'article';

export interface Route {
  crawler: CrawlerKind;
  platform: string;
  /** The normalised link: the identity used for idempotency and stored on the document. */
  link: string;
}

/** Query parameters that only track where a reader came from; they never change the page. */
const TRACKING_PARAMETERS = [
  /^utm_/u,
  /^(r|ref|ref_src|source|sk|fbclid|gclid|mc_cid|mc_eid|trk|trackingId|rcm)$/u,
];

function isTracking(name: string): boolean {
  return TRACKING_PARAMETERS.some((pattern) => pattern.test(name));
}

function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^www\./u, '');
}

function onDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * Normalises a link so that spellings of the same page compare equal: lower-case host without `www.`,
 * no fragment, no tracking parameters, remaining parameters sorted, no trailing slash, and https for
 * the platforms we know serve only https. Repository links are cut down to `host/owner/name`.
 */
export function normalizeLink(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidInputError(`not a URL: ${JSON.stringify(raw)}`, 'link');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(`only http(s) links can be crawled, not ${url.protocol}`, 'link');
  }
  if (url.username || url.password) throw new InvalidInputError('links must not carry credentials', 'link');
  const host = hostOf(url);
  url.hostname = host;
  url.hash = '';
  const kept = [...url.searchParams.entries()]
    .filter(([name]) => !isTracking(name))
    .sort(([a], [b]) => a.localeCompare(b));
  url.search = new URLSearchParams(kept).toString();
  if (KNOWN_HTTPS.some((domain) => onDomain(host, domain))) url.protocol = 'https:';
  if (isRepositoryHost(host)) {
    const [owner, name] = url.pathname.split('/').filter(Boolean);
    if (!owner || !name)
      throw new InvalidInputError(`not a repository link (expected ${host}/<owner>/<name>): ${raw}`, 'link');
    url.pathname = `/${owner}/${name.replace(/\.git$/u, '')}`;
    url.search = '';
  }
  url.pathname = url.pathname.replace(/\/+$/u, '') || '/';
  const text = url.toString();
  return url.pathname === '/' && !url.search ? text.replace(/\/$/u, '') : text;
}

const KNOWN_HTTPS = ['medium.com', 'linkedin.com', 'github.com', 'gitlab.com', 'substack.com'];

function isRepositoryHost(host: string): boolean {
  return host === 'github.com' || host === 'gitlab.com';
}

/**
 * Paths that name a feed by convention: `/feed` (Substack, WordPress, Medium's `/feed/@user`), `/rss`,
 * `/atom`, `feed.xml`, `index.xml`, `*.rss`, `*.atom`. A feed elsewhere is recognised when fetched.
 */
const FEED_PATH = /(^|\/)(feed|rss|atom)(\/|\.xml$|$)|\/(index|feed|rss|atom)\.xml$|\.(rss|atom)$/iu;

/** Which platform a host's documents are stored under. */
function platformOf(host: string): string {
  if (onDomain(host, 'medium.com')) return 'medium';
  if (onDomain(host, 'linkedin.com')) return 'linkedin';
  if (host === 'github.com') return 'github';
  if (host === 'gitlab.com') return 'gitlab';
  if (onDomain(host, 'substack.com')) return 'substack';
  return host;
}

/**
 * Picks the crawler for a link (SYSTEM.md §1): by host, `www.` optional, subdomains included; a feed
 * path on any other host (Medium's and Substack's included) goes to the feed crawler.
 */
export function routeLink(raw: string): Route {
  const link = normalizeLink(raw);
  const url = new URL(link);
  const host = hostOf(url);
  const platform = platformOf(host);
  if (platform === 'linkedin') return { crawler: 'linkedin', platform, link }; // its /feed is the app's
  if (platform === 'github' || platform === 'gitlab') return { crawler: 'repository', platform, link };
  if (FEED_PATH.test(url.pathname)) return { crawler: 'feed', platform, link };
  if (platform === 'medium') return { crawler: 'medium', platform, link };
  return { crawler: 'article', platform, link };
}
