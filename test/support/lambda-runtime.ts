import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_CI, REPO_ROOT } from './environment.js';
import type { SynthesizedFunction } from './cloud-assembly.js';

/**
 * Runs a synthesized function's code as Lambda does: its asset alone in an empty task root (no
 * node_modules beside a zip bundle: only the AWS SDK, which the runtime provides), in a clean process
 * of the runtime's Node.js release, reporting errors by `error.name` (test/support/lambda-runtime/invoke.mjs).
 */

const INVOKER = join(REPO_ROOT, 'test', 'support', 'lambda-runtime', 'invoke.mjs');
const run = promisify(execFile);

/** The Node.js binary of a release line, installed by .ci/install-lambda-node.sh (TWIN_LAMBDA_NODE_<major>). */
export function lambdaNode(major: number): string | undefined {
  const given = process.env[`TWIN_LAMBDA_NODE_${String(major)}`];
  if (given && existsSync(given)) return given;
  if (IN_CI)
    throw new Error(
      `no Node.js ${String(major)} for the bundle tests: .ci/install-lambda-node.sh ${String(major)}`,
    );
  return undefined;
}

/** The Node.js major a function runs on: nodejs24.x, or the base image of its Dockerfile. */
export async function runtimeMajorOf(fn: SynthesizedFunction): Promise<number> {
  if (fn.code.kind === 'zip') {
    const major = /^nodejs(\d+)\.x$/u.exec(fn.code.runtime)?.[1];
    if (!major) throw new Error(`${fn.logicalId}: not a Node.js runtime (${fn.code.runtime})`);
    return Number(major);
  }
  const dockerfile = await readFile(join(fn.code.assetDir, fn.code.dockerfile), 'utf8');
  const bases = [...dockerfile.matchAll(/^FROM public\.ecr\.aws\/lambda\/nodejs:(\d+)/gmu)].map((m) => m[1]);
  const final = bases.at(-1);
  if (!final) throw new Error(`${fn.logicalId}: its Dockerfile's final stage is not a Lambda Node.js image`);
  return Number(final);
}

export interface TaskRoot {
  dir: string;
  handler: string;
}

/**
 * A zip function's task root: a copy of its asset folder, with only the runtime's AWS SDK reachable
 * (a node_modules above the task root holding @aws-sdk, as the runtime's own module path does).
 */
export async function zipTaskRoot(fn: SynthesizedFunction): Promise<TaskRoot> {
  if (fn.code.kind !== 'zip') throw new Error(`${fn.logicalId} is not a zip function`);
  const sandbox = await mkdtemp(join(tmpdir(), 'twin-lambda-'));
  const dir = join(sandbox, 'task');
  await cp(fn.code.assetDir, dir, { recursive: true });
  await mkdir(join(sandbox, 'node_modules'));
  await symlink(join(REPO_ROOT, 'node_modules', '@aws-sdk'), join(sandbox, 'node_modules', '@aws-sdk'));
  return { dir, handler: fn.code.handler };
}

/**
 * A container function's task root, built as its Dockerfile builds it: the image asset's own sources
 * bundled by its own lambdas/images/bundle-handler.ts, beside the installed packages (the image's
 * `npm ci`), with the image's CMD as the handler.
 */
export async function imageTaskRoot(fn: SynthesizedFunction): Promise<TaskRoot> {
  if (fn.code.kind !== 'image') throw new Error(`${fn.logicalId} is not a container function`);
  const dockerfile = await readFile(join(fn.code.assetDir, fn.code.dockerfile), 'utf8');
  const handler = /^CMD \["([^"]+)"\]/mu.exec(dockerfile)?.[1];
  if (!handler) throw new Error(`${fn.logicalId}: its Dockerfile has no CMD ["file.handler"]`);
  const sandbox = await mkdtemp(join(tmpdir(), 'twin-image-'));
  const source = join(sandbox, 'build');
  await cp(fn.code.assetDir, source, { recursive: true });
  await symlink(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'));
  const dir = join(sandbox, 'task');
  await run(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(source, 'lambdas', 'images', 'bundle-handler.ts'),
      fn.code.buildArgs.HANDLER ?? '',
      dir,
    ],
    { cwd: source },
  );
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, handler };
}

/** The code of a task root: its entry module and, for an image, the chunks it imports lazily. */
export async function taskRootCode(root: TaskRoot): Promise<string> {
  const entry = join(root.dir, root.handler.slice(0, root.handler.lastIndexOf('.')));
  const entryFile =
    ['.mjs', '.js'].map((ext) => entry + ext).find((path) => existsSync(path)) ?? `${entry}.mjs`;
  const chunks = await readdir(join(root.dir, 'chunks')).catch(() => [] as string[]);
  const files = [
    entryFile,
    ...chunks.filter((n) => n.endsWith('.mjs')).map((n) => join(root.dir, 'chunks', n)),
  ];
  return (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('\n');
}

export interface Invocation {
  result?: unknown;
  errorType?: string;
  errorMessage?: string;
  /** What the function wrote to stdout and stderr (its logs). */
  logs: string;
}

/** One invocation, in a fresh process: the cold start and the request. */
export async function invokeInLambdaRuntime(options: {
  node: string;
  root: TaskRoot;
  event: unknown;
  environment: Record<string, string>;
  timeoutMs?: number;
}): Promise<Invocation> {
  const resultFile = join(await mkdtemp(join(tmpdir(), 'twin-invoke-')), 'result.json');
  const child = spawn(options.node, [INVOKER, options.root.dir, options.root.handler, resultFile], {
    cwd: options.root.dir,
    // A clean environment: what Lambda sets, and the function's own variables.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LAMBDA_TASK_ROOT: options.root.dir,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'twin-function',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '30',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
      AWS_SESSION_TOKEN: 'local-test-session',
      TZ: ':UTC',
      // Set by Lambda for each request when active tracing is on (ours all have it); not sampled here.
      _X_AMZN_TRACE_ID: 'Root=1-67a0b1c2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0',
      ...options.environment,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stdin.end(JSON.stringify(options.event));
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timeout);
  if (!existsSync(resultFile)) {
    throw new Error(`the invocation ended (exit ${String(code)}) without a result:\n${logs}`);
  }
  return { ...(JSON.parse(await readFile(resultFile, 'utf8')) as Omit<Invocation, 'logs'>), logs };
}
