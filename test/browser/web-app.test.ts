// Callbacks passed to page.$eval and page.waitForFunction run inside the browser (DOM types: see tsconfig.json here).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../support/chromium.js';
import { REPO_ROOT, referenceCorpusAvailable } from '../support/environment.js';
import { startFixtureSites, type FixtureSites } from '../support/fixture-sites.js';
import { startLlmServer, type LlmServer } from '../support/llm-server.js';
import {
  embeddingModelAvailable,
  localModelAvailable,
  STAND_IN_CROSS_ENCODER_ID,
  standInCrossEncoderAvailable,
} from '../support/models.js';
import { AccessControl } from '../../lambdas/access/policy-store.js';
import { EMPTY_POLICY, grant, issueToken } from '../../lambdas/access/policy.js';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';
import { mediumExportEntries } from '../support/platform-exports.js';
import { startTwinServe, type TwinServe } from '../support/twin-serve.js';
import { zipArchive } from '../support/zip-archives.js';

/** Screenshots land here, for CI to keep as artifacts. */
const SCREENSHOTS = join(REPO_ROOT, 'reports', 'web');

const ready =
  chromiumAvailable() &&
  embeddingModelAvailable() &&
  standInCrossEncoderAvailable() &&
  referenceCorpusAvailable();

const text = (page: Page, selector: string) =>
  page.$eval(selector, (element) => (element as HTMLElement).innerText.trim());

/**
 * The web app in Debian's Chromium, against the real `twin serve` over a featurised corpus, a
 * deterministic OpenAI-compatible model and fixture sites on 127.0.0.1.
 */
describe.runIf(ready)('the web app in a real browser', () => {
  let corpus: RagCorpus;
  let llm: LlmServer;
  let sites: FixtureSites;
  let authorsDir: string;
  let serve: TwinServe;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [corpus, llm, sites, authorsDir] = await Promise.all([
      buildRagCorpus(),
      startLlmServer({ tokenDelayMs: 2 }),
      startFixtureSites(),
      mkdtemp(join(tmpdir(), 'twin-authors-')),
      mkdir(SCREENSHOTS, { recursive: true }),
    ]);
    serve = await startTwinServe(['--authors-dir', authorsDir, '--allow-loopback'], {
      ...corpus.env,
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'test-key',
      TWIN_GENERATOR: 'openai',
      TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
      TWIN_CHROMIUM_PATH: CHROMIUM_PATH,
    });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${serve.url}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  }, 240_000);

  afterAll(async () => {
    await browser.close();
    const code = await serve.stop();
    await Promise.all([
      llm.close(),
      sites.close(),
      corpus.dispose(),
      rm(authorsDir, { recursive: true, force: true }),
    ]);
    expect(code).toBe(0);
  }, 60_000);

  it('labels every control, so it can be used with a keyboard and a screen reader', async () => {
    const unlabelled = await page.$$eval('input, select, textarea, button', (controls) =>
      controls
        .filter((control) => {
          const labelled =
            (control as HTMLInputElement).labels?.length ||
            control.getAttribute('aria-label') ||
            (control.tagName === 'BUTTON' && control.textContent.trim());
          return !labelled;
        })
        .map((control) => control.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // The request field is reachable from the keyboard through the skip link.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      'Skip to the writing request',
    );
  });

  it('streams an answer with its sources, the author filter and the timings', async () => {
    await page.type('#query', 'Write a short post about how Q-learning agents learn to play games');
    await page.select('#author', 'Maxime Labonne');
    await page.$eval('#k', (input) => ((input as HTMLInputElement).value = '3'));
    await askAndWait(page);

    expect(await text(page, '#answer')).toMatch(
      /^Here is my take on "Write a short post about how Q-learning/u,
    );
    const sources = await page.$$eval('#sources li', (items) =>
      items.map((item) => ({
        title: item.querySelector('a')?.textContent ?? '',
        href: item.querySelector('a')?.getAttribute('href') ?? '',
        meta: item.querySelector('.meta')?.textContent ?? '',
        excerpt: item.querySelector('blockquote')?.textContent ?? '',
      })),
    );
    expect(sources).toHaveLength(3);
    for (const source of sources) {
      expect(source.href).toMatch(/^https:\/\//u);
      expect(source.meta).toMatch(/ · articles · Maxime Labonne · score -?\d\.\d{3}$/u);
      expect(source.excerpt.length).toBeGreaterThan(20);
    }
    expect(await text(page, '#facts')).toContain('Maxime Labonne (request)');
    const steps = await page.$$eval('#timings tbody tr td:first-child', (cells) =>
      cells.map((cell) => cell.textContent),
    );
    expect(steps).toEqual(expect.arrayContaining(['search', 'rerank', 'generation', 'total']));
    expect(await text(page, '#facts')).toContain('meaning and keywords (hybrid)');
    await page.screenshot({ path: join(SCREENSHOTS, 'ask.png'), fullPage: true });
  }, 90_000);

  it('follows up on the previous answer in the same conversation, then deletes the conversation', async () => {
    const first = await text(page, '#answer');
    await page.$eval('#query', (input) => ((input as HTMLTextAreaElement).value = ''));
    await page.type('#query', 'Make it shorter');
    await askAndWait(page);

    // The thread holds both turns, and the model was asked with the first answer in the prompt.
    const thread = await page.$$eval('#thread li', (items) =>
      items.map((item) => [
        item.querySelector('.turn-request')?.textContent ?? '',
        item.querySelector('.turn-answer')?.textContent ?? '',
      ]),
    );
    expect(thread.map(([request]) => request)).toEqual([
      'Write a short post about how Q-learning agents learn to play games',
      'Make it shorter',
    ]);
    expect(thread[1]?.[1]).toMatch(/^Here is my take on "Make it shorter"/u);
    expect(llm.prompts.at(-1)).toContain(`You answered: ${first}`);
    expect(await text(page, '#conversation-status')).toMatch(/^2 turns so far/u);
    await page.screenshot({ path: join(SCREENSHOTS, 'conversation.png'), fullPage: true });

    // The past conversations list it; deleting it removes it there and starts a new one.
    await page.click('.past-conversations summary');
    await page.waitForSelector('#conversations li[data-conversation] button.remove');
    const listed = await page.$$eval('#conversations li[data-conversation]', (items) => items.length);
    await page.click('#conversations li[data-conversation] button.remove');
    await page.waitForFunction(
      (before: number) =>
        document.querySelectorAll('#conversations li[data-conversation]').length === before - 1,
      { timeout: 10_000 },
      listed,
    );
    expect(await page.$$eval('#thread li', (items) => items.length)).toBe(0);
    expect(await text(page, '#conversation-status')).toMatch(/^A new conversation/u);
  }, 90_000);

  it('searches by keywords only when asked, and shows excerpts as the author wrote them', async () => {
    await page.click('#new-conversation');
    await page.$eval('#query', (input) => ((input as HTMLTextAreaElement).value = ''));
    await page.type('#query', "What's the agent's Q-table, and how does it learn?");
    await page.select('#author', 'Maxime Labonne');
    await page.select('#mode', 'lexical');
    await page.$eval('#k', (input) => ((input as HTMLInputElement).value = '9'));
    await askAndWait(page);

    expect(await text(page, '#facts')).toContain('keywords only (lexical)');
    const excerpts = await page.$$eval('#sources li blockquote', (quotes) =>
      quotes.map((quote) => quote.textContent),
    );
    expect(excerpts.length).toBeGreaterThan(0);
    // The original text: apostrophes between letters survive (the cleaned text has none).
    expect(excerpts.some((excerpt) => /\p{L}['’]\p{L}/u.test(excerpt))).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'ask-keywords.png'), fullPage: true });
  }, 90_000);

  it('shows a bad link inline, before and after the server checks it', async () => {
    await page.select('#links-author', '');
    await page.type('#links-name', 'Ada Lovelace');
    await page.type('#new-link', 'not a link');
    await page.click('#add-link');
    expect(await text(page, '#new-link-error')).toBe('this is not a link; it should start with https://');
    expect(await page.$eval('#new-link', (input) => input.getAttribute('aria-invalid'))).toBe('true');
    expect(await page.$$('#link-list li')).toHaveLength(0);

    // The shape is fine for the browser; the server knows a repository link needs owner and name.
    await page.$eval('#new-link', (input) => ((input as HTMLInputElement).value = ''));
    await page.type('#new-link', 'https://github.com/ada');
    await page.click('#add-link');
    await page.click('#save-links');
    await page.waitForFunction(() => !document.getElementById('links-error')?.hidden, { timeout: 10_000 });
    expect(await text(page, '#links-error')).toMatch(/^links\.0: not a repository link/u);
    await page.screenshot({ path: join(SCREENSHOTS, 'bad-link.png'), fullPage: true });
    await page.click('#link-list li button');
    expect(await page.$$('#link-list li')).toHaveLength(0);
  }, 30_000);

  it('saves links, runs a collection against fixture sites to the end, and counts what it stored', async () => {
    for (const link of [
      `${sites.url}/p/first-post`,
      `${sites.url}/p/second-post`,
      `${sites.url}/files/paper.pdf`,
    ]) {
      await page.type('#new-link', link);
      await page.keyboard.press('Enter');
    }
    expect(await page.$$('#link-list li')).toHaveLength(3);
    await page.click('#start-run');
    await page.waitForFunction(
      () => ['succeeded', 'failed'].includes(document.getElementById('run-state')?.textContent ?? ''),
      { timeout: 120_000, polling: 250 },
    );
    expect(await text(page, '#run-state')).toBe('succeeded');
    const outcomes = await page.$$eval('#run-links tbody tr', (rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)),
    );
    expect(outcomes.map(([, outcome]) => outcome)).toEqual(['inserted', 'inserted', 'failed']);
    expect(outcomes[2]?.[3]).toContain('not an article page: application/pdf');
    expect(await text(page, '#run-summary')).toMatch(
      /^Ada Lovelace: 2 new, 0 already there, 1 failed, 0 pending; [1-9]\d* chunks embedded\.$/u,
    );

    // The list was saved where `twin etl --config` reads it, and the counts include the new author.
    expect(await readFile(join(authorsDir, 'ada-lovelace.yaml'), 'utf8')).toContain(
      `${sites.url}/p/second-post`,
    );
    await page.waitForFunction(
      () => document.querySelector('#stats tbody')?.textContent.includes('Ada Lovelace'),
      { timeout: 10_000 },
    );
    const adaArticles = await page.$$eval('#stats tbody tr', (rows) => {
      const start = rows.findIndex((row) => row.textContent.includes('Ada Lovelace'));
      return [...(rows[start]?.querySelectorAll('td') ?? [])].map((cell) => cell.textContent);
    });
    expect(adaArticles[0]).toBe('articles');
    expect(adaArticles[1]).toBe('2');
    expect(adaArticles[2]).toBe('2');
    expect(Number(adaArticles[3])).toBeGreaterThan(0);
    expect(
      await page.$$eval('#author option', (options) => options.map((option) => option.textContent)),
    ).toContain('Ada Lovelace');
    await page.screenshot({ path: join(SCREENSHOTS, 'collection-run.png'), fullPage: true });
  }, 150_000);

  it('uploads a Medium export for a new author and shows what the import found', async () => {
    const archive = join(authorsDir, '..', `medium-export-${String(process.pid)}.zip`);
    await writeFile(archive, zipArchive(mediumExportEntries()));
    await page.select('#links-author', '');
    await page.$eval('#links-name', (input) => {
      (input as HTMLInputElement).value = '';
    });
    await page.type('#links-name', 'Paul Iusztin');
    const picker = await page.$('#export-file');
    await (picker as ElementHandle<HTMLInputElement>).uploadFile(archive);
    await page.click('#import-export');
    await page.waitForFunction(
      () =>
        /Paul Iusztin: medium export/u.test(document.getElementById('run-summary')?.textContent ?? '') &&
        ['succeeded', 'failed'].includes(document.getElementById('run-state')?.textContent ?? ''),
      { timeout: 120_000, polling: 250 },
    );
    expect(await text(page, '#run-state')).toBe('succeeded');
    expect(await text(page, '#run-summary')).toMatch(
      /^Paul Iusztin: medium export, 2 found, 2 new, 0 already there; skipped 1 draft; [1-9]\d* chunks embedded\.$/u,
    );
    await rm(archive, { force: true });
  }, 150_000);

  it('fits a phone screen without sideways scrolling', async () => {
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      // The sections and what lies outside them must fit; inside a section a wide table may scroll.
      return [...document.querySelectorAll('body *')]
        .filter((element) => element.matches('section') || !element.closest('section'))
        .filter((element) => element.getBoundingClientRect().right > width + 1)
        .map((element) => element.tagName + (element.id ? `#${element.id}` : ''));
    });
    expect(overflow).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
  });

  it.runIf(localModelAvailable())(
    'shows an answer written by the local model, with its sources, when no cloud model is configured',
    async () => {
      const offline = await startTwinServe(['--authors-dir', authorsDir], {
        ...corpus.env,
        TWIN_GENERATOR: 'auto',
        OPENAI_BASE_URL: '',
        OPENAI_API_KEY: '',
        TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
      });
      const tab = await browser.newPage();
      try {
        await tab.goto(`${offline.url}/`);
        await tab.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
        await tab.type('#query', 'Write a LinkedIn post about RAG evaluation');
        await tab.$eval('#k', (input) => ((input as HTMLInputElement).value = '3'));
        await tab.click('#ask-button');
        // Tokens as they come are tested on the API (local-twin.test.ts); here the page shows them.
        await tab.waitForFunction(
          () => document.getElementById('answer-status')?.textContent.startsWith('Done in'),
          { timeout: 240_000 },
        );
        expect(await text(tab, '#answer')).not.toBe('');
        expect(await tab.$$eval('#sources li', (items) => items.length)).toBe(3);
        const steps = await tab.$$eval('#timings tbody tr td:first-child', (cells) =>
          cells.map((cell) => cell.textContent),
        );
        expect(steps).toEqual(expect.arrayContaining(['search', 'generation', 'total']));
        await tab.screenshot({ path: join(SCREENSHOTS, 'ask-local-model.png'), fullPage: true });
      } finally {
        await tab.close();
        expect(await offline.stop()).toBe(0);
      }
    },
    300_000,
  );

  it('works in token mode: nothing without the token, everything once it is entered', async () => {
    const token = 'correct-horse-battery-staple';
    const guarded = await startTwinServe(['--authors-dir', authorsDir, '--token', token], {
      ...corpus.env,
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'test-key',
      TWIN_GENERATOR: 'openai',
      TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
    });
    const tab = await browser.newPage();
    try {
      await tab.goto(`${guarded.url}/`);
      await tab.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      expect(await text(tab, '#data-status')).toMatch(
        /^Counts unavailable: .*\(check the API key under Connection\)$/u,
      );
      expect(await tab.$$eval('#stats tbody tr', (rows) => rows.length)).toBe(0);

      // As a user would: open Connection, type the key, leave the field.
      await tab.click('details.connection summary');
      const statsAfterKey = async (key: string) => {
        await tab.$eval('#api-key', (input) => ((input as HTMLInputElement).value = ''));
        await tab.type('#api-key', key);
        const [response] = await Promise.all([
          tab.waitForResponse((answer) => answer.url().endsWith('/stats')),
          tab.keyboard.press('Tab'),
        ]);
        return response.status();
      };
      expect(await statsAfterKey('a-wrong-token-of-some-length')).toBe(401);
      await tab.waitForFunction(() =>
        document.getElementById('data-status')?.textContent.includes('API key'),
      );
      expect(await tab.$$eval('#stats tbody tr', (rows) => rows.length)).toBe(0);

      expect(await statsAfterKey(token)).toBe(200);
      await tab.waitForFunction(() =>
        document.querySelector('#stats tbody')?.textContent.includes('Paul Iusztin'),
      );
      await tab.type('#query', 'Write a short post about how Q-learning agents learn to play games');
      await askAndWait(tab);
      expect(await tab.$$eval('#sources li', (items) => items.length)).toBeGreaterThan(0);
    } finally {
      await tab.close();
      expect(await guarded.stop()).toBe(0);
    }
  }, 120_000);
});

describe.runIf(ready)('two people on one twin server, each signed in with their own token', () => {
  let corpus: RagCorpus;
  let guarded: TwinServe;
  let browser: Browser;
  let llm: LlmServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    [corpus, llm] = await Promise.all([buildRagCorpus(), startLlmServer({ tokenDelayMs: 1 })]);
    // As `twin access grant` and `twin access token` write it.
    let policy = grant(grant(EMPTY_POLICY, 'token:paul', ['Paul Iusztin']), 'token:maxime', [
      'Maxime Labonne',
    ]);
    for (const principal of ['token:paul', 'token:maxime']) {
      const issued = issueToken(policy, principal);
      policy = issued.policy;
      tokens[principal] = issued.token;
    }
    await new AccessControl(new FolderArtifactStore(corpus.settings.artifactsDir)).save(policy);
    const authorsDir = await mkdtemp(join(tmpdir(), 'twin-authors-'));
    guarded = await startTwinServe(
      ['--authors-dir', authorsDir, '--token', `operator-${String(process.pid)}-secret`],
      {
        ...corpus.env,
        OPENAI_BASE_URL: llm.url,
        OPENAI_API_KEY: 'test-key',
        TWIN_GENERATOR: 'openai',
        TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
      },
    );
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser.close();
    expect(await guarded.stop()).toBe(0);
    await Promise.all([corpus.dispose(), llm.close()]);
  }, 60_000);

  it.each([
    ['token:paul', 'Paul Iusztin'],
    ['token:maxime', 'Maxime Labonne'],
  ])(
    '%s sees only the twin of %s: who they are, the counts, the picker, the sources',
    async (principal, author) => {
      const context = await browser.createBrowserContext();
      const tab = await context.newPage();
      try {
        await tab.goto(`${guarded.url}/`);
        await tab.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
        await tab.click('details.connection summary');
        await tab.type('#api-key', tokens[principal] ?? '');
        await tab.keyboard.press('Tab');
        await tab.waitForFunction(
          (name: string) => document.getElementById('connection-who')?.textContent.includes(name),
          { timeout: 10_000 },
          principal,
        );
        expect(await text(tab, '#connection-who')).toBe(`: ${principal} (${author})`);
        await tab.waitForFunction(() => (document.querySelector('#stats tbody')?.textContent ?? '') !== '');
        const counted = await tab.$$eval('#stats tbody th', (cells) => [
          ...new Set(cells.map((cell) => cell.textContent.trim())),
        ]);
        expect(counted).toEqual([author]);
        const choices = await tab.$$eval('#author option', (options) =>
          options.map((option) => option.textContent),
        );
        expect(choices).toEqual(['Let the twin decide', author]);

        await tab.$eval('#query', (input) => ((input as HTMLTextAreaElement).value = ''));
        await tab.type('#query', 'How do you fine-tune and deploy a language model?');
        await askAndWait(tab);
        const sourceAuthors = await tab.$$eval('#sources li', (items) =>
          items.map((item) => item.textContent),
        );
        expect(sourceAuthors.length).toBeGreaterThan(0);
        for (const source of sourceAuthors) expect(source).toContain(author);
      } finally {
        await context.close();
      }
    },
    120_000,
  );
});

/** Sends the writing request and waits until the answer is complete. */
async function askAndWait(page: Page): Promise<void> {
  await page.click('#ask-button');
  await page.waitForFunction(
    () => document.getElementById('answer-status')?.textContent.startsWith('Done in'),
    { timeout: 60_000 },
  );
}
