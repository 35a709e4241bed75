import { hostname } from 'node:os';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Who holds a data folder's writer lock. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export const LOCK_FILE = '.writer.lock';
const POLL_MS = 250;

/** Writers of this process, per folder: they take turns here before the file decides between processes. */
const inProcess = new Map<string, Promise<unknown>>();

/**
 * One writer at a time per embedded data folder. The embedded warehouse and vector store keep their
 * keys unique within one process, but two processes writing at once (two `twin features`, a killed
 * run's survivor beside a re-run, a web-app collection run beside the CLI) can each insert the same
 * record. The lock is a file naming its holder's process: a second writer waits for it, saying so
 * once, and a lock whose process is gone (killed, even by SIGKILL) is taken over, so none goes stale.
 */
export function withWriterLock<T>(
  dir: string,
  command: string,
  work: () => Promise<T>,
  onWait: (holder: LockHolder) => void = () => undefined,
): Promise<T> {
  const key = resolve(dir);
  const before = inProcess.get(key);
  if (before)
    onWait({ pid: process.pid, host: hostname(), command: 'another task of this process', since: '' });
  const turn = (before ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => withFileLock(key, command, work, onWait));
  inProcess.set(key, turn);
  void turn
    .finally(() => {
      if (inProcess.get(key) === turn) inProcess.delete(key);
    })
    .catch(() => undefined);
  return turn;
}

async function withFileLock<T>(
  dir: string,
  command: string,
  work: () => Promise<T>,
  onWait: (holder: LockHolder) => void,
): Promise<T> {
  const path = join(dir, LOCK_FILE);
  await mkdir(dir, { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  let told = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      break;
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    }
    const holder = await readHolder(path);
    if (holder && holder.pid !== process.pid && isAlive(holder)) {
      if (!told) onWait(holder);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    // Its process is gone (or the file is unreadable, a write cut short): no one holds it.
    await unlink(path).catch((error: unknown) => {
      if (!isCode(error, 'ENOENT')) throw error;
    });
  }
  try {
    return await work();
  } finally {
    const holder = await readHolder(path);
    if (holder?.pid === process.pid) await unlink(path).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/** A holder on another machine (a shared folder) is taken as alive: we cannot ask its kernel. */
function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
