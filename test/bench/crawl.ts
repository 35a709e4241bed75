/**
 * npm run bench:crawl — links per minute for 50 fixture articles on 127.0.0.1, at concurrency 1 and
 * 4, three runs each (interleaved), medians and their ratio. The fixture server answers after 150 ms,
 * as a distant site would; every link goes through the real fetch, Readability and the warehouse.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import { DEFAULT_GIT } from '../../lambdas/collection/environment.js';
import { DEFAULT_LIMITS } from '../../lambdas/collection/http-fetch.js';
import { crawlLinks } from '../../lambdas/collection/pipeline.js';
import { median } from './stats.js';
import { startFixtureSites } from '../support/fixture-sites.js';

const LINKS = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LATENCY_MS = 150;

const sites = await startFixtureSites({ latencyMs: LATENCY_MS });
const network = { allowLoopback: true };
const browser = new BrowserSession({ network, navigationTimeoutMs: 20_000 });
const environment = { network, limits: DEFAULT_LIMITS, browser, git: DEFAULT_GIT };
const scratch = await mkdtemp(join(tmpdir(), 'twin-bench-crawl-'));
const perMinute: Record<number, number[]> = { 1: [], 4: [] };

for (let run = 1; run <= RUNS; run++) {
  for (const concurrency of [1, 4]) {
    const warehouse = new EmbeddedWarehouse(
      join(scratch, `run-${String(run)}-${String(concurrency)}.sqlite`),
    );
    const links = Array.from(
      { length: LINKS },
      (_, i) => `${sites.url}/p/article-${String(run)}-${String(i)}`,
    );
    const started = performance.now();
    const report = await crawlLinks(warehouse, environment, 'Paul Iusztin', links, {
      concurrency,
      perLinkTimeoutMs: 60_000,
    });
    const minutes = (performance.now() - started) / 60_000;
    await warehouse.close();
    const inserted = report.results.filter((result) => result.outcome === 'inserted').length;
    if (inserted !== LINKS)
      throw new Error(
        `run ${String(run)}: only ${String(inserted)} of ${String(LINKS)} links were collected`,
      );
    perMinute[concurrency]?.push(LINKS / minutes);
    process.stderr.write(
      `run ${String(run)}, concurrency ${String(concurrency)}: ${(LINKS / minutes).toFixed(0)} links/min\n`,
    );
  }
}
await browser.close();
await sites.close();
await rm(scratch, { recursive: true, force: true });

const one = median(perMinute[1] ?? []);
const four = median(perMinute[4] ?? []);
console.log(
  JSON.stringify(
    {
      links: LINKS,
      runs: RUNS,
      latencyMs: LATENCY_MS,
      linksPerMinute: { concurrency1: one, concurrency4: four },
      perRun: perMinute,
    },
    null,
    2,
  ),
);
console.log(
  `\nmedian of ${String(RUNS)}: ${one.toFixed(0)} links/min at concurrency 1, ${four.toFixed(0)} at concurrency 4 (x${(four / one).toFixed(2)})`,
);
