import type { Warehouse } from '../../ports/warehouse.js';
import type { Settings } from '../../settings/index.js';
import { EmbeddedWarehouse } from './embedded.js';
import { MongoWarehouse } from './mongodb.js';

export { EmbeddedWarehouse } from './embedded.js';
export { MongoWarehouse } from './mongodb.js';
export { UserIdConflictError } from './shared.js';

/** Builds the warehouse the settings ask for, from settings with their secrets loaded. */
export async function openWarehouse(settings: Settings): Promise<Warehouse> {
  if (settings.warehouse.kind === 'embedded') return new EmbeddedWarehouse(settings.warehouse.file);
  const uri = settings.secrets.MONGODB_URI;
  if (!uri) throw new Error('MONGODB_URI is not resolved: load the settings with loadSettingsWithSecrets()');
  return MongoWarehouse.connect({ uri, database: settings.warehouse.database });
}
