/**
 * npm run bench:rag — first, hybrid against dense search on the whole reference corpus (76 articles,
 * 1148 chunks), retrieve-only and without reranking or expansion: every dev question asked of both,
 * one after the other, median and p95 of each and their ratio. Then the RAG service on the reference
 * corpus subset of the RAG tests, in-process:
 * median latency per step and in all, for plain vector search, with query expansion and self-query
 * (a deterministic OpenAI-compatible server on 127.0.0.1 answering after 100 ms, as a hosted model
 * would), and with the in-process cross-encoder added (the stand-in graph: the same size and cost as
 * MiniLM-L6 ms-marco, not its weights). Side by side, so the cost of each step shows as a ratio.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { readGoldenSet } from '../../lambdas/evaluation/retrieval.js';
import { runFeaturePipeline } from '../../lambdas/features/pipeline.js';
import { openFeatureServices } from '../../lambdas/features/services.js';
import { importWarehouse } from '../../lambdas/warehouse/import.js';
import { folderSource } from '../../lambdas/warehouse/sources.js';
import { REFERENCE_DATA_DIR, REFERENCE_WAREHOUSE_DIR } from '../support/environment.js';
import type { RequestTrace } from '../../lambdas/ports/request-trace.js';
import { openRagService } from '../../lambdas/rag/open-service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { startLlmServer } from '../support/llm-server.js';
import {
  realEmbedder,
  STAND_IN_CROSS_ENCODER_ID,
  standInCrossEncoderAvailable,
  TEST_MODELS_DIR,
} from '../support/models.js';
import { buildRagCorpus } from '../support/rag-corpus.js';
import { benchReranking } from './reranking.js';
import { median, percentile } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

await compareSearchModes();

const corpus = await buildRagCorpus();
const llm = await startLlmServer({ latencyMs: 100 });
const warehouse = await openWarehouse(corpus.settings);

const variants = [
  { name: 'dense search only', env: {}, request: { expand: false, rerank: false, mode: 'dense' as const } },
  { name: 'hybrid search only', env: {}, request: { expand: false, rerank: false, mode: 'hybrid' as const } },
  {
    name: '+ self-query, 3-way expansion',
    env: { OPENAI_BASE_URL: llm.url, TWIN_GENERATOR: 'openai' },
    request: { expand: true, rerank: false },
  },
  ...(standInCrossEncoderAvailable()
    ? [
        {
          name: '+ cross-encoder rerank',
          env: {
            OPENAI_BASE_URL: llm.url,
            TWIN_GENERATOR: 'openai',
            TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
          },
          request: { expand: true, rerank: true },
        },
      ]
    : []),
];

const rows: { name: string; steps: Record<string, number> }[] = [];
for (const variant of variants) {
  const traces: RequestTrace[] = [];
  const rag = await openRagService(loadSettings({ ...corpus.env, ...variant.env }), {
    authors: warehouse,
    embedder: await realEmbedder(),
    generator: null,
    sinks: [{ record: (trace) => Promise.resolve(void traces.push(trace)) }],
  });
  // One warm-up request loads the models; it is not counted.
  await rag.service.answer({ query: 'warm up', retrieveOnly: true, ...variant.request });
  traces.length = 0;
  for (let run = 0; run < RUNS; run++) {
    for (const question of corpus.questions) {
      await rag.service.answer({ query: question.query, retrieveOnly: true, ...variant.request });
    }
  }
  await rag.close();
  const steps: Record<string, number[]> = {};
  for (const trace of traces) {
    for (const step of trace.steps) (steps[step.name] ??= []).push(step.durationMs);
    steps.total = [...(steps.total ?? []), trace.durationMs];
  }
  rows.push({
    name: variant.name,
    steps: Object.fromEntries(Object.entries(steps).map(([name, values]) => [name, median(values)])),
  });
}
await warehouse.close();
await llm.close();
await corpus.dispose();

const base = rows[0]?.steps.total ?? 1;
console.log(
  `RAG retrieval latency, medians over ${String(RUNS)} x ${String(corpus.questions.length)} questions (ms)`,
);
for (const row of rows) {
  const parts = Object.entries(row.steps)
    .filter(([name]) => name !== 'total')
    .map(([name, value]) => `${name} ${value.toFixed(1)}`)
    .join(', ');
  console.log(
    `  ${row.name.padEnd(32)} total ${(row.steps.total ?? 0).toFixed(1)} (x${((row.steps.total ?? 0) / base).toFixed(2)})  [${parts}]`,
  );
}

/** Dense and hybrid retrieval over the whole reference corpus, asked alternately per question. */
async function compareSearchModes(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'twin-bench-rag-'));
  try {
    const settings = loadSettings({
      TWIN_DATA_DIR: dir,
      TWIN_MODELS_DIR: TEST_MODELS_DIR,
      TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
    });
    const fullWarehouse = await openWarehouse(settings);
    const services = await openFeatureServices(settings, await realEmbedder());
    await importWarehouse(fullWarehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
    await runFeaturePipeline({ warehouse: fullWarehouse, ...services });
    const questions = await readGoldenSet(join(REFERENCE_DATA_DIR, 'golden', 'retrieval-dev.jsonl'));
    const rag = await openRagService(settings, {
      authors: fullWarehouse,
      featureServices: services,
      generator: null,
      queryModel: null,
      reranker: null,
      sinks: [],
    });
    const modes = ['dense', 'hybrid'] as const;
    const times: Record<(typeof modes)[number], number[]> = { dense: [], hybrid: [] };
    const ask = (query: string, mode: (typeof modes)[number]) =>
      rag.service.answer({ query, mode, retrieveOnly: true, expand: false, rerank: false });
    await ask('warm up', 'hybrid');
    for (let run = 0; run < RUNS; run++) {
      for (const question of questions) {
        for (const mode of run % 2 === 0 ? modes : [...modes].reverse()) {
          const started = performance.now();
          await ask(question.query, mode);
          times[mode].push(performance.now() - started);
        }
      }
    }
    await rag.close();
    const dense = { median: median(times.dense), p95: percentile(times.dense, 0.95) };
    const hybrid = { median: median(times.hybrid), p95: percentile(times.hybrid, 0.95) };
    console.log(
      `Retrieve-only latency on the whole reference corpus, ${String(RUNS)} x ${String(questions.length)} dev questions, no expansion or rerank (ms)`,
    );
    console.log(`  dense   median ${dense.median.toFixed(1)}  p95 ${dense.p95.toFixed(1)}`);
    console.log(`  hybrid  median ${hybrid.median.toFixed(1)}  p95 ${hybrid.p95.toFixed(1)}`);
    console.log(
      `  hybrid adds ${(hybrid.median - dense.median).toFixed(1)} ms at the median (x${(hybrid.median / dense.median).toFixed(2)})\n`,
    );
    if (standInCrossEncoderAvailable())
      await benchReranking({
        env: { TWIN_DATA_DIR: dir, TWIN_MODELS_DIR: TEST_MODELS_DIR, TWIN_ALLOW_MODEL_DOWNLOAD: 'false' },
        warehouse: fullWarehouse,
        services,
        questions,
        runs: RUNS,
      });
    await services.close();
    await fullWarehouse.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
