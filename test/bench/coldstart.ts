/**
 * npm run bench:coldstart — the RAG function's cold start, measured as deployed: its handler bundled
 * as the container image bundles it (esbuild, packages external), loaded by a fresh Node process per
 * run, which then answers a retrieve-only request with the reranker on, and a second one, over the
 * embedded store of the RAG test corpus. Medians of five runs: module load, each start-up part the
 * handler logs (settings, warehouse, each model, service), the first and second request, and the time
 * from process start to the first answer. Then the size of every zip-deployed function's bundle.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';
import {
  ESM_REQUIRE_BANNER,
  LOCAL_ONLY_NATIVE_MODULES,
  UNUSED_OPTIONAL_MODULES,
} from '../../lib/constructs/node-function.js';
import { bundleHandler } from '../../lambdas/images/bundle-handler.js';
import { REPO_ROOT } from '../support/environment.js';
import { STAND_IN_CROSS_ENCODER_ID, standInCrossEncoderAvailable } from '../support/models.js';
import { buildRagCorpus } from '../support/rag-corpus.js';
import { median } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Functions deployed as zip bundles (TwinFunction), by handler file. */
const ZIP_HANDLERS = ['workspace', 'datasets', 'import-warehouse', 'training', 'deployment', 'ct-authors'];

if (!standInCrossEncoderAvailable())
  throw new Error('run .ci/provision-models.sh first: the bench needs the cross-encoder');

const out = join(REPO_ROOT, 'reports', 'coldstart');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
// Exactly as lambdas/images/function.Dockerfile builds the image's entry point.
const bundle = await bundleHandler('rag', join(out, 'rag'));

const corpus = await buildRagCorpus();
const PRECISIONS = ['fp32', 'int8'] as const;
interface Run {
  moduleMs: number;
  firstMs: number;
  secondMs: number;
  firstAnswerMs: number;
  parts: Record<string, number>;
}
const runs: Record<(typeof PRECISIONS)[number], Run[]> = { fp32: [], int8: [] };
try {
  // Alternating, so both precisions see the same machine state.
  for (let run = 0; run < RUNS; run++) {
    for (const precision of PRECISIONS) {
      const output = await coldStart(precision);
      runs[precision].push(output);
      process.stderr.write(
        `run ${String(run + 1)}/${String(RUNS)} ${precision}: first answer ${output.firstAnswerMs.toFixed(0)} ms after process start\n`,
      );
    }
  }
} finally {
  await corpus.dispose();
}

const row = (label: string, pick: (run: Run) => number) => {
  const [fp32, int8] = PRECISIONS.map((precision) => median(runs[precision].map(pick)));
  console.log(
    `  ${label.padEnd(36)} ${(fp32 ?? 0).toFixed(0).padStart(6)} ${(int8 ?? 0).toFixed(0).padStart(6)}`,
  );
};
const partNames = [...new Set(runs.fp32.flatMap((run) => Object.keys(run.parts)))];
console.log(
  `RAG function cold start (container entry point, embedded store, reranker on), medians of ${String(RUNS)} fresh processes (ms)`,
);
console.log(`  ${''.padEnd(36)} ${'fp32'.padStart(6)} ${'int8'.padStart(6)}  (reranker precision)`);
row('module load (import of the bundle)', (run) => run.moduleMs);
for (const name of partNames) row(`start-up: ${name.replace(/Ms$/u, '')}`, (run) => run.parts[name] ?? 0);
row('first request (waits for start-up)', (run) => run.firstMs);
row('second request', (run) => run.secondMs);
row('process start to first answer', (run) => run.firstAnswerMs);
console.log(
  `  (entry point ${(await stat(bundle)).size.toLocaleString('en')} bytes, lazily imported chunks beside it; node_modules ship in the image)\n`,
);

console.log('Zip-deployed functions: bundle size (minified ESM, as CDK bundles them)');
for (const handler of ZIP_HANDLERS) {
  const file = join(out, `${handler}.mjs`);
  await build({
    entryPoints: [join(REPO_ROOT, 'lambdas', 'handlers', `${handler}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    banner: { js: ESM_REQUIRE_BANNER },
    external: ['@aws-sdk/*', ...UNUSED_OPTIONAL_MODULES, ...LOCAL_ONLY_NATIVE_MODULES],
    outfile: file,
    logLevel: 'error',
  });
  const bytes = await readFile(file);
  console.log(
    `  ${handler.padEnd(18)} ${(bytes.length / 1024).toFixed(0).padStart(6)} KiB  (${(gzipSync(bytes).length / 1024).toFixed(0)} KiB zipped)`,
  );
}

/** One fresh process: import the bundle, answer twice; its log says how start-up was spent. */
function coldStart(precision: (typeof PRECISIONS)[number]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test', 'bench', 'coldstart-child.mjs'), bundle], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...corpus.env,
        TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
        TWIN_RERANK_PRECISION: precision,
        TWIN_GENERATOR: 'none',
        POWERTOOLS_TRACE_ENABLED: 'false',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_REGION: 'us-east-1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const result = lines.find((line) => 'bench' in line)?.bench as
        | {
            moduleMs: number;
            first: { ms: number; status: number; sources: number; flags: string[] };
            second: { ms: number };
            firstAnswerMs: number;
          }
        | undefined;
      const ready = lines.find((line) => line.message === 'ready')?.coldStart as
        Record<string, number> | undefined;
      if (code !== 0 || !result || !ready) {
        reject(new Error(`cold start run failed (exit ${String(code)}):\n${stdout}\n${stderr}`));
        return;
      }
      if (
        result.first.status !== 200 ||
        result.first.sources === 0 ||
        result.first.flags.some((flag) => flag.includes('rerank'))
      )
        reject(new Error(`the first answer was not a reranked retrieval: ${JSON.stringify(result.first)}`));
      resolve({
        moduleMs: result.moduleMs,
        firstMs: result.first.ms,
        secondMs: result.second.ms,
        firstAnswerMs: result.firstAnswerMs,
        parts: ready,
      });
    });
  });
}
