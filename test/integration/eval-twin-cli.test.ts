import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_WAREHOUSE_DIR, referenceCorpusAvailable } from '../support/environment.js';
import { runTwin } from '../support/twin-cli.js';

/**
 * `twin eval twin` refuses what it cannot evaluate, before loading any model. The evaluation itself
 * (two real models, minutes of both cores) runs alone in .ci/run as `npm run eval:twin`, with --check.
 */
describe.runIf(referenceCorpusAvailable())('twin eval twin, refusing bad input', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'twin-eval-twin-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const evalTwin = (...args: string[]) =>
    runTwin(
      [
        '--data-dir',
        dataDir,
        'eval',
        'twin',
        '--corpus',
        REFERENCE_WAREHOUSE_DIR,
        '--model',
        'none.gguf',
        ...args,
      ],
      {},
    );

  it('refuses an author with too few articles for the held-out set, with the counts', async () => {
    const result = await evalTwin('--requests', '30');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /twin: Maxime Labonne has 2\d articles with prose; holding out 30 and keeping 5 for the profile needs 35/u,
    );
  });

  it('refuses a count that is not a whole number in range, naming the option', async () => {
    const result = await evalTwin('--requests', '0');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--requests must be a whole number from 1 to 100');
  });
});
