import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_GENERATOR } from '../../lambdas/settings/local-model.js';
import { REPO_ROOT } from '../support/environment.js';
import { startLoopbackServer } from '../support/http-server.js';
import { localModelAvailable, TEST_GGUF, TEST_GGUF_SHA256 } from '../support/models.js';

const run = promisify(execFile);

/** The default model's address on the Hub, without the `hf:` prefix. */
const DEFAULT_PATH = `/${DEFAULT_LOCAL_GENERATOR.slice('hf:'.length).replace(/^([^/]+\/[^/]+)\//u, '$1/resolve/main/')}`;

/**
 * `twin models pull --generator` against a Hub mirror on 127.0.0.1 (HF_ENDPOINT). The real default
 * model is not reachable from here; the mirror serves the CI's real GGUF under the default's name.
 */
describe.skipIf(!localModelAvailable())('twin models pull --generator', () => {
  let hub: { url: string; close(): Promise<void> };
  const requests: string[] = [];
  let serve: 'model' | 'login page' = 'model';

  beforeAll(async () => {
    hub = await startLoopbackServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url !== DEFAULT_PATH) {
        response.writeHead(404).end('not found');
      } else if (serve === 'login page') {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Log in</title>');
      } else {
        void stat(TEST_GGUF).then(({ size }) => {
          response.writeHead(200, { 'content-length': String(size) });
          createReadStream(TEST_GGUF).pipe(response);
        });
      }
    });
  });
  afterAll(() => hub.close());

  const twin = async (modelsDir: string, env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'twin.js'), 'models', 'pull', '--generator'],
        {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            TWIN_DATA_DIR: modelsDir,
            TWIN_MODELS_DIR: modelsDir,
            HF_ENDPOINT: hub.url,
            TWIN_ALLOW_MODEL_DOWNLOAD: 'true',
            TWIN_GENERATOR: 'auto',
            TWIN_GENERATOR_GGUF: '',
            ...env,
          },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
  };

  it('downloads the default model into the model folder, measures it, and downloads it only once', async () => {
    const modelsDir = await mkdtemp(join(tmpdir(), 'twin-gguf-pull-'));
    try {
      serve = 'model';
      requests.length = 0;
      const first = await twin(modelsDir, { TWIN_GENERATOR_GGUF_SHA256: TEST_GGUF_SHA256 });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/tokens\/s\), in .*qwen2\.5-1\.5b-instruct-q4_k_m\.gguf/u);
      const file = join(
        modelsDir,
        'gguf',
        'Qwen',
        'Qwen2.5-1.5B-Instruct-GGUF',
        'qwen2.5-1.5b-instruct-q4_k_m.gguf',
      );
      expect((await stat(file)).size).toBe((await stat(TEST_GGUF)).size);
      expect(requests).toEqual([DEFAULT_PATH]);

      const again = await twin(modelsDir);
      expect(again.code).toBe(0);
      expect(requests).toEqual([DEFAULT_PATH]);
    } finally {
      await rm(modelsDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('keeps nothing when the Hub sends something other than a model', async () => {
    const modelsDir = await mkdtemp(join(tmpdir(), 'twin-gguf-pull-'));
    try {
      serve = 'login page';
      const refused = await twin(modelsDir);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is not a GGUF model (it starts with "<!do"');
      const left = await readdir(join(modelsDir, 'gguf'), { recursive: true });
      expect(left.filter((path) => path.endsWith('.gguf') || path.endsWith('.partial'))).toEqual([]);
    } finally {
      await rm(modelsDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to download when downloads are off, and says what to do', async () => {
    const modelsDir = await mkdtemp(join(tmpdir(), 'twin-gguf-pull-'));
    try {
      const refused = await twin(modelsDir, { TWIN_ALLOW_MODEL_DOWNLOAD: 'false' });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('TWIN_ALLOW_MODEL_DOWNLOAD=false');
      expect(existsSync(join(modelsDir, 'gguf'))).toBe(false);
    } finally {
      await rm(modelsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
