import { openWarehouse } from '../adapters/warehouse/index.js';
import type { Warehouse } from '../ports/warehouse.js';
import { loadSettingsWithSecrets, type Settings } from '../settings/index.js';
import { withWriterLock } from '../shared/writer-lock.js';

export interface GlobalOptions {
  dataDir?: string;
}

/** Settings for a CLI run: the environment, with `--data-dir` taking precedence over TWIN_DATA_DIR. */
export async function cliSettings(options: GlobalOptions): Promise<Settings> {
  const env = options.dataDir ? { ...process.env, TWIN_DATA_DIR: options.dataDir } : process.env;
  return loadSettingsWithSecrets(env);
}

/** Opens the configured warehouse for the duration of `work`, and always closes it. */
export async function withWarehouse<T>(
  options: GlobalOptions,
  work: (warehouse: Warehouse, settings: Settings) => Promise<T>,
): Promise<T> {
  const settings = await cliSettings(options);
  const warehouse = await openWarehouse(settings);
  try {
    return await work(warehouse, settings);
  } finally {
    await warehouse.close();
  }
}

/**
 * Runs `work` as the only writer of the embedded stores in the data folder (warehouse or feature
 * store); another writer is waited for, saying so. Stores that are servers (MongoDB, Qdrant) need
 * no lock.
 */
export function asOnlyWriter<T>(settings: Settings, command: string, work: () => Promise<T>): Promise<T> {
  if (settings.warehouse.kind !== 'embedded' && settings.vectorStore.kind !== 'embedded') return work();
  return withWriterLock(settings.dataDir, command, work, (holder) => {
    process.stderr.write(
      `Waiting for \`${holder.command}\` (process ${String(holder.pid)}, since ${holder.since}) to finish writing to ${settings.dataDir}\n`,
    );
  });
}

/** A command that did part of its job: its output stands, the message says what is missing. */
export class IncompleteResultError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'IncompleteResultError';
  }
}
