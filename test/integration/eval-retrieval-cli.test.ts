import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable } from '../support/models.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';

const run = promisify(execFile);
const ready = referenceCorpusAvailable() && embeddingModelAvailable();

/** `twin eval retrieval` as CI runs it: its exit status is the gate. */
describe.runIf(ready)('twin eval retrieval, as a process', () => {
  let corpus: RagCorpus;
  let golden: string;

  beforeAll(async () => {
    corpus = await buildRagCorpus();
    golden = join(corpus.dataDir, 'golden.jsonl');
    await writeFile(golden, corpus.questions.map((question) => JSON.stringify(question)).join('\n'));
  }, 300_000);
  afterAll(async () => {
    await corpus.dispose();
  });

  const evalRetrieval = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'twin.js'), 'eval', 'retrieval', '--golden', golden, '--no-rerank', ...args],
        { cwd: REPO_ROOT, env: { ...process.env, ...corpus.env, TWIN_QUERY_BACKEND: 'none' } },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  it('cross-validates the fusion over folds, prints each fold, and exits 1 on a floor it misses', async () => {
    const floors = join(corpus.dataDir, 'floors.json');
    await writeFile(floors, JSON.stringify({ dense: { mrr: 1, recall_9: 1 } }));

    const { code, stdout, stderr } = await evalRetrieval('--folds', '3', '--floors', floors);

    expect(stdout).toContain('Cross-validation of the hybrid fusion, 3 folds by source article');
    expect(stdout).toMatch(/^ {3}1 +\d+ /mu);
    expect(stdout).toContain('convex alpha=0.9');
    expect(stderr).toMatch(/twin: dense mrr 0\.\d{3} is below its floor 1\.000/u);
    expect(stderr).toContain('retrieval check(s) failed');
    expect(code).toBe(1);
  }, 300_000);

  it('exits 0 when every figure is at or above its floor', async () => {
    const floors = join(corpus.dataDir, 'floors-met.json');
    await writeFile(floors, JSON.stringify({ dense: { mrr: 0, recall_9: 0 } }));

    const { code, stdout } = await evalRetrieval('--compare', '--floors', floors);

    expect(stdout).toContain('Every evaluated figure is at or above its floor');
    expect(code).toBe(0);
  }, 300_000);
});
