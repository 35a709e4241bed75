/**
 * Bundles one handler for a container image (function.Dockerfile runs this; so does
 * `npm run bench:coldstart`, so that the bench loads what the image loads):
 *   tsx lambdas/images/bundle-handler.ts HANDLER OUT_DIR  ->  OUT_DIR/handler.mjs (+ OUT_DIR/chunks/)
 * Packages stay external (node_modules ship in the image). Code splitting keeps a lazy import lazy: a
 * module the handler imports only when it needs it (the S3 artifact store, the SageMaker client) goes
 * into a chunk of its own, with its package imports, instead of being hoisted into the entry point,
 * where its SDK would load with every cold start (about 100 ms for the S3 client).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

/** Writes OUT_DIR/handler.mjs and its chunks; returns the entry point's path. */
export async function bundleHandler(handler: string, outDir: string): Promise<string> {
  await build({
    entryPoints: { handler: join(REPO_ROOT, 'lambdas', 'handlers', `${handler}.ts`) },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    splitting: true,
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    sourcemap: true,
    logLevel: 'error',
  });
  return join(outDir, 'handler.mjs');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [handler, outDir] = process.argv.slice(2);
  if (!handler || !outDir) {
    console.error('usage: tsx lambdas/images/bundle-handler.ts HANDLER OUT_DIR');
    process.exit(2);
  }
  console.log(await bundleHandler(handler, outDir));
}
