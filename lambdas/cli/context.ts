import { openWarehouse } from '../adapters/warehouse/index.js';
import type { Warehouse } from '../ports/warehouse.js';
import { loadSettingsWithSecrets, type Settings } from '../settings/index.js';

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
