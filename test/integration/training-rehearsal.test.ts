import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Simulator } from '../support/aws-simulators.js';
import { REPO_ROOT, referenceCorpusAvailable } from '../support/environment.js';
import {
  buildRehearsalBase,
  jsonl,
  rehearsalRows,
  startJudgeImitation,
  TRAINING_PYTHON,
  trainingEnvironmentAvailable,
} from '../support/training-rehearsal.js';

const run = promisify(execFile);

interface JobRun {
  code: number;
  output: string;
}

/**
 * Runs a job module as SageMaker runs it (`python -m twin_training.<job>` in the code folder), with
 * its /opt/ml tree at `root`: hyperparameters in input/config, channels in input/data/<channel>.
 * Offline, on the CPU.
 */
async function runJob(job: string, root: string, env: Record<string, string> = {}): Promise<JobRun> {
  try {
    const { stdout, stderr } = await run(TRAINING_PYTHON, ['-m', `twin_training.${job}`], {
      cwd: join(REPO_ROOT, 'sagemaker'),
      env: {
        ...process.env,
        TWIN_SAGEMAKER_ROOT: root,
        HF_HUB_OFFLINE: '1',
        HF_DATASETS_OFFLINE: '1',
        CUDA_VISIBLE_DEVICES: '',
        TOKENIZERS_PARALLELISM: 'false',
        ...env,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

async function layOut(
  root: string,
  hyperparameters: Record<string, string>,
  channels: Record<string, Record<string, string>>,
): Promise<void> {
  await mkdir(join(root, 'input', 'config'), { recursive: true });
  await writeFile(join(root, 'input', 'config', 'hyperparameters.json'), JSON.stringify(hyperparameters));
  for (const [channel, files] of Object.entries(channels)) {
    await mkdir(join(root, 'input', 'data', channel), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(root, 'input', 'data', channel, name), content);
    }
  }
}

/** The per-step training log lines the Trainer prints ({'loss': ..., ...}). */
const lossLines = (output: string) => output.split('\n').filter((line) => /'loss': '?[\d.]/u.test(line));

/** A few steps on a tiny model: the mechanics of each job, not a useful model. */
const CPU_REHEARSAL = {
  load_in_4bit: 'false',
  optim: 'adamw_torch',
  max_steps: '3',
  per_device_train_batch_size: '2',
  gradient_accumulation_steps: '1',
  extra_samples: '0',
  max_seq_length: '256',
  max_length: '256',
};

describe.runIf(trainingEnvironmentAvailable() && referenceCorpusAvailable())(
  'the training jobs, run as SageMaker runs them, on the CPU with the container’s libraries',
  () => {
    let work: string;
    let base: string;
    let instruct: Record<string, string>;
    let preference: Record<string, string>;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'twin-rehearsal-'));
      base = await buildRehearsalBase(join(work, 'base'));
      const { pairs, triples } = await rehearsalRows(12);
      instruct = {
        'manifest.json': JSON.stringify({ kind: 'instruct', version: 'instruct-rehearsal' }),
        'train.jsonl': jsonl(pairs.slice(0, 8)),
        'test.jsonl': jsonl(pairs.slice(8)),
      };
      preference = {
        'manifest.json': JSON.stringify({ kind: 'preference', version: 'preference-rehearsal' }),
        'train.jsonl': jsonl(triples.slice(0, 8)),
        'test.jsonl': jsonl(triples.slice(8)),
      };
    }, 120_000);
    afterAll(() => rm(work, { recursive: true, force: true }));

    it('SFT trains on the CPU in fp32, without packing samples into each other, and writes the merged model', async () => {
      const root = join(work, 'sft');
      await layOut(
        root,
        { mode: 'sft', base_model: base, packing: 'true', ...CPU_REHEARSAL },
        { dataset: instruct },
      );
      const sft = await runJob('finetune', root);
      for (const line of lossLines(sft.output)) console.log(`SFT rehearsal ${line.trim()}`);
      expect(sft.code, sft.output).toBe(0);
      expect(lossLines(sft.output)).toHaveLength(3);
      expect(sft.output).toContain('"precision": "float32"');
      expect(sft.output).toContain('flash-attention is not installed here');
      expect(sft.output).not.toContain('cross-contamination');
      for (const file of ['model.safetensors', 'config.json', 'tokenizer.json', 'twin_training.json']) {
        expect(existsSync(join(root, 'model', file)), file).toBe(true);
      }
      const record = JSON.parse(await readFile(join(root, 'model', 'twin_training.json'), 'utf8')) as object;
      expect(record).toMatchObject({
        mode: 'sft',
        dataset: 'instruct-rehearsal',
        precision: 'float32',
        packing: false,
      });
    }, 600_000);

    it('DPO starts from the SFT job’s model.tar.gz and trains with the installed TRL’s DPOConfig', async () => {
      const sftModel = join(work, 'sft', 'model');
      expect(existsSync(join(sftModel, 'model.safetensors'))).toBe(true);
      const root = join(work, 'dpo');
      await layOut(
        root,
        { mode: 'dpo', base_model: 'the-sft-job', ...CPU_REHEARSAL },
        { dataset: preference },
      );
      await mkdir(join(root, 'input', 'data', 'base'), { recursive: true });
      await run('tar', ['-czf', join(root, 'input', 'data', 'base', 'model.tar.gz'), '-C', sftModel, '.']);
      const dpo = await runJob('finetune', root);
      for (const line of lossLines(dpo.output)) console.log(`DPO rehearsal ${line.trim()}`);
      expect(dpo.code, dpo.output).toBe(0);
      expect(lossLines(dpo.output)).toHaveLength(3);
      expect(existsSync(join(root, 'model', 'model.safetensors'))).toBe(true);
      const record = JSON.parse(await readFile(join(root, 'model', 'twin_training.json'), 'utf8')) as object;
      expect(record).toMatchObject({ mode: 'dpo', dataset: 'preference-rehearsal' });
    }, 600_000);

    it('evaluation generates with transformers on the CPU, has both models judged, and writes the paired metrics', async () => {
      const s3 = await startS3Simulator();
      const judge = await startJudgeImitation();
      try {
        const root = join(work, 'evaluate');
        await layOut(
          root,
          {
            model_name: 'dpo-rehearsal',
            baseline_name: 'sft-rehearsal',
            judge_model: 'judge-test',
            openai_base_url: `${judge.url}/v1`,
            metrics_s3_uri: 's3://rehearsal-artifacts/evaluations/rehearsal/metrics.json',
            max_tokens: '24',
            max_samples: '4',
          },
          { dataset: instruct },
        );
        for (const [channel, job] of [
          ['model', 'dpo'],
          ['baseline', 'sft'],
        ] as const) {
          await mkdir(join(root, 'input', 'data', channel), { recursive: true });
          const archive = join(root, 'input', 'data', channel, 'model.tar.gz');
          await run('tar', ['-czf', archive, '-C', join(work, job, 'model'), '.']);
        }
        const evaluation = await runJob('evaluate', root, {
          OPENAI_API_KEY: 'test-key',
          AWS_ENDPOINT_URL_S3: s3.url,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_REGION: 'us-east-1',
        });
        expect(evaluation.code, evaluation.output).toBe(0);
        const summary = evaluation.output.split('\n').find((line) => line.startsWith('{"backend"')) ?? '';
        console.log(`evaluation rehearsal ${summary}`);
        expect(JSON.parse(summary)).toMatchObject({ backend: 'transformers', samples: 4 });
        // Four rows, each answered by the candidate and by the approved model, each answer judged.
        expect(judge.judged).toHaveLength(8);
        const stored = s3.objects.get('rehearsal-artifacts/evaluations/rehearsal/metrics.json');
        const metrics = JSON.parse(stored?.body.toString() ?? '{}') as {
          model: string;
          baseline: { model: string };
          paired: object;
          per_sample: object[];
          stylometry: { candidate: { count: number }; baseline: { count: number } };
          paired_style: { candidate: number; baseline: number }[];
        };
        expect(metrics.model).toBe('dpo-rehearsal');
        expect(metrics.baseline.model).toBe('sft-rehearsal');
        expect(metrics.per_sample).toHaveLength(4);
        expect(metrics.paired).toBeDefined();
        // The writing's style, measured in the job without a judge, paired row by row for the gate.
        expect(metrics.stylometry.candidate.count).toBe(4);
        expect(metrics.stylometry.baseline.count).toBe(4);
        expect(metrics.paired_style).toHaveLength(4);
        for (const pair of metrics.paired_style) {
          expect(typeof pair.candidate).toBe('number');
          expect(typeof pair.baseline).toBe('number');
        }
        expect(await readFile(join(root, 'output', 'data', 'metrics.json'), 'utf8')).toBe(
          stored?.body.toString(),
        );
      } finally {
        await judge.close();
        await s3.close();
      }
    }, 600_000);

    it('twin train sft --local --cpu, then dpo from its model, on dataset versions from the artifact store', async () => {
      const dataDir = join(work, 'twin-data');
      const store = (kind: string, version: string, files: Record<string, string>) =>
        Promise.all(
          Object.entries(files).map(async ([name, body]) => {
            const folder = join(dataDir, 'artifacts', 'datasets', kind, version);
            await mkdir(folder, { recursive: true });
            const manifest = {
              kind,
              version,
              createdAt: '2026-12-06T00:00:00.000Z',
              splits: { train: 8, test: 4 },
            };
            await writeFile(join(folder, name), name === 'manifest.json' ? JSON.stringify(manifest) : body);
          }),
        );
      await store('instruct', 'a1b2c3', instruct);
      await store('preference', 'd4e5f6', preference);
      const twin = async (args: string[]) => {
        try {
          const { stdout, stderr } = await run(
            process.execPath,
            [join(REPO_ROOT, 'bin', 'twin.js'), 'train', ...args],
            {
              cwd: REPO_ROOT,
              env: { ...process.env, TWIN_DATA_DIR: dataDir, HF_HUB_OFFLINE: '1', CUDA_VISIBLE_DEVICES: '' },
              maxBuffer: 64 * 1024 * 1024,
            },
          );
          return { code: 0, stdout, stderr };
        } catch (error) {
          return error as { code: number; stdout: string; stderr: string };
        }
      };
      const settings = [
        '--set',
        'extra_samples=0',
        'max_seq_length=256',
        'max_length=256',
        'gradient_accumulation_steps=1',
      ];
      const sft = await twin(['sft', '--local', '--cpu', '--base-model', base, '--steps', '2', ...settings]);
      expect(sft.code, sft.stderr).toBe(0);
      const sftModel = /^Model in (\S+) \(packed as (\S+)\)\.$/mu.exec(sft.stdout);
      expect(sftModel?.[1]).toBeDefined();
      expect(existsSync(sftModel?.[2] ?? '')).toBe(true);
      const record = JSON.parse(
        await readFile(join(sftModel?.[1] ?? '', 'twin_training.json'), 'utf8'),
      ) as object;
      expect(record).toMatchObject({ mode: 'sft', dataset: 'a1b2c3', precision: 'float32' });

      const dpo = await twin([
        'dpo',
        '--local',
        '--cpu',
        '--model',
        sftModel?.[1] ?? '',
        '--steps',
        '2',
        ...settings,
      ]);
      expect(dpo.code, dpo.stderr).toBe(0);
      expect(dpo.stdout).toMatch(/^Model in \S+dpo-\S+\/model /mu);

      const noModel = await twin(['dpo', '--local', '--cpu']);
      expect(noModel.code).toBe(2);
      expect(noModel.stderr).toContain('dpo needs --model <folder>');
    }, 600_000);

    it('refuses a dataset of the wrong kind, and a setting it does not know, before training', async () => {
      const wrongKind = join(work, 'wrong-kind');
      await layOut(wrongKind, { mode: 'dpo', ...CPU_REHEARSAL }, { dataset: instruct });
      const refused = await runJob('finetune', wrongKind);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain('dpo needs a preference dataset; the dataset channel holds instruct');
      expect(existsSync(join(wrongKind, 'model'))).toBe(false);

      const gone = join(work, 'gone-setting');
      await layOut(
        gone,
        { mode: 'dpo', max_prompt_length: '512', ...CPU_REHEARSAL },
        { dataset: preference },
      );
      const unknown = await runJob('finetune', gone);
      expect(unknown.code).not.toBe(0);
      expect(unknown.output).toContain('unknown hyperparameters: max_prompt_length');

      // A setting our parser still knows but the installed TRL has dropped is named, not a TypeError.
      const dropped = await run(
        TRAINING_PYTHON,
        [
          '-c',
          [
            'from trl import DPOConfig',
            'from twin_training.finetune import trl_config',
            'from twin_training.hyperparameters import HyperparameterError',
            'try:',
            '    trl_config(DPOConfig, output_dir="/tmp/unused", beta=0.1, max_prompt_length=512)',
            'except HyperparameterError as error:',
            '    print(error)',
          ].join('\n'),
        ],
        { cwd: join(REPO_ROOT, 'sagemaker') },
      );
      expect(dropped.stdout.trim()).toBe('DPOConfig of the installed TRL has no max_prompt_length');
    }, 120_000);

    it('refuses a base model folder saved without its tokenizer, naming the folder and the fix', async () => {
      const bare = join(work, 'bare-base');
      await mkdir(bare, { recursive: true });
      for (const file of ['config.json', 'model.safetensors'])
        await copyFile(join(base, file), join(bare, file));
      const root = join(work, 'no-tokenizer');
      await layOut(root, { mode: 'sft', base_model: bare, ...CPU_REHEARSAL }, { dataset: instruct });
      const refused = await runJob('finetune', root);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(`base model: ${bare} holds no tokenizer`);
      expect(refused.output).not.toContain('Traceback');
      expect(existsSync(join(root, 'model', 'config.json'))).toBe(false);
    }, 120_000);
  },
);
