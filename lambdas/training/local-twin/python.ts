import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { JOB_CODE } from '../local-job.js';

/** Lines a job prints with this prefix are progress (sagemaker/twin_training/progress.py). */
const PROGRESS_PREFIX = 'twin-progress ';

export interface JobProgress {
  event: 'begin' | 'step' | 'checkpoint' | 'budget';
  step: number;
  max_steps: number;
  elapsed_s: number;
  loss?: number;
  /** Tokens trained on so far (TRL's running count). */
  tokens?: number;
  resumed_from?: number;
}

export interface PythonRun {
  code: number;
  /** The last line of standard output that was a JSON object: a step's result. */
  result?: Record<string, unknown>;
}

/**
 * Runs `python -m twin_training.<module> args` in the job code folder. Progress lines go to
 * `onProgress`, JSON lines are kept (the last one is the result), anything else is the job's own
 * output and goes to stderr as it comes, so a failure explains itself.
 */
export function runJobModule(
  python: string,
  module: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onProgress?: (progress: JobProgress) => void } = {},
): Promise<PythonRun> {
  return new Promise((done, fail) => {
    const child = spawn(python, ['-m', `twin_training.${module}`, ...args], {
      cwd: JOB_CODE,
      env: { ...process.env, ...options.env, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let result: Record<string, unknown> | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(PROGRESS_PREFIX)) {
        options.onProgress?.(JSON.parse(line.slice(PROGRESS_PREFIX.length)) as JobProgress);
        return;
      }
      if (line.startsWith('{')) {
        try {
          result = JSON.parse(line) as Record<string, unknown>;
          return;
        } catch {
          // not JSON after all: the job's own output
        }
      }
      process.stderr.write(`${line}\n`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      // transformers' and tqdm's bars redraw with carriage returns; keep the last state of a line.
      const shown = line.split('\r').at(-1) ?? line;
      if (shown.trim() !== '' && !/Warning|warnings\.warn/u.test(shown)) process.stderr.write(`  ${shown}\n`);
    });
    child.once('error', fail);
    child.once('close', (code) => done({ code: code ?? 1, ...(result ? { result } : {}) }));
  });
}

/**
 * The Python that runs the job code: --python or TWIN_TRAINING_PYTHON when given, else the
 * environment sagemaker/install-local-env.sh sets up once (about 7 GB) and reuses.
 */
export async function trainingPython(explicit: string | undefined): Promise<string> {
  const given = explicit ?? process.env.TWIN_TRAINING_PYTHON;
  if (given) return given;
  process.stderr.write(
    'Setting up the training environment (once: torch, transformers, PEFT, TRL, gguf-py; about 7 GB under ~/.cache/llm-twin)\n',
  );
  return new Promise((done, fail) => {
    const child = spawn('bash', [join(JOB_CODE, 'install-local-env.sh')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let python = '';
    let packages = 0;
    child.stdout.on('data', (chunk: Buffer) => (python += chunk.toString()));
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.startsWith('Collecting ')) {
        packages += 1;
        process.stderr.write(`  ${String(packages)} packages: ${line.slice('Collecting '.length)}\n`);
      } else if (/^(ERROR|error)/u.test(line)) process.stderr.write(`  ${line}\n`);
    });
    child.once('error', fail);
    child.once('close', (code) => {
      if (code === 0) done(python.trim());
      else
        fail(
          new Error(
            `setting up the training environment failed (exit ${String(code)}); its errors are above. Re-run to try again, or point --python at a Python with the packages of sagemaker/requirements.lock`,
          ),
        );
    });
  });
}
