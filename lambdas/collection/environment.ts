import { existsSync } from 'node:fs';
import type { Settings } from '../settings/index.js';
import { BrowserSession } from './crawlers/browser.js';
import type { CrawlEnvironment } from './crawlers/types.js';
import { DEFAULT_LIMITS } from './http-fetch.js';
import type { NetworkPolicy } from './network-guard.js';

const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

export const DEFAULT_GIT = {
  timeoutMs: 120_000,
  maxRepositoryBytes: 200 * 1024 * 1024,
  maxFileBytes: 256 * 1024,
  config: {},
};

/**
 * What the crawlers of one batch share: one browser (started only if a link needs it), the network
 * policy, limits and credentials. Close it when the batch is done.
 */
export function openCrawlEnvironment(
  settings: Settings,
  overrides: { network?: NetworkPolicy; git?: Partial<CrawlEnvironment['git']> } = {},
): CrawlEnvironment & { close(): Promise<void> } {
  const network = overrides.network ?? {};
  const executablePath = settings.crawl.chromiumPath ?? CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  const browser = new BrowserSession({
    network,
    navigationTimeoutMs: 30_000,
    ...(executablePath ? { executablePath } : {}),
  });
  const { LINKEDIN_USERNAME: username, LINKEDIN_PASSWORD: password } = settings.secrets;
  return {
    network,
    limits: DEFAULT_LIMITS,
    browser,
    git: { ...DEFAULT_GIT, ...overrides.git },
    ...(username && password ? { linkedin: { username, password } } : {}),
    close: () => browser.close(),
  };
}
