import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler } from '../../lambdas/images/bundle-handler.js';

/** The packages a module imports at load time (`import … from "pkg"`), not those of `import("pkg")`. */
function staticImports(source: string): string[] {
  return [...source.matchAll(/^(?:import|\}) .*?from "([^".][^"]*)";$/gmu)].map((match) => match[1] ?? '');
}

describe('the container image bundle of the RAG function', () => {
  let dir: string;
  let entry: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-image-bundle-'));
    entry = await bundleHandler('rag', dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads the S3 and SageMaker clients only when a request needs them', async () => {
    const loaded = staticImports(await readFile(entry, 'utf8'));
    expect(loaded).toContain('@middy/core');
    expect(loaded).not.toContain('@aws-sdk/client-s3');
    expect(loaded.filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);

    // They live in chunks of their own, imported by the entry point on first use.
    const chunks = await readdir(join(dir, 'chunks'));
    const lazily = await Promise.all(
      chunks
        .filter((name) => name.endsWith('.mjs'))
        .map(async (name) => staticImports(await readFile(join(dir, 'chunks', name), 'utf8'))),
    );
    expect(lazily.flat()).toContain('@aws-sdk/client-s3');
  });
});
