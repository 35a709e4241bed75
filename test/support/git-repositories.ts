import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Creates a real git repository at `<root>/<owner>/<name>.git` (bare, as a host serves it) from the
 * given files, committed with real git.
 */
export async function createRepository(
  root: string,
  owner: string,
  name: string,
  files: Record<string, string | Buffer>,
): Promise<void> {
  const work = join(root, 'work', owner, name);
  await mkdir(work, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), content);
  }
  const git = (cwd: string, ...args: string[]) =>
    run(
      'git',
      [
        '-c',
        'user.name=Fixture',
        '-c',
        'user.email=fixture@example.com',
        '-c',
        'init.defaultBranch=main',
        ...args,
      ],
      { cwd },
    );
  await git(work, 'init', '--quiet');
  await git(work, 'add', '--all');
  await git(work, 'commit', '--quiet', '-m', 'fixture');
  await mkdir(join(root, owner), { recursive: true });
  await git(root, 'clone', '--quiet', '--bare', work, join(root, owner, `${name}.git`));
}

/** git settings that make https://github.com/<owner>/<name> clone from the local bare repositories. */
export function githubToLocal(root: string): Record<string, string> {
  return { [`url.file://${root}/.insteadOf`]: 'https://github.com/', 'protocol.file.allow': 'always' };
}
