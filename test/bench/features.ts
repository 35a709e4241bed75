/**
 * npm run bench:features — the feature pipeline on the 76 reference articles, three runs, medians:
 * documents/s and chunks/s of the whole pipeline, and embedding throughput of the pipeline's embedder
 * against a bare ONNX Runtime session over the same texts, in the same batches, in the same run.
 * The ratio (pipeline / bare) is what our tokenising, pooling and plumbing cost; we aim for >= 0.9.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { AutoTokenizer } from '@huggingface/transformers';
import { OnnxEmbedder } from '../../lambdas/adapters/embedder/onnx.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { chunkDocument } from '../../lambdas/features/chunking.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { pipelineVersion, runFeaturePipeline } from '../../lambdas/features/pipeline.js';
import { importWarehouse } from '../../lambdas/warehouse/import.js';
import { folderSource } from '../../lambdas/warehouse/sources.js';
import { median } from './stats.js';
import { REFERENCE_WAREHOUSE_DIR } from '../support/environment.js';
import { embeddingModelAvailable, TEST_EMBEDDING, TEST_MODELS_DIR } from '../support/models.js';
import { referenceArticles } from '../support/reference-corpus.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

if (!embeddingModelAvailable())
  throw new Error(`no model in ${TEST_MODELS_DIR}: run bash .ci/provision-models.sh`);
const settings = TEST_EMBEDDING;
const embedder = await OnnxEmbedder.load(settings);

// The texts the pipeline embeds, in the order and batches its embedder uses (shortest first).
const texts = referenceArticles().flatMap((article) =>
  chunkDocument(cleanDocument(article, pipelineVersion(embedder)), embedder.tokenizer).map(
    (chunk) => chunk.content,
  ),
);
const ordered = [...texts].sort((a, b) => a.length - b.length);
const tokenizer = await AutoTokenizer.from_pretrained(settings.modelId);
const session = await ort.InferenceSession.create(
  join(TEST_MODELS_DIR, settings.modelId, 'onnx', 'model.onnx'),
);
const batches: Record<string, ort.Tensor>[] = [];
for (let start = 0; start < ordered.length; start += settings.batchSize) {
  const encoded = tokenizer(ordered.slice(start, start + settings.batchSize), {
    padding: true,
    truncation: true,
    max_length: 256,
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const tensor = (encoded as unknown as Record<string, { data: BigInt64Array; dims: number[] }>)[name];
    if (!tensor) throw new Error(`the tokenizer gave no ${name}`);
    feeds[name] = new ort.Tensor('int64', tensor.data, tensor.dims);
  }
  batches.push(feeds);
}

async function bareSession(): Promise<number> {
  const started = performance.now();
  for (const feeds of batches) await session.run(feeds);
  return performance.now() - started;
}

const scratch = await mkdtemp(join(tmpdir(), 'twin-bench-'));
const warehouse = new EmbeddedWarehouse(join(scratch, 'warehouse.sqlite'));
await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));

const rows: { totalMs: number; embedMs: number; bareMs: number; documents: number; chunks: number }[] = [];
for (let run = 1; run <= RUNS; run++) {
  const vectors = await LanceVectorStore.open(join(scratch, `vectors-${String(run)}`));
  const summary = await runFeaturePipeline({
    warehouse,
    features: new FeatureStore(vectors, embedder.model),
    embedder,
  });
  await vectors.close();
  const articles = summary.categories.articles;
  const bareMs = await bareSession();
  rows.push({
    totalMs: summary.totalMs,
    embedMs: articles.timings.embedMs,
    bareMs,
    documents: articles.documents,
    chunks: articles.chunks,
  });
  process.stderr.write(
    `run ${String(run)}: ${String(articles.documents)} documents, ${String(articles.chunks)} chunks in ${(summary.totalMs / 1000).toFixed(1)} s (embedding ${(articles.timings.embedMs / 1000).toFixed(1)} s; bare session ${(bareMs / 1000).toFixed(1)} s)\n`,
  );
}
await warehouse.close();
await rm(scratch, { recursive: true, force: true });

const chunks = rows[0]?.chunks ?? 0;
const documents = rows[0]?.documents ?? 0;
const pipelineChunksPerSecond = median(rows.map((row) => chunks / (row.embedMs / 1000)));
const bareChunksPerSecond = median(rows.map((row) => chunks / (row.bareMs / 1000)));
const result = {
  runs: RUNS,
  documents,
  chunks,
  batchSize: settings.batchSize,
  medians: {
    documentsPerSecond: median(rows.map((row) => documents / (row.totalMs / 1000))),
    chunksPerSecond: median(rows.map((row) => chunks / (row.totalMs / 1000))),
    pipelineEmbeddingChunksPerSecond: pipelineChunksPerSecond,
    bareSessionChunksPerSecond: bareChunksPerSecond,
    ratioPerRun: median(rows.map((row) => row.bareMs / row.embedMs)),
  },
  rows,
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `\nmedian of ${String(RUNS)}: ${result.medians.documentsPerSecond.toFixed(2)} documents/s, ${result.medians.chunksPerSecond.toFixed(1)} chunks/s end to end; ` +
    `embedding ${pipelineChunksPerSecond.toFixed(1)} chunks/s in the pipeline vs ${bareChunksPerSecond.toFixed(1)} bare (ratio ${result.medians.ratioPerRun.toFixed(2)})`,
);
