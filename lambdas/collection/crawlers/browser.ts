import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { USER_AGENT } from '../http-fetch.js';
import { hostnameOf, vetHost, type NetworkPolicy } from '../network-guard.js';

/** Chromium flags that work headless in containers and CI, with nothing phoning home. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface BrowserOptions {
  /** A local Chromium; when absent in Lambda, @sparticuz/chromium provides one. */
  executablePath?: string;
  network: NetworkPolicy;
  navigationTimeoutMs: number;
}

/**
 * One headless Chromium for a batch of links, started on first use (a batch of repositories never
 * starts it). Pages are always closed; every request a page makes (redirects, scripts, frames) goes
 * through the same network guard as plain fetches.
 */
export class BrowserSession {
  private browser: Promise<{ browser: Browser; profile?: string }> | undefined;

  constructor(private readonly options: BrowserOptions) {}

  async withPage<T>(url: string, work: (page: Page) => Promise<T>): Promise<T> {
    const { browser } = await this.start();
    const page = await browser.newPage();
    try {
      await page.setUserAgent({ userAgent: USER_AGENT });
      page.setDefaultTimeout(this.options.navigationTimeoutMs);
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        // A request can outlive its page (closed on error); answering it then fails, harmlessly.
        void this.allowed(request.url())
          .then((ok) => (ok ? request.continue() : request.abort('blockedbyclient')))
          .catch(() => undefined);
      });
      await vetHost(hostnameOf(new URL(url)), this.options.network);
      const response = await page.goto(url, {
        waitUntil: 'networkidle2',
        timeout: this.options.navigationTimeoutMs,
      });
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
    const { browser, profile } = await started.catch(() => ({ browser: undefined, profile: undefined }));
    await browser?.close().catch(() => undefined);
    if (profile) await rm(profile, { recursive: true, force: true });
  }

  private async allowed(url: string): Promise<boolean> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') return true;
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
    try {
      await vetHost(hostnameOf(parsed), this.options.network);
      return true;
    } catch {
      return false;
    }
  }

  private start(): Promise<{ browser: Browser; profile?: string }> {
    this.browser ??= this.launch();
    return this.browser;
  }

  private async launch(): Promise<{ browser: Browser; profile?: string }> {
    const puppeteer = await import('puppeteer-core');
    if (!this.options.executablePath && process.env.AWS_LAMBDA_FUNCTION_NAME) {
      const chromium = (await import('@sparticuz/chromium')).default;
      const browser = await puppeteer.launch({
        args: [...chromium.args, '--disable-quic'],
        executablePath: await chromium.executablePath(),
        headless: true,
      });
      return { browser };
    }
    if (!this.options.executablePath) {
      throw new Error(
        'no Chromium configured: install Chromium and set TWIN_CHROMIUM_PATH (e.g. /usr/bin/chromium)',
      );
    }
    const profile = await mkdtemp(join(tmpdir(), 'twin-chromium-'));
    const browser = await puppeteer.launch({
      executablePath: this.options.executablePath,
      args: [...FLAGS, `--user-data-dir=${profile}`],
      headless: true,
    });
    return { browser, profile };
  }
}
