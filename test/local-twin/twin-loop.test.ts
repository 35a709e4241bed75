import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_WAREHOUSE_DIR, referenceCorpusAvailable } from '../support/environment.js';
import { runTwin } from '../support/twin-cli.js';

/**
 * The local twin's whole loop as a user runs it, on the reference corpus, offline, with
 * SmolLM2-135M-Instruct (.ci/provision-models.sh): a back-translated dataset from the local model,
 * LoRA SFT with the SageMaker job code on the CPU, the adapter as a llama.cpp GGUF, the twin made
 * active and asked. Minutes of both cores, so .ci/run runs it alone (npm run test:twin-loop).
 */
const models = process.env.TWIN_MODELS_DIR ?? '';
/** A short SFT run (batches of 4 of 256 tokens); `--set` takes the values after it. */
const SFT_SETTINGS = ['--steps', '12', '--set', 'max_seq_length=256', 'gradient_accumulation_steps=2'];
const smollm = join(models, 'writing-eval', 'SmolLM2-135M-Instruct.Q4_1.gguf');

describe.runIf(referenceCorpusAvailable() && existsSync(smollm) && process.env.TWIN_TRAINING_PYTHON)(
  'twin train --local: the twin trained on the author’s writing, and answering',
  () => {
    let dataDir: string;
    const env = () => ({
      TWIN_MODELS_DIR: models,
      TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
      TWIN_GENERATOR: 'local',
      TWIN_GENERATOR_GGUF: smollm,
      TWIN_GENERATION_SEED: '0',
      TWIN_QUERY_BACKEND: 'none',
      TWIN_RAG_RERANK: 'false',
      TWIN_GENERATION_MAX_NEW_TOKENS: '40',
    });
    const twin = async (...args: string[]) => {
      const result = await runTwin(['--data-dir', dataDir, ...args], env());
      if (result.code !== 0)
        throw new Error(`twin ${args.join(' ')} exited ${String(result.code)}:\n${result.stderr}`);
      return result;
    };

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'twin-loop-'));
      await twin('warehouse', 'import', REFERENCE_WAREHOUSE_DIR);
      await twin('features');
    }, 300_000);
    afterAll(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    let version = '';

    it('makes an instruction dataset offline whose answers are the author’s own extracts, held-out articles kept out', async () => {
      const made = await twin('dataset', 'instruct', '--limit', '24', '--json');
      expect(made.stderr).toContain('instruction back-translation');
      expect(made.stderr).toMatch(/Keeping out 16 articles held out/u);
      const manifest = JSON.parse(made.stdout) as {
        version: string;
        generation: { model: string; promptVersion: string };
        splits: { train: number };
      };
      expect(manifest.generation.model).toMatch(/^local:/u);
      expect(manifest.generation.promptVersion).toBe('dataset-backtranslation-v1');
      const rows = (
        await readFile(
          join(dataDir, 'artifacts', 'datasets', 'instruct', manifest.version, 'train.jsonl'),
          'utf8',
        )
      )
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { instruction: string; output: string });
      expect(rows.length).toBe(manifest.splits.train);
      expect(rows.length).toBeGreaterThanOrEqual(8);
      for (const row of rows) expect(row.output.length).toBeGreaterThan(row.instruction.length);
    }, 600_000);

    it('trains a LoRA twin on the CPU whose held-out perplexity is below the base model’s for both authors', async () => {
      const trained = await twin('train', '--local', ...SFT_SETTINGS, '--json');
      const lineage = JSON.parse(trained.stdout) as {
        version: string;
        base: { sha256: string };
        importCheck: { top1Agreement: number };
        training: { steps: number; firstLoss: number; lastLoss: number };
        metrics: { heldOutPerplexity: Record<string, { base: number; twin: number; passages: number }> };
        adapter: { sha256: string; bytes: number };
      };
      version = lineage.version;
      expect(lineage.importCheck.top1Agreement).toBeGreaterThanOrEqual(0.95);
      expect(lineage.training.steps).toBe(12);
      // One batch's loss is too noisy to compare first and last; held-out perplexity is the measure.
      const authors = Object.entries(lineage.metrics.heldOutPerplexity);
      expect(authors.map(([author]) => author).sort()).toEqual(['Maxime Labonne', 'Paul Iusztin']);
      for (const [, score] of authors) {
        expect(score.passages).toBe(8);
        expect(score.twin).toBeLessThan(score.base);
      }
      console.log(`held-out perplexity, base and twin: ${JSON.stringify(lineage.metrics.heldOutPerplexity)}`);
    }, 900_000);

    it('answers with the twin once it is made active, and with the stock model again after `use base`', async () => {
      await twin('models', 'use', version);
      const listed = await twin('models');
      expect(listed.stdout).toMatch(new RegExp(`^\\* ${version}`, 'mu'));
      const question = 'How do you design a feature pipeline for an LLM twin?';
      const fromTwin = await twin('ask', question);
      expect(fromTwin.stdout.trim().length).toBeGreaterThan(20);
      console.log(`twin ${version} answered:\n${fromTwin.stdout}`);
      await twin('models', 'use', 'base');
      expect((await twin('models')).stdout).not.toMatch(/^\* /mu);
      // Same seed, same question: a different answer is the adapter at work.
      const fromBase = await twin('ask', question);
      console.log(`the base model answered:\n${fromBase.stdout}`);
      expect(fromBase.stdout).not.toBe(fromTwin.stdout);
    }, 300_000);

    it('trains DPO from the SFT twin on an offline preference dataset, and serves both adapters', async () => {
      // A small model's requests lose about half to curation; a smoke-sized minimum keeps this short.
      const made = await runTwin(
        ['--data-dir', dataDir, 'dataset', 'preference', '--limit', '16', '--json'],
        {
          ...env(),
          TWIN_DATASET_MIN_SAMPLES: '4',
        },
      );
      expect(made.code, made.stderr).toBe(0);
      const preference = (JSON.parse(made.stdout) as { version: string }).version;
      // The SFT stage has the same inputs as the test above, so it resumes from its finished run.
      const trained = await twin(
        'train',
        '--local',
        ...SFT_SETTINGS,
        'dpo.max_steps=3',
        'dpo.max_length=320',
        'dpo.gradient_accumulation_steps=1',
        '--json',
      );
      expect(trained.stderr).toContain(`SFT, then DPO from the SFT twin on preference dataset ${preference}`);
      expect(trained.stderr).toContain('Resuming from the checkpoint at step 12');
      const lineage = JSON.parse(trained.stdout) as {
        version: string;
        datasets: { preference?: string };
        preference?: { training: { steps: number }; hyperparameters: Record<string, string> };
        metrics: { heldOutPerplexity: Record<string, { base: number; sft?: number; twin: number }> };
        adapter: { file: string };
        preferenceAdapter?: { file: string; sha256: string };
      };
      expect(lineage.datasets.preference).toBe(preference);
      expect(lineage.preference?.training.steps).toBe(3);
      expect(lineage.preference?.hyperparameters.beta).toBe('0.5');
      expect(lineage.preferenceAdapter?.file).toBe('adapter-dpo.gguf');
      for (const score of Object.values(lineage.metrics.heldOutPerplexity)) {
        expect(score.sft).toBeLessThan(score.base);
        expect(Number.isFinite(score.twin)).toBe(true);
      }
      console.log(
        `held-out perplexity, base, SFT and SFT+DPO: ${JSON.stringify(lineage.metrics.heldOutPerplexity)}`,
      );
      await twin('models', 'use', lineage.version);
      const answer = await twin('ask', 'What is the first thing to monitor in an LLM system?');
      expect(answer.stdout.trim().length).toBeGreaterThan(20);
      console.log(`twin ${lineage.version} (SFT + DPO) answered:\n${answer.stdout}`);
      await twin('models', 'use', 'base');
    }, 900_000);

    it('refuses a twin whose adapter changed since it was registered', async () => {
      const dir = join(dataDir, 'twins', version);
      expect(await readdir(dir)).toContain('adapter.gguf');
      await appendFile(join(dir, 'adapter.gguf'), 'tampered');
      const refused = await runTwin(['--data-dir', dataDir, 'models', 'use', version], env());
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/adapter\.gguf has sha256 [0-9a-f]{64}, not the registered/u);
    });
  },
);
