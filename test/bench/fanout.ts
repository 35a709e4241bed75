/**
 * npm run bench:fanout — what one child execution of the feature workflow's Distributed Map costs, and
 * the sizing it implies (README, "Sizing the workflows"). The features handler, as the workflow calls it,
 * plans the 76 reference articles into batches of 16 and featurises each batch with the real ONNX
 * embedder into a fresh LanceDB store; three runs, medians of the full batches. The per-batch time is
 * then scaled from this machine's cores to the vCPUs Lambda gives the function's memory, and the
 * table for 10k, 100k and 1M documents is computed from it and AWS's public prices.
 */
import { cpus } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { OnnxEmbedder } from '../../lambdas/adapters/embedder/onnx.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import type { DocumentBatch } from '../../lambdas/features/batches.js';
import { createFeaturesHandler, type PlannedFeatureRun } from '../../lambdas/handlers/features.js';
import { importWarehouse } from '../../lambdas/warehouse/import.js';
import { folderSource } from '../../lambdas/warehouse/sources.js';
import { readStageConfig } from '../../lib/stage-config.js';
import { median } from './stats.js';
import { REFERENCE_WAREHOUSE_DIR, REPO_ROOT } from '../support/environment.js';
import { embeddingModelAvailable, TEST_EMBEDDING, TEST_MODELS_DIR } from '../support/models.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BATCH_SIZE = 16;
/** The features function's memory (lib/constructs/container-function.ts) and Lambda's 1 vCPU per 1,769 MB. */
const FUNCTION_MEMORY_MB = 3008;
const LAMBDA_VCPUS = FUNCTION_MEMORY_MB / 1769;
/** AWS's public prices, us-east-1, December 2026. */
const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  standardTransition: 0.025 / 1000,
  expressRequest: 1 / 1e6,
  expressGbSecond: 0.00001667,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
};
/** State transitions of the parent workflow besides one per child: plan, Map, summary, choice, end. */
const PARENT_TRANSITIONS = 6;
/** An Express child's billed memory (64 MB, the smallest step) and its states: the Task and its end. */
const EXPRESS_CHILD_GB = 0.064;

if (!embeddingModelAvailable())
  throw new Error(`no model in ${TEST_MODELS_DIR}: run bash .ci/provision-models.sh`);
const embedder = await OnnxEmbedder.load(TEST_EMBEDDING);
const scratch = await mkdtemp(join(tmpdir(), 'twin-bench-fanout-'));
const warehouse = new EmbeddedWarehouse(join(scratch, 'warehouse.sqlite'));
await importWarehouse(warehouse, folderSource(REFERENCE_WAREHOUSE_DIR));
const artifacts = new FolderArtifactStore(join(scratch, 'artifacts'));

const batchMs: number[] = [];
const chunksPerBatch: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const vectors = await LanceVectorStore.open(join(scratch, `vectors-${String(run)}`));
  const features = new FeatureStore(vectors, embedder.model);
  const handler = createFeaturesHandler(() => Promise.resolve({ warehouse, features, embedder, artifacts }));
  const plan = (await handler({
    action: 'plan',
    executionName: `bench-${String(run)}`,
    request: { categories: ['articles'], batchSize: BATCH_SIZE },
  })) as PlannedFeatureRun;
  const batches = JSON.parse((await artifacts.read(plan.items.key)) ?? '[]') as DocumentBatch[];
  for (const batch of batches.filter((candidate) => candidate.documentIds.length === BATCH_SIZE)) {
    const started = performance.now();
    const report = (await handler({ action: 'featurize', ...batch })) as { chunks: number };
    batchMs.push(performance.now() - started);
    chunksPerBatch.push(report.chunks);
  }
  await vectors.close();
  process.stderr.write(`run ${String(run)}: ${String(batches.length)} batches planned\n`);
}
await warehouse.close();
await rm(scratch, { recursive: true, force: true });

const localSeconds = median(batchMs) / 1000;
const localCores = cpus().length;
const lambdaSeconds = (localSeconds * localCores) / LAMBDA_VCPUS;
const concurrency = {
  dev: (await readStageConfig(join(REPO_ROOT, 'configs'), 'dev')).workflows.concurrency.features,
  prod: (await readStageConfig(join(REPO_ROOT, 'configs'), 'prod')).workflows.concurrency.features,
};

const usd = (value: number) =>
  value < 0.0001 ? '< $0.0001' : value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
const duration = (seconds: number) =>
  seconds < 3600 ? `${(seconds / 60).toFixed(1)} min` : `${(seconds / 3600).toFixed(1)} h`;
const rows = [10_000, 100_000, 1_000_000].map((documents) => {
  const children = Math.ceil(documents / BATCH_SIZE);
  const invocations = children + 2;
  const lambdaCost =
    children * lambdaSeconds * (FUNCTION_MEMORY_MB / 1024) * PRICES.lambdaArmGbSecond +
    invocations * PRICES.lambdaRequest;
  const stepFunctionsCost =
    (PARENT_TRANSITIONS + children) * PRICES.standardTransition +
    children * (PRICES.expressRequest + lambdaSeconds * EXPRESS_CHILD_GB * PRICES.expressGbSecond);
  // The item file (written, read by the Map), the result files and manifest (written, read back).
  const s3Cost = 4 * PRICES.s3Put + 4 * PRICES.s3Get;
  return {
    documents,
    children,
    invocations,
    wallDev: Math.ceil(children / concurrency.dev) * lambdaSeconds,
    wallProd: Math.ceil(children / concurrency.prod) * lambdaSeconds,
    lambdaCost,
    stepFunctionsCost,
    s3Cost,
  };
});

console.log(
  JSON.stringify(
    {
      runs: RUNS,
      batchesMeasured: batchMs.length,
      medianBatchMs: median(batchMs),
      medianChunksPerBatch: median(chunksPerBatch),
      localCores,
      lambdaVcpus: LAMBDA_VCPUS,
      lambdaBatchSeconds: lambdaSeconds,
      concurrency,
    },
    null,
    2,
  ),
);
console.log(
  `\n| documents | child executions | Lambda invocations | wall time, dev (${String(concurrency.dev)} at once) | wall time, prod (${String(concurrency.prod)} at once) | Lambda | Step Functions | S3 |`,
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) {
  console.log(
    `| ${row.documents.toLocaleString('en')} | ${row.children.toLocaleString('en')} | ${row.invocations.toLocaleString('en')} | ${duration(row.wallDev)} | ${duration(row.wallProd)} | ${usd(row.lambdaCost)} | ${usd(row.stepFunctionsCost)} | ${usd(row.s3Cost)} |`,
  );
}
