import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
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
/** A takeover guard older than this was left by a process that died mid-takeover (it takes milliseconds). */
const TAKEOVER_STALE_MS = 10_000;

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
  while (!(await createExclusively(path, me))) {
    const seen = await readFile(path, 'utf8').catch(() => undefined);
    const holder = parseHolder(seen);
    if (holder && holder.pid !== process.pid && isAlive(holder)) {
      if (!told) onWait(holder);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    // Its process is gone (or the file is unreadable): no one holds it.
    await removeStaleLock(path, seen, me);
  }
  try {
    return await work();
  } finally {
    const holder = await readHolder(path);
    if (holder?.pid === process.pid) await unlink(path).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  return parseHolder(await readFile(path, 'utf8').catch(() => undefined));
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  try {
    return text === undefined ? undefined : (JSON.parse(text) as LockHolder);
  } catch {
    return undefined;
  }
}

/**
 * Creates `path` holding `holder`, atomically, or answers false if it exists. The content is written
 * to a file of our own first and then hard-linked into place, so no one ever reads a lock half written
 * (and takes it for a stale one).
 */
async function createExclusively(path: string, holder: LockHolder): Promise<boolean> {
  const draft = `${path}.${String(process.pid)}.${randomUUID()}`;
  await writeFile(draft, JSON.stringify(holder));
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/**
 * Removes a lock judged stale, if it is still the very lock that was judged. Two waiters can judge the
 * same dead holder's lock stale; without this, the slower one would delete the lock the faster one had
 * just taken, and both would write. Takeovers are serialised by a guard file, and the lock is compared
 * with what was read before it is removed.
 */
async function removeStaleLock(path: string, judged: string | undefined, me: LockHolder): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createExclusively(guard, me))) {
    const age = await stat(guard).then(
      ({ mtimeMs }) => Date.now() - mtimeMs,
      () => 0,
    );
    if (age > TAKEOVER_STALE_MS) await unlink(guard).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS / 5));
    return;
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now === judged) await unlink(path).catch(ignoreMissing);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function ignoreMissing(error: unknown): void {
  if (!isCode(error, 'ENOENT')) throw error;
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
