import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, portOpen, waitForServer } from './local-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URI of a MongoDB-wire server for the contract tests; empty when none is available. */
    mongoUri: string;
  }
}

const FERRETDB_CANDIDATES = [
  process.env.FERRETDB_BIN,
  join(homedir(), '.cache', 'llm-twin', 'ferretdb-v1.24.2'),
].filter((path): path is string => Boolean(path));

/**
 * Gives the tests a MongoDB-wire server: the one in TWIN_TEST_MONGODB_URI (what .ci/run starts), or
 * a FerretDB started here on 127.0.0.1 when its binary is installed (.ci/install-ferretdb.sh).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TWIN_TEST_MONGODB_URI;
  if (given) {
    project.provide('mongoUri', given);
    return () => Promise.resolve();
  }
  const binary = FERRETDB_CANDIDATES.find((path) => existsSync(path));
  if (!binary) {
    project.provide('mongoUri', '');
    return () => Promise.resolve();
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'twin-ferretdb-'));
  const port = await freePort();
  const server = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${stateDir}/`,
      `--state-dir=${stateDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=ERROR',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForServer('FerretDB', server, () => portOpen(port));
  project.provide('mongoUri', `mongodb://127.0.0.1:${port}/`);
  return async () => {
    server.kill('SIGTERM');
    await rm(stateDir, { recursive: true, force: true });
  };
}
