import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/environment.js';

/**
 * The evaluation job's Python environment is one that vLLM publishes: the torch version its wheel
 * requires (read from PyPI's metadata, the authority), as PyPI builds it (CUDA 12), in a virtual
 * environment of its own, so that the training container's CUDA 13 torch never meets vLLM's kernels.
 */

const run = promisify(execFile);
const SAGEMAKER = join(REPO_ROOT, 'sagemaker');

async function pins(file: string): Promise<Map<string, string>> {
  const text = await readFile(join(SAGEMAKER, file), 'utf8');
  return new Map(
    [...text.matchAll(/^([A-Za-z0-9_.-]+)==([^\s#]+)/gmu)].map((m) => [
      m[1]?.toLowerCase() ?? '',
      m[2] ?? '',
    ]),
  );
}

/** A package's declared requirements, from PyPI's metadata (no wheel is downloaded). */
async function requirementsOf(pkg: string, version: string): Promise<string[]> {
  const report = join(await mkdtemp(join(tmpdir(), 'twin-pip-')), 'report.json');
  await run(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--dry-run',
      '--no-deps',
      '--ignore-installed',
      '--report',
      report,
      `${pkg}==${version}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const parsed = JSON.parse(await readFile(report, 'utf8')) as {
    install: { metadata: { requires_dist?: string[] } }[];
  };
  return parsed.install[0]?.metadata.requires_dist ?? [];
}

describe('the evaluation job environment (sagemaker/requirements-evaluate.txt, run.sh)', () => {
  it('pins the torch that its vLLM wheel requires, the CUDA 12 build PyPI publishes', async () => {
    const pinned = await pins('requirements-evaluate.txt');
    const vllm = pinned.get('vllm');
    const torch = pinned.get('torch');
    expect(vllm).toBeDefined();
    const vllmNeeds = (await requirementsOf('vllm', vllm ?? '')).find((r) => /^torch\s*==/u.test(r));
    expect(vllmNeeds?.replace(/\s/gu, '')).toBe(`torch==${String(torch)}`);
    const torchNeeds = await requirementsOf('torch', torch ?? '');
    expect(torchNeeds.some((r) => r.startsWith('nvidia-cuda-runtime-cu12'))).toBe(true);
  }, 180_000);

  it("installs it into an environment of its own, never over the training container's torch", async () => {
    const script = await readFile(join(SAGEMAKER, 'run.sh'), 'utf8');
    const evaluateBranch = /if \[ "\$job" = evaluate \]; then([\s\S]*?)\nfi/u.exec(script)?.[1] ?? '';
    expect(evaluateBranch).toMatch(/python3 -m venv \S+/u);
    expect(evaluateBranch).not.toContain('--system-site-packages');
    expect(script).toMatch(/evaluate\) install=\(-r "\$here\/requirements-evaluate\.lock"\)/u);
    expect(script).toMatch(/"\$python" -m pip install .*--require-hashes "\$\{install\[@\]\}"/u);
    expect(script).toMatch(/exec "\$python" -m "twin_training\.\$job"/u);
  });
});
