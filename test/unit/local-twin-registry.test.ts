import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lambdas/settings/index.js';
import {
  listTwins,
  registerTwin,
  useBase,
  useTwin,
  type TwinLineage,
} from '../../lambdas/training/local-twin/registry.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the local registry of twins', () => {
  let dataDir: string;
  let baseFile: string;
  let adapterFile: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'twin-registry-'));
    baseFile = join(dataDir, 'base.gguf');
    adapterFile = join(dataDir, 'trained-adapter.gguf');
    await writeFile(baseFile, 'GGUF base weights');
    await writeFile(adapterFile, 'GGUF adapter weights');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const lineage = (version: string): Omit<TwinLineage, 'adapter' | 'preferenceAdapter'> => ({
    version,
    createdAt: new Date().toISOString(),
    base: { file: baseFile, sha256: sha256('GGUF base weights'), name: 'base', architecture: 'llama' },
    importCheck: { top1Agreement: 0.97, positions: 96 },
    servingCheck: { top1Agreement: 0.99 },
    datasets: { instruct: '0123456789abcdef' },
    hyperparameters: { lora_r: '16' },
    training: { steps: 16, seconds: 120, firstLoss: 3.1, lastLoss: 2.4, trainLoss: 2.7 },
    metrics: { heldOutPerplexity: { 'Ada Lovelace': { base: 30, twin: 25, passages: 8 } } },
  });

  it('records the adapter’s sha256 with the lineage, and lists the versions', async () => {
    const twin = await registerTwin(dataDir, { sft: adapterFile }, lineage('20261207-aaaa'));
    expect(twin.lineage.adapter).toEqual({
      file: 'adapter.gguf',
      sha256: sha256('GGUF adapter weights'),
      bytes: 20,
    });
    expect((await listTwins(dataDir)).map((listed) => listed.lineage.version)).toEqual(['20261207-aaaa']);
  });

  it('makes a twin answer through the settings every command loads, and `use base` undoes it', async () => {
    await registerTwin(dataDir, { sft: adapterFile }, lineage('20261207-aaaa'));
    await useTwin(dataDir, '20261207-aaaa');
    const generator = loadSettings({
      TWIN_DATA_DIR: dataDir,
      TWIN_MODELS_DIR: join(dataDir, 'models'),
    }).generator;
    expect(generator).toMatchObject({
      kind: 'local',
      file: baseFile,
      sha256: sha256('GGUF base weights'),
      twin: {
        version: '20261207-aaaa',
        adapters: [
          {
            file: join(dataDir, 'twins', '20261207-aaaa', 'adapter.gguf'),
            sha256: sha256('GGUF adapter weights'),
          },
        ],
      },
    });
    expect((await listTwins(dataDir))[0]?.active).toBe(true);
    await useBase(dataDir);
    expect(
      loadSettings({ TWIN_DATA_DIR: dataDir, TWIN_MODELS_DIR: join(dataDir, 'models') }).generator.kind,
    ).toBe('none');
  });

  it('serves a twin trained with DPO as its SFT adapter and then its DPO adapter, each checked', async () => {
    const dpoFile = join(dataDir, 'trained-dpo.gguf');
    await writeFile(dpoFile, 'GGUF preference adapter');
    const twin = await registerTwin(
      dataDir,
      { sft: adapterFile, dpo: dpoFile },
      {
        ...lineage('20261207-cccc'),
        datasets: { instruct: '0123456789abcdef', preference: 'fedcba9876543210' },
        preference: {
          hyperparameters: { beta: '0.5' },
          training: { steps: 4, seconds: 60, firstLoss: 0.69, lastLoss: 0.6, trainLoss: 0.65 },
        },
      },
    );
    expect(twin.lineage.preferenceAdapter).toEqual({
      file: 'adapter-dpo.gguf',
      sha256: sha256('GGUF preference adapter'),
      bytes: 23,
    });
    const active = await useTwin(dataDir, '20261207-cccc');
    expect(active.adapters.map((adapter) => adapter.file)).toEqual([
      join(twin.dir, 'adapter.gguf'),
      join(twin.dir, 'adapter-dpo.gguf'),
    ]);
    await writeFile(join(twin.dir, 'adapter-dpo.gguf'), 'GGUF other weights');
    await expect(useTwin(dataDir, '20261207-cccc')).rejects.toThrow(
      /adapter-dpo\.gguf has sha256 [0-9a-f]{64}, not the registered/u,
    );
  });

  it('refuses a twin whose adapter changed, or whose base is no longer the file it was trained on', async () => {
    const twin = await registerTwin(dataDir, { sft: adapterFile }, lineage('20261207-aaaa'));
    await writeFile(join(twin.dir, 'adapter.gguf'), 'GGUF other weights');
    await expect(useTwin(dataDir, '20261207-aaaa')).rejects.toThrow(
      /adapter\.gguf has sha256 [0-9a-f]{64}, not the registered/u,
    );

    await registerTwin(dataDir, { sft: adapterFile }, lineage('20261207-bbbb'));
    await writeFile(baseFile, 'GGUF a different base');
    await expect(useTwin(dataDir, '20261207-bbbb')).rejects.toThrow(
      /was trained on base\.gguf .*an adapter only fits its own base/u,
    );
    await expect(useTwin(dataDir, 'nope')).rejects.toThrow(/no local twin nope; the registered ones: /u);
  });

  it('refuses a damaged pointer with what to run, instead of quietly answering with the stock model', async () => {
    await mkdir(join(dataDir, 'twins'), { recursive: true });
    await writeFile(join(dataDir, 'twins', 'active.json'), '{"version": 3}');
    expect(() => loadSettings({ TWIN_DATA_DIR: dataDir })).toThrow(
      /not a twin pointer .*twin models use base/u,
    );
  });
});
