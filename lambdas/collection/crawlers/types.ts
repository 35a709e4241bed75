import type { Category, RawDocument, User } from '../../domain/index.js';
import type { FetchLimits } from '../http-fetch.js';
import type { Route } from '../links.js';
import type { NetworkPolicy } from '../network-guard.js';
import type { BrowserSession } from './browser.js';

/** Everything a crawler may use: the network policy and limits, and the batch's shared browser. */
export interface CrawlEnvironment {
  network: NetworkPolicy;
  limits: FetchLimits;
  browser: BrowserSession;
  git: GitOptions;
  /** LinkedIn login, from settings or Secrets Manager; LinkedIn links fail clearly without it. */
  linkedin?: { username: string; password: string };
}

export interface GitOptions {
  timeoutMs: number;
  /** A repository bigger than this on disk after the clone is refused. */
  maxRepositoryBytes: number;
  maxFileBytes: number;
  /** Extra `git -c` settings (tests map github.com to local repositories with url.<base>.insteadOf). */
  config: Record<string, string>;
}

/** What the ETL knows while it crawls: a crawler that finds many links skips those already stored. */
export interface CrawlContext {
  isStored(category: Category, link: string): Promise<boolean>;
}

/** Documents found at one link, with a word on what was left out (a feed's items that failed). */
export interface Collected {
  documents: RawDocument[];
  detail?: string;
}

export interface Crawler {
  /** The documents found at the link, validated; throws CrawlError with a reason a user can act on. */
  crawl(
    route: Route,
    author: User,
    environment: CrawlEnvironment,
    context?: CrawlContext,
  ): Promise<RawDocument[] | Collected>;
}

/** A link that could not be collected, and why (reported per link, never fatal to the others). */
export class CrawlError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CrawlError';
  }
}
