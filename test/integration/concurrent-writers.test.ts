import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { CATEGORIES, collectionName } from '../../lambdas/domain/index.js';
import { LOCK_FILE, withWriterLock } from '../../lambdas/shared/writer-lock.js';
import { collect } from '../support/async.js';
import { REFERENCE_WAREHOUSE_DIR, REPO_ROOT, referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, TEST_MODELS_DIR } from '../support/models.js';

interface Run {
  done: Promise<{ code: number | null; stderr: string }>;
  stderr(): string;
  kill(): void;
}

/** The real `twin` in a child process of its own, as a user would start it. */
function twin(args: string[], dataDir: string): Run {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'twin.js'), ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TWIN_DATA_DIR: dataDir,
      TWIN_MODELS_DIR: TEST_MODELS_DIR,
      TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr }))),
    stderr: () => stderr,
    kill: () => child.kill('SIGKILL'),
  };
}

/** Every stored point of the feature store, and how many distinct ids they have. */
async function featureStoreOf(dataDir: string) {
  const store = await LanceVectorStore.open(join(dataDir, 'vectors'));
  try {
    const counts: Record<string, { points: number; ids: number }> = {};
    for (const category of CATEGORIES) {
      for (const snapshot of ['cleaned', 'embedded'] as const) {
        const points = await collect(store.scroll(collectionName(snapshot, category)));
        counts[`${snapshot}_${category}`] = {
          points: points.length,
          ids: new Set(points.map((point) => point.id)).size,
        };
      }
    }
    return counts;
  } finally {
    await store.close();
  }
}

const EXPECTED = {
  cleaned_articles: { points: 76, ids: 76 },
  embedded_articles: { points: 1148, ids: 1148 },
};

describe('one writer at a time per data folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-writers-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lets a second writer wait, and takes over a lock whose process is gone', async () => {
    const order: string[] = [];
    const first = withWriterLock(dir, 'first', async () => {
      order.push('first starts');
      await new Promise((resolve) => setTimeout(resolve, 300));
      order.push('first ends');
    });
    const waitedFor: string[] = [];
    const second = withWriterLock(
      dir,
      'second',
      () => Promise.resolve(void order.push('second runs')),
      (holder) => waitedFor.push(holder.command),
    );
    await Promise.all([first, second]);
    expect(order).toEqual(['first starts', 'first ends', 'second runs']);
    expect(waitedFor).toEqual(['another task of this process']);

    // A lock left by a process that no longer exists (as after SIGKILL) holds nothing up.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({
        pid: gone.pid,
        host: (await import('node:os')).hostname(),
        command: 'killed',
        since: '',
      }),
    );
    const waited: string[] = [];
    await withWriterLock(
      dir,
      'after a crash',
      () => Promise.resolve(),
      (holder) => waited.push(holder.command),
    );
    expect(waited).toEqual([]);
  });

  it('gives a stale lock to exactly one of many processes racing for it, and to each in turn', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    const { hostname } = await import('node:os');
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: gone.pid, host: hostname(), command: 'killed', since: '' }),
    );
    const log = join(dir, 'turns.log');
    await writeFile(log, '');
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const exits = await Promise.all(
      names.map((name) => {
        const worker = spawn(
          process.execPath,
          ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'lock-worker.ts'), dir, log, name],
          { cwd: REPO_ROOT, stdio: 'inherit' },
        );
        return new Promise((resolve) => worker.once('exit', resolve));
      }),
    );
    expect(exits).toEqual(names.map(() => 0));
    const turns = (await readFile(log, 'utf8')).trim().split('\n');
    // Every turn is "enter x" directly followed by "leave x": no two writers ever overlapped.
    expect(turns).toHaveLength(names.length * 2);
    for (let index = 0; index < turns.length; index += 2)
      expect(turns[index + 1]).toBe(turns[index]?.replace('enter', 'leave'));
    expect(turns.filter((line) => line.startsWith('enter')).sort()).toEqual(
      names.map((name) => `enter ${name}`),
    );
    expect((await readdir(dir)).sort()).toEqual(['turns.log']);
  });

  describe.runIf(referenceCorpusAvailable() && embeddingModelAvailable())('with real processes', () => {
    beforeEach(async () => {
      const imported = await twin(['warehouse', 'import', REFERENCE_WAREHOUSE_DIR], dir).done;
      expect(imported.code).toBe(0);
    });

    it('two `twin features` started together over one fresh store end as one run would', async () => {
      const [a, b] = [twin(['features'], dir), twin(['features'], dir)];
      const [first, second] = await Promise.all([a.done, b.done]);

      expect([first.code, second.code]).toEqual([0, 0]);
      expect(
        [first.stderr, second.stderr].filter((text) => text.includes('Waiting for `twin features`')),
      ).toHaveLength(1);
      expect(await featureStoreOf(dir)).toMatchObject(EXPECTED);
    }, 400_000);

    it('a run killed mid-way (SIGKILL) and run again ends as an uninterrupted run', async () => {
      const killed = twin(['features'], dir);
      // Killed once it has stored some documents' features, not all.
      let stored = 0;
      while (stored === 0) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        stored = (await featureStoreOf(dir)).cleaned_articles?.points ?? 0;
      }
      killed.kill();
      await killed.done;
      expect(stored).toBeLessThan(76);

      const again = await twin(['features'], dir).done;

      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain('Waiting for');
      expect(await featureStoreOf(dir)).toMatchObject(EXPECTED);
    }, 400_000);
  });
});
