/**
 * npm run bench:web — the web app's weight and start-up: bundle size (raw and gzipped) and, in Debian's
 * Chromium against `twin serve` over the RAG test corpus, the median time from navigation to the
 * first paint of the page (DOMContentLoaded) and to interactive (the app's `twin-ready` mark, set once
 * the author lists and counts have loaded), each run in a fresh browser context with an empty cache.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleSizes, bundleWebApp } from '../../lambdas/web-app/bundle.js';
import { launchChromium } from '../support/chromium.js';
import { buildRagCorpus } from '../support/rag-corpus.js';
import { startTwinServe } from '../support/twin-serve.js';
import { median } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const sizes = bundleSizes(bundleWebApp());
console.log('Bundle (what a browser downloads on first visit):');
for (const size of sizes) {
  console.log(
    `  ${size.path.padEnd(24)} ${String(size.bytes).padStart(7)} B  ${String(size.gzipBytes).padStart(6)} B gzipped`,
  );
}
const total = (key: 'bytes' | 'gzipBytes') => sizes.reduce((sum, size) => sum + size[key], 0);
console.log(
  `  ${'total'.padEnd(24)} ${String(total('bytes')).padStart(7)} B  ${String(total('gzipBytes')).padStart(6)} B gzipped`,
);

const corpus = await buildRagCorpus();
const authorsDir = await mkdtemp(join(tmpdir(), 'twin-bench-authors-'));
const serve = await startTwinServe(['--authors-dir', authorsDir], corpus.env);
const browser = await launchChromium();
const measured: { contentLoaded: number; interactive: number; api: number }[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(`${serve.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const timing = await page.evaluate(`(() => {
      const navigation = performance.getEntriesByType('navigation')[0];
      const ready = performance.getEntriesByName('twin-ready')[0];
      const api = performance.getEntriesByType('resource')
        .filter((entry) => /\\/(stats|authors)$/.test(entry.name))
        .reduce((longest, entry) => Math.max(longest, entry.duration), 0);
      return { contentLoaded: navigation.domContentLoadedEventEnd, interactive: ready.startTime, api };
    })()`);
    measured.push(timing as { contentLoaded: number; interactive: number; api: number });
    await context.close();
  }
} finally {
  await browser.close();
  await serve.stop();
  await corpus.dispose();
  await rm(authorsDir, { recursive: true, force: true });
}
const contentLoaded = median(measured.map((m) => m.contentLoaded));
const interactive = median(measured.map((m) => m.interactive));
const api = median(measured.map((m) => m.api));
console.log(`\nStart-up in Chromium, twin serve on 127.0.0.1, median of ${String(RUNS)} cold loads:`);
console.log(`  DOMContentLoaded         ${contentLoaded.toFixed(1)} ms`);
console.log(`  interactive (twin-ready) ${interactive.toFixed(1)} ms`);
console.log(
  `  of which the slowest API call (/stats or /authors) ${api.toFixed(1)} ms (${((api / interactive) * 100).toFixed(0)}%)`,
);
