/**
 * npm run bench:rag — the RAG service on the reference corpus subset of the RAG tests, in-process:
 * median latency per step and in all, for plain vector search, with query expansion and self-query
 * (a deterministic OpenAI-compatible server on 127.0.0.1 answering after 100 ms, as a hosted model
 * would), and with the in-process cross-encoder added (the stand-in graph: the same size and cost as
 * MiniLM-L6 ms-marco, not its weights). Side by side, so the cost of each step shows as a ratio.
 */
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { RequestTrace } from '../../lambdas/ports/request-trace.js';
import { openRagService } from '../../lambdas/rag/open-service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { startLlmServer } from '../support/llm-server.js';
import { realEmbedder, STAND_IN_CROSS_ENCODER_ID, standInCrossEncoderAvailable } from '../support/models.js';
import { buildRagCorpus } from '../support/rag-corpus.js';
import { median } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const corpus = await buildRagCorpus();
const llm = await startLlmServer({ latencyMs: 100 });
const warehouse = await openWarehouse(corpus.settings);

const variants = [
  { name: 'vector search only', env: {}, request: { expand: false, rerank: false } },
  {
    name: '+ self-query, 3-way expansion',
    env: { OPENAI_BASE_URL: llm.url },
    request: { expand: true, rerank: false },
  },
  ...(standInCrossEncoderAvailable()
    ? [
        {
          name: '+ cross-encoder rerank',
          env: { OPENAI_BASE_URL: llm.url, TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID },
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
