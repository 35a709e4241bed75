import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  ConversationFullError,
  conversationTitle,
  expiryOf,
  type Conversation,
  type ConversationLimits,
  type ConversationPage,
  type ConversationStore,
  type ConversationSummary,
  type ConversationTurn,
  type ConversationTurnWritten,
  type NewTurn,
} from '../../ports/conversations.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  title TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  turns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated_at DESC, id);
CREATE TABLE IF NOT EXISTS turns (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  turn_index INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (conversation_id, turn_index)
);
`;

interface ConversationRow {
  id: string;
  owner: string;
  title: string;
  created_at: string;
  updated_at: string;
  expires_at: string;
  turns: number;
}

/** A synchronous SQLite call as a promise: what it throws rejects the promise instead of escaping. */
const settled = <T>(call: () => T): Promise<T> => new Promise((resolve) => resolve(call()));

const summaryOf = (row: ConversationRow): ConversationSummary => ({
  id: row.id,
  title: row.title,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  turns: row.turns,
  expiresAt: row.expires_at,
});

/**
 * Conversations on one machine: a SQLite file beside the warehouse's. A conversation and its turns
 * change in one transaction; expired conversations are deleted, turns and all, on the next write.
 */
export class EmbeddedConversationStore implements ConversationStore {
  private readonly db: Database.Database;

  constructor(
    file: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  start(owner: string, turn: NewTurn, limits: ConversationLimits): Promise<ConversationTurnWritten> {
    const created = this.now();
    const id = randomUUID();
    const at = created.toISOString();
    const write = this.db.transaction(() => {
      this.purgeExpired();
      this.db
        .prepare(
          'INSERT INTO conversations (id, owner, title, created_at, updated_at, expires_at, turns) VALUES (?, ?, ?, ?, ?, ?, 0)',
        )
        .run(
          id,
          owner,
          conversationTitle(turn.query),
          at,
          at,
          expiryOf(created, limits.retentionDays).toISOString(),
        );
      return this.appendTo(owner, id, turn, limits, at);
    });
    return settled(() => {
      const written = write.immediate();
      if (!written) throw new Error(`conversation ${id} vanished while it was started`);
      return written;
    });
  }

  append(
    owner: string,
    id: string,
    turn: NewTurn,
    limits: ConversationLimits,
  ): Promise<ConversationTurnWritten | undefined> {
    const write = this.db.transaction(() => {
      this.purgeExpired();
      return this.appendTo(owner, id, turn, limits, this.now().toISOString());
    });
    return settled(() => write.immediate());
  }

  get(owner: string, id: string): Promise<Conversation | undefined> {
    const row = this.owned(owner, id);
    if (!row) return Promise.resolve(undefined);
    const turns = this.db
      .prepare<[string], { record: string }>(
        'SELECT record FROM turns WHERE conversation_id = ? ORDER BY turn_index',
      )
      .all(id)
      .map((turn) => JSON.parse(turn.record) as ConversationTurn);
    return Promise.resolve({ ...summaryOf(row), history: turns });
  }

  list(owner: string, options: { limit: number; after?: string }): Promise<ConversationPage> {
    return settled(() => this.page(owner, options));
  }

  private page(owner: string, options: { limit: number; after?: string }): ConversationPage {
    const after = options.after ? decodeCursor(options.after) : undefined;
    const rows = this.db
      .prepare<unknown[], ConversationRow>(
        `SELECT * FROM conversations WHERE owner = ? AND expires_at > ?
           ${after ? 'AND (updated_at < ? OR (updated_at = ? AND id < ?))' : ''}
           ORDER BY updated_at DESC, id DESC LIMIT ?`,
      )
      .all(
        owner,
        this.now().toISOString(),
        ...(after ? [after.updatedAt, after.updatedAt, after.id] : []),
        options.limit + 1,
      );
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      conversations: page.map(summaryOf),
      ...(rows.length > options.limit && last
        ? { next: encodeCursor({ updatedAt: last.updated_at, id: last.id }) }
        : {}),
    };
  }

  delete(owner: string, id: string): Promise<boolean> {
    // The turns go with it (ON DELETE CASCADE), in the same statement.
    const result = this.db.prepare('DELETE FROM conversations WHERE id = ? AND owner = ?').run(id, owner);
    return Promise.resolve(result.changes > 0);
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }

  private owned(owner: string, id: string): ConversationRow | undefined {
    return this.db
      .prepare<[string, string, string], ConversationRow>(
        'SELECT * FROM conversations WHERE id = ? AND owner = ? AND expires_at > ?',
      )
      .get(id, owner, this.now().toISOString());
  }

  /** Inside a transaction: the next turn of one of owner's conversations. */
  private appendTo(
    owner: string,
    id: string,
    turn: NewTurn,
    limits: ConversationLimits,
    at: string,
  ): ConversationTurnWritten | undefined {
    const row = this.owned(owner, id);
    if (!row) return undefined;
    if (row.turns >= limits.maxTurns) throw new ConversationFullError(limits.maxTurns);
    const written: ConversationTurn = { ...turn, index: row.turns, at };
    this.db
      .prepare('INSERT INTO turns (conversation_id, turn_index, record) VALUES (?, ?, ?)')
      .run(id, written.index, JSON.stringify(written));
    this.db.prepare('UPDATE conversations SET turns = turns + 1, updated_at = ? WHERE id = ?').run(at, id);
    return { conversationId: id, turn: written };
  }

  private purgeExpired(): void {
    this.db.prepare('DELETE FROM conversations WHERE expires_at <= ?').run(this.now().toISOString());
  }
}
