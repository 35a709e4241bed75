import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { lstat, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import {
  describeZodIssues,
  fullNameOf,
  RepositorySchema,
  type RawDocument,
  type User,
} from '../../domain/index.js';
import type { Route } from '../links.js';
import { hostnameOf, vetHost } from '../network-guard.js';
import { CrawlError, type CrawlEnvironment, type Crawler, type GitOptions } from './types.js';

const run = promisify(execFile);

/** Never worth storing as writing: dependency lock files, whatever their content. */
const LOCK_FILES =
  /(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|Pipfile\.lock|Cargo\.lock|composer\.lock|Gemfile\.lock|uv\.lock|go\.sum|[^/]+\.lock)$/u;
/** Binary formats (and config formats the book left out), skipped unread; any other file is sniffed. */
const SKIPPED_EXTENSIONS =
  /\.(png|jpe?g|gif|webp|bmp|ico|svg|pdf|zip|gz|tgz|bz2|xz|7z|rar|jar|war|class|so|dylib|dll|exe|bin|o|a|pyc|pyd|whl|onnx|pt|pth|safetensors|ckpt|h5|parquet|arrow|npy|npz|pkl|mp3|mp4|wav|mov|avi|woff2?|ttf|otf|eot|toml)$/iu;
const SNIFF_BYTES = 8192;

/**
 * GitHub and GitLab repositories: a shallow `git clone` (one branch, no tags, no history) within a time
 * limit, then every text file up to a size cap as `{path: text}`. Binary files are recognised by their
 * bytes, not only their names. The clone directory is removed whatever happens.
 */
export const repositoryCrawler = {
  async crawl(route: Route, author: User, environment: CrawlEnvironment): Promise<RawDocument[]> {
    await vetHost(hostnameOf(new URL(route.link)), environment.network);
    const workspace = await mkdtemp(join(tmpdir(), 'twin-repo-'));
    try {
      const checkout = join(workspace, 'checkout');
      await clone(`${route.link}.git`, checkout, environment.git);
      const content = await readTextFiles(checkout, environment.git);
      if (Object.keys(content).length === 0) throw new CrawlError('the repository holds no text files');
      const name = route.link.split('/').at(-1) ?? route.link;
      const parsed = RepositorySchema.safeParse({
        category: 'repositories',
        id: randomUUID(),
        content,
        platform: route.platform,
        authorId: author.id,
        authorFullName: fullNameOf(author),
        name,
        link: route.link,
      });
      if (!parsed.success)
        throw new CrawlError(
          `not a valid repository document: ${describeZodIssues(parsed.error).join('; ')}`,
        );
      return [parsed.data];
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  },
} satisfies Crawler;

async function clone(url: string, into: string, git: GitOptions): Promise<void> {
  // Only https by default: no ssh, no file://, no ext:: helpers (tests opt into file:// explicitly).
  const config = { 'protocol.allow': 'never', 'protocol.https.allow': 'always', ...git.config };
  const args = [
    ...Object.entries(config).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    'clone',
    '--depth=1',
    '--single-branch',
    '--no-tags',
    '--quiet',
    url,
    into,
  ];
  try {
    await run('git', args, {
      timeout: git.timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', GIT_LFS_SKIP_SMUDGE: '1' },
    });
  } catch (error) {
    const failure = error as { killed?: boolean; stderr?: string; message: string };
    if (failure.killed)
      throw new CrawlError(`git clone took longer than ${String(git.timeoutMs / 1000)} s`, { cause: error });
    const reason = (failure.stderr ?? failure.message).trim().split('\n').at(-1) ?? 'unknown error';
    throw new CrawlError(`git clone failed: ${reason}`, { cause: error });
  }
}

async function readTextFiles(root: string, git: GitOptions): Promise<Record<string, string>> {
  const content: Record<string, string> = {};
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      const relativePath = relative(root, path).split(sep).join('/');
      if (entry.name === '.git') continue;
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      if (!entry.isFile() || LOCK_FILES.test(relativePath) || SKIPPED_EXTENSIONS.test(entry.name)) continue;
      const { size } = await lstat(path);
      total += size;
      if (total > git.maxRepositoryBytes) {
        throw new CrawlError(
          `the repository is larger than ${String(git.maxRepositoryBytes / 1024 / 1024)} MB of files`,
        );
      }
      if (size > git.maxFileBytes || size === 0) continue;
      const text = await readIfText(path, size);
      if (text !== undefined) content[relativePath] = text;
    }
  };
  await walk(root);
  return content;
}

/** The file's text, or undefined when its bytes say it is binary (a NUL byte, or not valid UTF-8). */
async function readIfText(path: string, size: number): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(size);
    await handle.read(buffer, 0, size, 0);
    if (buffer.subarray(0, SNIFF_BYTES).includes(0)) return undefined;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    } catch {
      return undefined;
    }
  } finally {
    await handle.close();
  }
}
