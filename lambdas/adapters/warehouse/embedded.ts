import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CATEGORIES,
  documentFromRecord,
  documentToRecord,
  type Category,
  type DocumentOf,
  type PersonName,
  type RawDocument,
  type User,
} from '../../domain/index.js';
import type { DocumentQuery, InsertReport, Warehouse, WarehouseStats } from '../../ports/warehouse.js';
import { emptyStats, UserIdConflictError } from './shared.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS users (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    UNIQUE (first_name, last_name)
  );
  CREATE TABLE IF NOT EXISTS documents (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    category  TEXT NOT NULL,
    link      TEXT,
    author_id TEXT NOT NULL,
    record    TEXT NOT NULL,
    UNIQUE (category, link)
  );
  CREATE INDEX IF NOT EXISTS documents_by_author ON documents (category, author_id, seq);
`;

interface UserRow {
  id: string;
  first_name: string;
  last_name: string;
}

const toUser = (row: UserRow): User => ({ id: row.id, firstName: row.first_name, lastName: row.last_name });

/**
 * The local default warehouse: one SQLite file, no server. Documents are stored in the same record
 * shape as in MongoDB (JSON), with the id, link and author pulled out into indexed columns.
 */
export class EmbeddedWarehouse implements Warehouse {
  private readonly db: Database.Database;
  /** Statements compiled once per connection: hasLink and friends run once per crawled link. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  getOrCreateUser(name: PersonName, idForNewUser: string = randomUUID()): Promise<User> {
    const createOnce = this.db.transaction(() => {
      this.statement(
        'INSERT INTO users (id, first_name, last_name) VALUES (?, ?, ?) ON CONFLICT (first_name, last_name) DO NOTHING',
      ).run(idForNewUser, name.firstName, name.lastName);
      return this.selectUserByName(name);
    });
    try {
      const user = createOnce.immediate();
      if (!user) throw new Error(`user ${name.firstName} ${name.lastName} vanished after insert`);
      return Promise.resolve(user);
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        return Promise.reject(new UserIdConflictError(idForNewUser, name));
      }
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  findUserByName(name: PersonName): Promise<User | undefined> {
    return Promise.resolve(this.selectUserByName(name));
  }

  findUserById(id: string): Promise<User | undefined> {
    const row = this.statement<[string], UserRow>(
      'SELECT id, first_name, last_name FROM users WHERE id = ?',
    ).get(id);
    return Promise.resolve(row && toUser(row));
  }

  listUsers(): Promise<User[]> {
    const rows = this.statement<[], UserRow>(
      'SELECT id, first_name, last_name FROM users ORDER BY seq',
    ).all();
    return Promise.resolve(rows.map(toUser));
  }

  insertDocuments(documents: readonly RawDocument[]): Promise<InsertReport> {
    const insert = this.statement(
      'INSERT INTO documents (id, category, link, author_id, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    // One transaction: a batch is stored whole or not at all.
    const insertAll = this.db.transaction((batch: readonly RawDocument[]) => {
      let inserted = 0;
      for (const doc of batch) {
        const link = 'link' in doc ? (doc.link ?? null) : null;
        const result = insert.run(
          doc.id,
          doc.category,
          link,
          doc.authorId,
          JSON.stringify(documentToRecord(doc)),
        );
        inserted += result.changes;
      }
      return inserted;
    });
    const inserted = insertAll(documents);
    return Promise.resolve({ inserted, skipped: documents.length - inserted });
  }

  hasLink(category: Category, link: string): Promise<boolean> {
    const row = this.statement('SELECT 1 FROM documents WHERE category = ? AND link = ?').get(category, link);
    return Promise.resolve(row !== undefined);
  }

  async findDocumentsByAuthor<C extends Category>(category: C, authorId: string): Promise<DocumentOf<C>[]> {
    const documents: DocumentOf<C>[] = [];
    for await (const doc of this.streamDocuments({ category, authorIds: [authorId] })) documents.push(doc);
    return documents;
  }

  async *streamDocuments<C extends Category>(query: DocumentQuery<C>): AsyncIterable<DocumentOf<C>> {
    const { authorIds, ids } = query;
    if (authorIds?.length === 0 || ids?.length === 0) return;
    const placeholders = (values: readonly string[]) => values.map(() => '?').join(', ');
    const byAuthor = authorIds ? `AND author_id IN (${placeholders(authorIds)})` : '';
    const byId = ids ? `AND id IN (${placeholders(ids)})` : '';
    const rows = this.statement<unknown[], { record: string }>(
      `SELECT record FROM documents WHERE category = ? ${byAuthor} ${byId} ORDER BY seq`,
    ).iterate(query.category, ...(authorIds ?? []), ...(ids ?? []));
    for (const row of rows) {
      yield documentFromRecord(query.category, JSON.parse(row.record));
      // Let other work run between rows: a long export must not monopolise the event loop.
      await Promise.resolve();
    }
  }

  stats(): Promise<WarehouseStats> {
    const users = this.statement<[], { n: number }>('SELECT COUNT(*) AS n FROM users').get()?.n ?? 0;
    const stats = emptyStats(users);
    const rows = this.statement<[], { category: string; author: string; n: number }>(
      `SELECT category, json_extract(record, '$.author_full_name') AS author, COUNT(*) AS n
         FROM documents GROUP BY category, author ORDER BY category, author`,
    ).all();
    for (const row of rows) {
      const category = CATEGORIES.find((c) => c === row.category);
      if (!category) continue;
      stats.categories[category].total += row.n;
      stats.categories[category].byAuthor[row.author] = row.n;
    }
    return Promise.resolve(stats);
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }

  private statement<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let compiled = this.statements.get(sql);
    if (!compiled) {
      compiled = this.db.prepare(sql);
      this.statements.set(sql, compiled);
    } else if (compiled.busy) {
      // An iterator over this statement is still open (two streams at once): use a private copy.
      return this.db.prepare(sql) as unknown as Database.Statement<P, R>;
    }
    return compiled as unknown as Database.Statement<P, R>;
  }

  private selectUserByName(name: PersonName): User | undefined {
    const row = this.statement<[string, string], UserRow>(
      'SELECT id, first_name, last_name FROM users WHERE first_name = ? AND last_name = ?',
    ).get(name.firstName, name.lastName);
    return row && toUser(row);
  }
}
