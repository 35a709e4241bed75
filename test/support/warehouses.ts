import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';
import { EmbeddedWarehouse, MongoWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { IN_CI } from './environment.js';

/** A fresh, empty warehouse for one test, and how to throw it away. */
export interface WarehouseFixture {
  warehouse: Warehouse;
  /** Opens a second connection to the same stored data (to prove persistence). */
  reopen(): Promise<Warehouse>;
  dispose(): Promise<void>;
}

export interface WarehouseKind {
  name: string;
  available: boolean;
  create(): Promise<WarehouseFixture>;
}

export const embeddedWarehouses: WarehouseKind = {
  name: 'embedded (SQLite)',
  available: true,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'twin-warehouse-'));
    const file = join(dir, 'warehouse.sqlite');
    const opened: Warehouse[] = [];
    const open = () => {
      const warehouse = new EmbeddedWarehouse(file);
      opened.push(warehouse);
      return warehouse;
    };
    return {
      warehouse: open(),
      reopen: () => Promise.resolve(open()),
      async dispose() {
        for (const warehouse of opened) await warehouse.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

export function mongoWarehouses(): WarehouseKind {
  const uri = inject('mongoUri');
  if (!uri && IN_CI) {
    throw new Error(
      'no MongoDB-wire server for the contract tests: .ci/run must start FerretDB and set TWIN_TEST_MONGODB_URI',
    );
  }
  return {
    name: 'MongoDB (FerretDB)',
    available: Boolean(uri),
    async create() {
      const database = `twin_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const opened: Warehouse[] = [];
      const open = async () => {
        const warehouse = await MongoWarehouse.connect({ uri, database, serverSelectionTimeoutMs: 5_000 });
        opened.push(warehouse);
        return warehouse;
      };
      return {
        warehouse: await open(),
        reopen: open,
        async dispose() {
          for (const warehouse of opened) await warehouse.close().catch(() => undefined);
          const admin = new MongoClient(uri);
          await admin.db(database).dropDatabase();
          await admin.close();
        },
      };
    },
  };
}

export const allWarehouseKinds = (): WarehouseKind[] => [embeddedWarehouses, mongoWarehouses()];
