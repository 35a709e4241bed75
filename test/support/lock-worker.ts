// A writer in a process of its own, for the lock tests: takes the folder's writer lock, then records
// when it entered and left its turn in a shared log (one line each, appended).
import { appendFile } from 'node:fs/promises';
import { withWriterLock } from '../../lambdas/shared/writer-lock.js';

const [dir, log, name] = process.argv.slice(2);
if (!dir || !log || !name) throw new Error('usage: lock-worker <dir> <log> <name>');
await withWriterLock(dir, name, async () => {
  await appendFile(log, `enter ${name}\n`);
  await new Promise((resolve) => setTimeout(resolve, 40));
  await appendFile(log, `leave ${name}\n`);
});
