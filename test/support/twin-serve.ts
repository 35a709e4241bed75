import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './environment.js';

export interface TwinServe {
  /** The origin it serves, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Everything it wrote to stderr so far (one line per request, and failures). */
  stderr(): string;
  /** Stops it with Ctrl-C, as a user would, and returns its exit code. */
  stop(): Promise<number | null>;
}

/** Starts the real `twin serve` in a child process on a free port and waits until it listens. */
export async function startTwinServe(args: string[], env: Record<string, string>): Promise<TwinServe> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin', 'twin.js'), 'serve', '--port', '0', ...args],
    { cwd: REPO_ROOT, env: { ...process.env, ...env } },
  );
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /LLM Twin on (http:\/\/\S+?)\/ /u.exec(output);
      if (found?.[1]) resolve(found[1]);
    });
    void exited.then((code) => {
      reject(new Error(`twin serve exited with ${String(code)}: ${output}${errors}`));
    });
  });
  return {
    url,
    stderr: () => errors,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
