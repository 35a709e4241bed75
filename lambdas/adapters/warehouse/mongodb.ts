import { randomUUID } from 'node:crypto';
// Types only: the driver itself is imported when a connection is made (its load is felt at every
// cold start of a function that may never use it, and by every offline run).
import type { Collection, Db, Document, MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import {
  CATEGORIES,
  documentFromRecord,
  documentToRecord,
  userFromRecord,
  type Category,
  type DocumentOf,
  type DocumentRecord,
  type PersonName,
  type RawDocument,
  type User,
  type UserRecord,
} from '../../domain/index.js';
import type { DocumentQuery, InsertReport, Warehouse, WarehouseStats } from '../../ports/warehouse.js';
import { escapeFieldName, mapContentKeys, unescapeFieldName } from './mongo-field-names.js';
import { emptyStats, UserIdConflictError } from './shared.js';

const DUPLICATE_KEY = 11000;

/** Stored documents carry string UUIDs as `_id`, never ObjectIds. */
type StoredRecord = Document & { _id: string };
const USERS = 'users';

export interface MongoWarehouseOptions {
  uri: string;
  database: string;
  /** Fail fast when the server cannot be reached, instead of the driver's 30 s default. */
  serverSelectionTimeoutMs?: number;
}

const fromStored = <C extends Category>(category: C, record: StoredRecord): DocumentOf<C> =>
  documentFromRecord(category, mapContentKeys(record as StoredRecord & DocumentRecord, unescapeFieldName));

// The driver's error classes name themselves; matching the name needs no driver loaded.
const isServerError = (error: unknown): error is MongoServerError =>
  error instanceof Error && error.name === 'MongoServerError';
const isBulkWriteError = (error: unknown): error is MongoBulkWriteError =>
  error instanceof Error && error.name === 'MongoBulkWriteError';

const isDuplicateKey = (error: unknown): boolean => isServerError(error) && error.code === DUPLICATE_KEY;

/**
 * Warehouse on any MongoDB-wire server (Atlas in production, FerretDB in tests).
 * Idempotency lives in unique indexes: link per category collection, first+last name for users.
 */
export class MongoWarehouse implements Warehouse {
  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  static async connect(options: MongoWarehouseOptions): Promise<MongoWarehouse> {
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
      appName: 'llm-twin',
    });
    await client.connect();
    const warehouse = new MongoWarehouse(client, client.db(options.database));
    try {
      await warehouse.ensureIndexes();
    } catch (error) {
      await client.close();
      throw error;
    }
    return warehouse;
  }

  async getOrCreateUser(name: PersonName, idForNewUser: string = randomUUID()): Promise<User> {
    const filter = { first_name: name.firstName, last_name: name.lastName };
    // A racing upsert can lose on the unique name index (E11000); the winner's document is then there.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const record = await this.users().findOneAndUpdate(
          filter,
          { $setOnInsert: { _id: idForNewUser } },
          { upsert: true, returnDocument: 'after' },
        );
        if (record) return userFromRecord(record);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const winner = await this.findUserByName(name);
        if (winner) return winner;
        if (await this.findUserById(idForNewUser)) throw new UserIdConflictError(idForNewUser, name);
      }
    }
    throw new Error(`could not get or create user ${name.firstName} ${name.lastName}`);
  }

  async findUserByName(name: PersonName): Promise<User | undefined> {
    const record = await this.users().findOne({ first_name: name.firstName, last_name: name.lastName });
    return record ? userFromRecord(record) : undefined;
  }

  async findUserById(id: string): Promise<User | undefined> {
    const record = await this.users().findOne({ _id: id });
    return record ? userFromRecord(record) : undefined;
  }

  async listUsers(): Promise<User[]> {
    const records = await this.users().find().toArray();
    return records.map(userFromRecord);
  }

  async insertDocuments(documents: readonly RawDocument[]): Promise<InsertReport> {
    const report: InsertReport = { inserted: 0, skipped: 0 };
    for (const category of CATEGORIES) {
      const records = documents
        .filter((doc) => doc.category === category)
        .map((doc) => mapContentKeys(documentToRecord(doc), escapeFieldName));
      if (records.length === 0) continue;
      const inserted = await this.insertSkippingDuplicates(this.documents(category), records);
      report.inserted += inserted;
      report.skipped += records.length - inserted;
    }
    return report;
  }

  async hasLink(category: Category, link: string): Promise<boolean> {
    return (await this.documents(category).countDocuments({ link }, { limit: 1 })) > 0;
  }

  async findDocumentsByAuthor<C extends Category>(category: C, authorId: string): Promise<DocumentOf<C>[]> {
    const records = await this.documents(category).find({ author_id: authorId }).toArray();
    return records.map((record) => fromStored(category, record));
  }

  async *streamDocuments<C extends Category>(query: DocumentQuery<C>): AsyncIterable<DocumentOf<C>> {
    const filter = {
      ...(query.authorIds ? { author_id: { $in: [...query.authorIds] } } : {}),
      ...(query.ids ? { _id: { $in: [...query.ids] } } : {}),
    };
    const cursor = this.documents(query.category).find(filter, { batchSize: 100 });
    try {
      for await (const record of cursor) yield fromStored(query.category, record);
    } finally {
      await cursor.close();
    }
  }

  async stats(): Promise<WarehouseStats> {
    const stats = emptyStats(await this.users().countDocuments());
    for (const category of CATEGORIES) {
      const groups = this.documents(category).aggregate<{ _id: string; n: number }>([
        { $group: { _id: '$author_full_name', n: { $sum: 1 } } },
      ]);
      for await (const group of groups) {
        stats.categories[category].total += group.n;
        stats.categories[category].byAuthor[group._id] = group.n;
      }
    }
    return stats;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async ensureIndexes(): Promise<void> {
    await this.users().createIndex(
      { first_name: 1, last_name: 1 },
      { unique: true, name: 'unique_full_name' },
    );
    for (const category of CATEGORIES) {
      const collection = this.documents(category);
      // Sparse: posts may have no link, and those must not collide with each other.
      await collection.createIndex('link', { unique: true, sparse: true, name: 'unique_link' });
      await collection.createIndex({ author_id: 1 }, { name: 'by_author' });
    }
  }

  /** Unordered bulk insert; duplicate-key rejections are skips, anything else is an error. */
  private async insertSkippingDuplicates(
    collection: Collection<StoredRecord>,
    records: DocumentRecord[],
  ): Promise<number> {
    try {
      const result = await collection.insertMany(records, { ordered: false });
      return result.insertedCount;
    } catch (error) {
      if (!isBulkWriteError(error)) throw error;
      const writeErrors: { code: number }[] = [error.writeErrors].flat();
      const unexpected = writeErrors.find((writeError) => writeError.code !== DUPLICATE_KEY);
      if (unexpected) throw error;
      return error.insertedCount;
    }
  }

  private users(): Collection<UserRecord> {
    return this.db.collection<UserRecord>(USERS);
  }

  private documents(category: Category): Collection<StoredRecord> {
    return this.db.collection<StoredRecord>(category);
  }
}
