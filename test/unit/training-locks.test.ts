import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/environment.js';

/**
 * The training jobs install from hash locks (npm run lock:training), so that CI's rehearsal and
 * SageMaker run the same releases. A requirements file edited without locking again must fail here.
 */

const SAGEMAKER = join(REPO_ROOT, 'sagemaker');
const CONTAINER_LIBRARIES = ['torch', 'transformers', 'datasets', 'accelerate'];

interface Lock {
  inputs: Map<string, string>;
  pins: Map<string, { version: string; hashes: number }>;
}

const read = (file: string): Promise<string> => readFile(join(SAGEMAKER, file), 'utf8');

async function pinsOf(file: string): Promise<Map<string, string>> {
  const text = await read(file);
  return new Map(
    [...text.matchAll(/^([A-Za-z0-9_.-]+)==([^\s#;]+)/gmu)].map((m) => [norm(m[1]), m[2] ?? '']),
  );
}

const norm = (name: string | undefined): string => (name ?? '').toLowerCase().replace(/[_.]+/gu, '-');

async function lockOf(file: string): Promise<Lock> {
  const text = await read(file);
  const inputs = new Map(
    [...text.matchAll(/^#\s+(requirements[\w-]*\.txt) sha256=([0-9a-f]{64})$/gmu)].map((m) => [
      m[1] ?? '',
      m[2] ?? '',
    ]),
  );
  const pins = new Map<string, { version: string; hashes: number }>();
  for (const entry of text.split(/\n(?=[A-Za-z0-9])/u).filter((block) => !block.startsWith('#'))) {
    const head = /^([A-Za-z0-9_.-]+)==([^\s;\\]+)/u.exec(entry);
    if (head)
      pins.set(norm(head[1]), {
        version: head[2] ?? '',
        hashes: (entry.match(/--hash=sha256:[0-9a-f]{64}/gu) ?? []).length,
      });
  }
  return { inputs, pins };
}

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await read(file))
    .digest('hex');

describe('the training jobs’ hash locks', () => {
  const locks = {
    'requirements.lock': ['requirements-container.txt', 'requirements.txt', 'requirements-evaluate.txt'],
    'requirements-extras.lock': [
      'requirements-container.txt',
      'requirements.txt',
      'requirements-evaluate.txt',
    ],
    'requirements-evaluate.lock': ['requirements-evaluate.txt'],
  };

  it.each(Object.entries(locks))(
    '%s was written from the requirements files as they are now',
    async (lock, inputs) => {
      const { inputs: recorded } = await lockOf(lock);
      expect([...recorded.keys()].sort()).toEqual([...inputs].sort());
      for (const input of inputs) {
        expect(
          recorded.get(input),
          `${input} changed since ${lock} was written: run npm run lock:training`,
        ).toBe(await sha256(input));
      }
    },
  );

  it.each(Object.keys(locks))('%s gives every package a version and at least one sha256', async (lock) => {
    const { pins } = await lockOf(lock);
    expect(pins.size).toBeGreaterThan(10);
    for (const [name, pin] of pins) expect(pin.hashes, name).toBeGreaterThan(0);
  });

  it('holds every pin of the requirements files at the pinned version (vLLM only in the evaluation lock)', async () => {
    const all = await lockOf('requirements.lock');
    const evaluation = await lockOf('requirements-evaluate.lock');
    for (const file of ['requirements-container.txt', 'requirements.txt', 'requirements-evaluate.txt']) {
      for (const [name, version] of await pinsOf(file)) {
        if (name === 'vllm') continue;
        expect(all.pins.get(name)?.version, `${name} in ${file}`).toBe(version);
      }
    }
    for (const [name, version] of await pinsOf('requirements-evaluate.txt')) {
      expect(evaluation.pins.get(name)?.version, `${name} in requirements-evaluate.lock`).toBe(version);
    }
    expect(all.pins.has('vllm')).toBe(false);
  });

  it("leaves the container's libraries out of what run.sh installs into the training container", async () => {
    const all = await lockOf('requirements.lock');
    const extras = await lockOf('requirements-extras.lock');
    for (const library of CONTAINER_LIBRARIES) expect(extras.pins.has(library), library).toBe(false);
    for (const [name, version] of await pinsOf('requirements.txt')) {
      expect(extras.pins.get(name)?.version, name).toBe(version);
    }
    for (const [name, pin] of extras.pins) expect(all.pins.get(name)?.version, name).toBe(pin.version);
  });

  it('is what the jobs and the rehearsal install, with hashes required', async () => {
    const runScript = await read('run.sh');
    expect(runScript).toContain('finetune) install=(--no-deps -r "$here/requirements-extras.lock")');
    expect(runScript).toMatch(/pip install [^\n]*--require-hashes "\$\{install\[@\]\}"/u);
    const local = await read('install-local-env.sh');
    expect(local).toMatch(/pip" install [^\n]*--require-hashes -r "\$here\/requirements.lock"/u);
    expect(local).toMatch(
      /pip" install [^\n]*--require-hashes --no-deps -r "\$here\/requirements-local.lock"/u,
    );
    const rehearsal = await readFile(join(REPO_ROOT, '.ci', 'install-training-env.sh'), 'utf8');
    expect(rehearsal).toContain('sagemaker/install-local-env.sh');
  });

  it("pins the local twin's additions as the evaluation job does, with hashes", async () => {
    const local = await lockOf('requirements-local.lock');
    const evaluate = await lockOf('requirements-evaluate.lock');
    expect([...local.pins.keys()].sort()).toEqual(['gguf', 'sentencepiece']);
    for (const [name, pin] of local.pins) expect(evaluate.pins.get(name)?.version, name).toBe(pin.version);
  });
});
