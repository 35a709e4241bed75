import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from './environment.js';
import { freePort, waitForServer } from './local-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a real Qdrant server for the tests; empty when none is available. */
    qdrantUrl: string;
  }
}

const QDRANT_CANDIDATES = [
  process.env.TWIN_QDRANT_BIN,
  join(REPO_ROOT, '..', 'shared', 'bin', 'qdrant'),
].filter((path): path is string => Boolean(path));

/**
 * Gives the tests a real Qdrant: the one in QDRANT_URL (what .ci/run starts), or the server binary
 * (TWIN_QDRANT_BIN, or the shared one beside the clone) started here on a free loopback port with
 * throwaway storage, telemetry off.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.QDRANT_URL;
  if (given) {
    project.provide('qdrantUrl', given);
    return () => Promise.resolve();
  }
  const binary = QDRANT_CANDIDATES.find((path) => existsSync(path));
  if (!binary) {
    project.provide('qdrantUrl', '');
    return () => Promise.resolve();
  }
  const dir = await mkdtemp(join(tmpdir(), 'twin-qdrant-'));
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const server = spawn(binary, [], {
    // Qdrant writes a marker file into its working folder.
    cwd: dir,
    env: {
      ...process.env,
      QDRANT__SERVICE__HOST: '127.0.0.1',
      QDRANT__SERVICE__HTTP_PORT: String(httpPort),
      QDRANT__SERVICE__GRPC_PORT: String(grpcPort),
      QDRANT__STORAGE__STORAGE_PATH: join(dir, 'storage'),
      QDRANT__STORAGE__SNAPSHOTS_PATH: join(dir, 'snapshots'),
      QDRANT__TELEMETRY_DISABLED: 'true',
      QDRANT__LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${String(httpPort)}`;
  await waitForServer('Qdrant', server, () => isReady(url), 30_000);
  project.provide('qdrantUrl', url);
  return async () => {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).ok;
  } catch {
    return false;
  }
}
