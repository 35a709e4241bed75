import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { USER_AGENT } from '../http-fetch.js';
import { BlockedError, recognizeBotWall } from '../bot-walls.js';
import { GuardProxy } from '../guard-proxy.js';
import { hostnameOf, vetHost, type NetworkPolicy } from '../network-guard.js';

/** Chromium flags that work headless in containers and CI, with nothing phoning home. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Flags that leave Chromium one way out, the guard proxy: every connection (loopback included, which
 * Chromium would otherwise bypass) goes through it; no QUIC (UDP, which a proxy cannot carry); WebRTC
 * only over the proxy; and no name resolution of its own, so no DNS answer but the proxy's is used.
 */
function confinedTo(proxy: GuardProxy): string[] {
  return [
    `--proxy-server=${proxy.address}`,
    '--proxy-bypass-list=<-loopback>',
    '--disable-quic',
    '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    '--dns-prefetch-disable',
  ];
}

interface Started {
  browser: Browser;
  proxy: GuardProxy;
  profile?: string;
}

export interface BrowserOptions {
  /** A local Chromium; when absent in Lambda, @sparticuz/chromium provides one. */
  executablePath?: string;
  network: NetworkPolicy;
  navigationTimeoutMs: number;
}

/**
 * One headless Chromium for a batch of links, started on first use (a batch of repositories never
 * starts it). Pages are always closed. Every connection a page makes (navigations, redirects,
 * subresources, WebSockets) goes through the guard proxy, which vets it and pins the vetted address.
 */
export class BrowserSession {
  private browser: Promise<Started> | undefined;

  constructor(private readonly options: BrowserOptions) {}

  /**
   * Opens the URL and hands the loaded page to `work`. A bot wall (a challenge, a refusal, a login
   * page unless `loginExpected`) is a BlockedError before `work` sees anything.
   */
  async withPage<T>(
    url: string,
    work: (page: Page) => Promise<T>,
    options: { loginExpected?: boolean } = {},
  ): Promise<T> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`refused ${url}: only http and https links are crawled`);
    const host = hostnameOf(parsed);
    // Vetted here too, so a forbidden link fails with a clear reason before a browser starts.
    await vetHost(host, this.options.network);
    const { browser, proxy } = await this.start();
    const page = await browser.newPage();
    try {
      await page.setUserAgent({ userAgent: USER_AGENT });
      page.setDefaultTimeout(this.options.navigationTimeoutMs);
      const response = await page
        .goto(url, { waitUntil: 'networkidle2', timeout: this.options.navigationTimeoutMs })
        .catch((error: unknown) => {
          throw proxy.refusalFor(host) ?? error;
        });
      const refusal = response && response.status() >= 400 ? proxy.refusalFor(host) : undefined;
      if (refusal) throw refusal;
      const wall = recognizeBotWall(
        {
          status: response?.status() ?? 0,
          url: page.url(),
          headers: response?.headers() ?? {},
          html: await page.content(),
        },
        options,
      );
      if (wall) throw new BlockedError(url, wall);
      if (response && response.status() >= 400)
        throw new Error(`HTTP ${String(response.status())} from ${url}`);
      return await work(page);
    } finally {
      await page.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const started = this.browser;
    this.browser = undefined;
    if (!started) return;
    const stopped = await started.catch(() => undefined);
    await stopped?.browser.close().catch(() => undefined);
    await stopped?.proxy.close();
    if (stopped?.profile) await rm(stopped.profile, { recursive: true, force: true });
  }

  private start(): Promise<Started> {
    this.browser ??= this.launch();
    return this.browser;
  }

  private async launch(): Promise<Started> {
    const puppeteer = await import('puppeteer-core');
    const lambdaChromium =
      !this.options.executablePath && process.env.AWS_LAMBDA_FUNCTION_NAME
        ? (await import('@sparticuz/chromium')).default
        : undefined;
    if (!this.options.executablePath && !lambdaChromium) {
      throw new Error(
        'no Chromium configured: install Chromium and set TWIN_CHROMIUM_PATH (e.g. /usr/bin/chromium)',
      );
    }
    const proxy = await GuardProxy.start({ network: this.options.network });
    try {
      if (lambdaChromium) {
        const browser = await puppeteer.launch({
          args: [...lambdaChromium.args, ...confinedTo(proxy)],
          executablePath: await lambdaChromium.executablePath(),
          headless: true,
        });
        return { browser, proxy };
      }
      const profile = await mkdtemp(join(tmpdir(), 'twin-chromium-'));
      const browser = await puppeteer.launch({
        executablePath: this.options.executablePath,
        args: [...FLAGS, ...confinedTo(proxy), `--user-data-dir=${profile}`],
        headless: true,
      });
      return { browser, proxy, profile };
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }
}
