/**
 * npm run bench:datasets — request throughput of dataset generation at concurrency 1, 4 and 8 (median
 * of 3 runs each, interleaved) against the deterministic OpenAI-compatible server, which answers after
 * 250 ms as a hosted model would. The server's peak of requests in flight shows whether the pipeline
 * keeps it busy. The extracts are the reference corpus's, and the whole pipeline runs (prompting,
 * JSON parsing, validation).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { buildDataset } from '../../lambdas/datasets/pipeline.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { OpenAiJsonModel } from '../../lambdas/adapters/llm/openai-json.js';
import { extractsOf } from '../../lambdas/datasets/extracts.js';
import { generateSamples } from '../../lambdas/datasets/generation.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import { median } from './stats.js';
import { startLlmServer } from '../support/llm-server.js';
import { referenceArticles } from '../support/reference-corpus.js';

const EXTRACTS = 48;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LATENCY_MS = 250;

const extracts = referenceArticles()
  .flatMap((article) => extractsOf(cleanDocument(article, 'bench')))
  .slice(0, EXTRACTS);
const results: Record<number, { perSecond: number[]; peak: number[] }> = {
  1: { perSecond: [], peak: [] },
  4: { perSecond: [], peak: [] },
  8: { perSecond: [], peak: [] },
};

for (let run = 1; run <= RUNS; run++) {
  for (const concurrency of [1, 4, 8]) {
    const server = await startLlmServer({ latencyMs: LATENCY_MS });
    const model = await OpenAiJsonModel.create({
      model: 'gpt-4o-mini',
      temperature: 0.7,
      maxTokens: 1200,
      timeoutMs: 30_000,
      maxRetries: 0,
      baseUrl: `${server.url}/v1`,
      apiKey: 'bench',
    });
    const started = performance.now();
    const report = await generateSamples('instruct', model, extracts, concurrency);
    const seconds = (performance.now() - started) / 1000;
    await server.close();
    if (report.samples.length !== EXTRACTS * 5)
      throw new Error(`run ${String(run)}: only ${String(report.samples.length)} samples`);
    results[concurrency]?.perSecond.push(report.requests / seconds);
    results[concurrency]?.peak.push(server.maxInFlight);
    process.stderr.write(
      `run ${String(run)}, concurrency ${String(concurrency)}: ${(report.requests / seconds).toFixed(2)} requests/s, peak ${String(server.maxInFlight)} in flight\n`,
    );
  }
}

const summary = Object.fromEntries(
  Object.entries(results).map(([concurrency, { perSecond, peak }]) => [
    concurrency,
    { requestsPerSecond: median(perSecond), peakInFlight: median(peak) },
  ]),
);
console.log(
  JSON.stringify({ extracts: EXTRACTS, runs: RUNS, latencyMs: LATENCY_MS, medians: summary }, null, 2),
);
console.log(
  `\nmedian of ${String(RUNS)}: ` +
    Object.entries(summary)
      .map(
        ([c, s]) =>
          `concurrency ${c}: ${s.requestsPerSecond.toFixed(2)} req/s (peak ${String(s.peakInFlight)} in flight)`,
      )
      .join('; ') +
    ` — the ideal is concurrency x ${(1000 / LATENCY_MS).toFixed(0)} req/s`,
);

// Curation counts over the whole reference corpus (every extract of the 76 articles), both kinds.
const scratch = await mkdtemp(join(tmpdir(), 'twin-bench-datasets-'));
const server = await startLlmServer();
const vectors = await LanceVectorStore.open(join(scratch, 'vectors'));
const features = new FeatureStore(vectors, { id: 'bench', size: 3, maxInputLength: 256 });
await features.ensureCollections();
await features.saveCleaned(
  'articles',
  referenceArticles().map((article) => cleanDocument(article, 'bench')),
);
const model = await OpenAiJsonModel.create({
  model: 'gpt-4o-mini',
  temperature: 0.7,
  maxTokens: 1200,
  timeoutMs: 30_000,
  maxRetries: 2,
  baseUrl: `${server.url}/v1`,
  apiKey: 'bench',
});
const settings = {
  model: 'gpt-4o-mini',
  temperature: 0.7,
  maxTokens: 1200,
  concurrency: 8,
  dedupThreshold: 0.8,
  maxFailureRate: 0.1,
  minSamples: 1,
  timeoutMs: 30_000,
  maxRetries: 2,
  pricePerMillionInput: 0.15,
  pricePerMillionOutput: 0.6,
};
for (const kind of ['instruct', 'preference'] as const) {
  const { manifest } = await buildDataset(
    kind,
    { features, model, artifacts: new FolderArtifactStore(join(scratch, 'artifacts')) },
    settings,
  );
  console.log(`\n${kind} dataset over the reference corpus (test server):`);
  for (const count of manifest.counts) console.log(`  ${count.stage}: ${String(count.total)}`);
  console.log(
    `  split: ${String(manifest.splits.train)} train, ${String(manifest.splits.test)} test, ${String(manifest.splits.decontaminated)} decontaminated`,
  );
}
await vectors.close();
await server.close();
await rm(scratch, { recursive: true, force: true });
