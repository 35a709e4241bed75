import { mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Field, FixedSizeList } from 'apache-arrow';
import type { Connection, Table } from '@lancedb/lancedb';
import type {
  CollectionSpec,
  FusedPoint,
  HybridQuery,
  HybridSearchOptions,
  IndexedPayload,
  Point,
  PointFilter,
  ScoredPoint,
  ScrollOptions,
  SearchOptions,
  VectorStore,
} from '../../ports/vector-store.js';
import { filterConditions, matchesNothing } from './filters.js';
import { fuseHybridLists } from './hybrid-fusion.js';

const VECTOR = 'vector';
/** The point's index terms, joined by spaces: already tokenized, so the index only splits on spaces. */
const TERMS = 'terms';

/**
 * Rows from which a collection gets an ANN (HNSW) vector index at its next refresh. Below it, exact
 * search over every row is fast enough (a person's corpus is thousands of chunks) and never misses;
 * `npm run bench:store` measures both sides of it, and the index's recall against exact search.
 */
export const DEFAULT_ANN_MIN_ROWS = 50_000;
/**
 * Candidates the HNSW graph search keeps (its `ef`), per result wanted: a wider beam costs little
 * and keeps recall@10 against exact search above 0.95, filtered or not (README, Performance).
 */
const HNSW_EF_PER_RESULT = 20;
const MIN_LANCE_CPU_THREADS = 4;

export interface LanceStoreOptions {
  /** Default DEFAULT_ANN_MIN_ROWS; Infinity keeps every collection on exact search. */
  annMinRows?: number;
}

interface Row {
  id: string;
  author_id: string;
  document_id: string;
  payload: string;
  _distance?: number;
  _score?: number;
}

/**
 * The embedded feature store: one LanceDB table per collection in a local folder. The indexed payload
 * fields are columns (so filters run inside LanceDB); the full payload is kept as JSON beside them.
 * Search is exact until a collection reaches DEFAULT_ANN_MIN_ROWS rows, then goes through an HNSW
 * index (see refreshIndexes): a person's corpus is usually thousands of chunks, not millions. Lexical
 * collections add a `terms` column with LanceDB's native full-text (BM25) index over it; the index is
 * told to split on spaces only (no lower-casing, stemming or stop words of its own), so the project's
 * one tokenizer decides the terms for indexing and querying alike.
 */
export class LanceVectorStore implements VectorStore {
  private readonly tables = new Map<string, Promise<Table | undefined>>();
  private readonly creations = new Map<string, Promise<void>>();
  private readonly dimensions = new Map<string, number | undefined>();
  /** Whether each table has the terms column, read from its schema once per table. */
  private readonly termsColumns = new Map<string, boolean>();
  /** Tables known to have a full-text index (an index is never dropped while the table lives). */
  private readonly textIndexed = new Set<string>();
  /**
   * Whether each table has an ANN vector index, read once per table (search asks on every query);
   * this store's own refresh sets it when it builds one.
   */
  private readonly vectorIndexed = new Map<string, boolean>();
  /** Each open table's version stamp (see versionStamp) as of its last open or own commit. */
  private readonly stamps = new Map<string, string | undefined>();
  /** The last write queued per table (see oneWriteAtATime). */
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(
    private readonly db: Connection,
    private readonly dir: string,
    private readonly annMinRows: number,
  ) {}

  static async open(dir: string, options: LanceStoreOptions = {}): Promise<LanceVectorStore> {
    mkdirSync(dir, { recursive: true });
    // Lance sizes its CPU pool to the core count, and on two cores building the full-text index of a
    // large collection (100k chunks) deadlocks that pool: tasks wait on tasks that have no thread
    // left. A few more threads than cores let it finish (1.2 s there); read when the pool starts.
    process.env.LANCE_CPU_THREADS ??= String(Math.max(MIN_LANCE_CPU_THREADS, availableParallelism()));
    const { connect } = await import('@lancedb/lancedb');
    return new LanceVectorStore(await connect(dir), dir, options.annMinRows ?? DEFAULT_ANN_MIN_ROWS);
  }

  ensureCollection(spec: CollectionSpec): Promise<void> {
    // Concurrent callers share one creation: LanceDB would otherwise race two creates of one table.
    // Keyed by the spec too: a lexical spec for a table first ensured without one still adds the column.
    const key = `${spec.name}\0${spec.lexical ? 'lexical' : ''}`;
    let creation = this.creations.get(key);
    if (!creation) {
      creation = this.createIfMissing(spec);
      this.creations.set(key, creation);
      creation.catch(() => this.creations.delete(key));
    }
    return creation;
  }

  private async createIfMissing(spec: CollectionSpec): Promise<void> {
    const existing = await this.table(spec.name);
    if (existing) {
      if (spec.lexical && !(await this.hasTermsColumn(spec.name, existing))) {
        // A table from before lexical search: the column is added empty; re-written points fill it.
        await existing.addColumns([{ name: TERMS, valueSql: "''" }]);
        await this.committed(spec.name, existing);
        this.termsColumns.set(spec.name, true);
      }
      return;
    }
    // Imported here, once per new table: Arrow is slow to load and only table creation needs it.
    const { Field, FixedSizeList, Float32, Schema, Utf8 } = await import('apache-arrow');
    const fields: Field[] = [
      new Field('id', new Utf8(), false),
      new Field('author_id', new Utf8(), false),
      new Field('document_id', new Utf8(), false),
      new Field('payload', new Utf8(), false),
    ];
    if (spec.lexical) fields.push(new Field(TERMS, new Utf8(), true));
    if (spec.vectorSize !== undefined) {
      fields.push(
        new Field(VECTOR, new FixedSizeList(spec.vectorSize, new Field('item', new Float32(), true)), false),
      );
    }
    // Operations on the table meanwhile wait for it instead of finding it missing.
    const creating = this.db.createEmptyTable(spec.name, new Schema(fields), { existOk: true });
    this.stamps.delete(spec.name);
    this.tables.set(spec.name, creating);
    await this.committed(spec.name, await creating);
  }

  upsert(collection: string, points: readonly Point[]): Promise<void> {
    if (points.length === 0) return Promise.resolve();
    return this.oneWriteAtATime(collection, () => this.mergeIn(collection, points));
  }

  private async mergeIn(collection: string, points: readonly Point[]): Promise<void> {
    const table = await this.requireTable(collection);
    const dimension = await this.vectorDimension(collection, table);
    const hasVectors = dimension !== undefined;
    const hasTerms = await this.hasTermsColumn(collection, table);
    const rows = points.map((point) => {
      // LanceDB would store a vector of another length without complaint; a mixed collection is useless.
      if (hasVectors && point.vector?.length !== dimension) {
        throw new Error(
          `point ${point.id} in ${collection} needs a ${String(dimension)}-dimension vector, got ${String(point.vector?.length ?? 'none')}`,
        );
      }
      return {
        id: point.id,
        author_id: point.payload.author_id,
        document_id: point.payload.document_id,
        payload: JSON.stringify(point.payload),
        ...(hasTerms ? { [TERMS]: (point.terms ?? []).join(' ') } : {}),
        ...(hasVectors ? { [VECTOR]: point.vector } : {}),
      };
    });
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
    await this.committed(collection, table);
  }

  async search(
    collection: string,
    vector: readonly number[],
    options: SearchOptions,
  ): Promise<ScoredPoint[]> {
    const table = await this.table(collection);
    if (!table || matchesNothing(options.filter)) return [];
    let query = table
      .vectorSearch([...vector])
      .distanceType('cosine')
      .limit(options.limit);
    if (await this.hasVectorIndexOn(collection, table)) query = query.ef(options.limit * HNSW_EF_PER_RESULT);
    const where = toSql(options.filter);
    if (where) query = query.where(where);
    const rows = (await query.select(['id', 'payload', '_distance']).toArray()) as Row[];
    return rows.map((row) => ({ id: row.id, payload: parsePayload(row), score: 1 - (row._distance ?? 1) }));
  }

  async searchText(
    collection: string,
    terms: readonly string[],
    options: SearchOptions,
  ): Promise<ScoredPoint[]> {
    const table = await this.table(collection);
    if (!table || terms.length === 0 || matchesNothing(options.filter)) return [];
    if (!(await this.hasTextIndex(collection, table))) return [];
    let query = table.query().fullTextSearch(terms.join(' '), { columns: TERMS }).limit(options.limit);
    const where = toSql(options.filter);
    if (where) query = query.where(where);
    const rows = (await query.select(['id', 'payload', '_score']).toArray()) as Row[];
    return rows.map((row) => ({ id: row.id, payload: parsePayload(row), score: row._score ?? 0 }));
  }

  /** Both searches run here and are fused in this process, so each point's two ranks are known. */
  async searchHybrid(
    collection: string,
    query: HybridQuery,
    options: HybridSearchOptions,
  ): Promise<FusedPoint[]> {
    const depth = Math.max(options.depth, options.limit);
    const within = { limit: depth, ...(options.filter ? { filter: options.filter } : {}) };
    const [dense, lexical] = await Promise.all([
      this.search(collection, query.vector, within),
      this.searchText(collection, query.terms, within),
    ]);
    return fuseHybridLists(dense, lexical, options.fusion, options.limit);
  }

  async hasLexicalIndex(collection: string): Promise<boolean> {
    const table = await this.table(collection);
    return table !== undefined && (await this.hasTextIndex(collection, table));
  }

  /**
   * Compacts the table, then creates the indexes it lacks: the full-text index of a lexical table, and
   * from `annMinRows` rows an HNSW index over the vectors (cosine) with a bitmap index over the author
   * column, which filtered searches use to pick an author's rows first.
   */
  async refreshIndexes(collection: string): Promise<void> {
    const table = await this.table(collection);
    if (!table) return;
    const lexical = await this.hasTermsColumn(collection, table);
    // Every write (one per document) leaves a small data file, and each search opens every one: the
    // reference corpus left 76, and an exact search of its 1,148 chunks took 15 ms instead of 5
    // (README, Performance). Compaction merges them and folds the rows written since into the indexes
    // that already exist (LanceDB searches unindexed rows too, but a row replaced by a merge is only
    // found again once the index is optimised).
    await table.optimize();
    const { Index } = await import('@lancedb/lancedb');
    if (lexical && !(await this.hasTextIndex(collection, table))) {
      await table.createIndex(TERMS, {
        config: Index.fts({
          baseTokenizer: 'whitespace',
          lowercase: false,
          stem: false,
          removeStopWords: false,
          asciiFolding: false,
          withPosition: false,
        }),
      });
      this.textIndexed.add(collection);
    }
    const vectors = (await this.vectorDimension(collection, table)) !== undefined;
    if (
      vectors &&
      !(await this.hasVectorIndexOn(collection, table)) &&
      (await table.countRows()) >= this.annMinRows
    ) {
      await table.createIndex('author_id', { config: Index.bitmap() });
      await table.createIndex(VECTOR, { config: Index.hnswSq({ distanceType: 'cosine', numPartitions: 1 }) });
      this.vectorIndexed.set(collection, true);
    }
    // Once, after compaction and any index: nothing here reads through table() in between.
    await this.committed(collection, table);
  }

  /** Whether vector search in this collection goes through an ANN index (else it is exact). */
  async hasVectorIndex(collection: string): Promise<boolean> {
    const table = await this.table(collection);
    return table !== undefined && (await this.hasVectorIndexOn(collection, table));
  }

  private async hasVectorIndexOn(collection: string, table: Table): Promise<boolean> {
    const known = this.vectorIndexed.get(collection);
    if (known !== undefined) return known;
    const indexed = (await table.listIndices()).some((index) => index.columns.includes(VECTOR));
    this.vectorIndexed.set(collection, indexed);
    return indexed;
  }

  async deleteCollection(collection: string): Promise<void> {
    const table = await this.table(collection);
    if (!table) return;
    table.close();
    this.forget(collection);
    await this.db.dropTable(collection);
  }

  async *scroll(collection: string, options: ScrollOptions = {}): AsyncIterable<Point> {
    const table = await this.table(collection);
    if (!table || matchesNothing(options.filter)) return;
    let query = table.query().select(['id', 'payload']);
    const where = toSql(options.filter);
    if (where) query = query.where(where);
    // Streams record batches instead of materialising the whole table.
    for await (const batch of query) {
      for (const row of batch.toArray() as unknown as Row[]) yield { id: row.id, payload: parsePayload(row) };
    }
  }

  deletePoints(collection: string, ids: readonly string[]): Promise<void> {
    return this.oneWriteAtATime(collection, async () => {
      const table = await this.table(collection);
      if (!table || ids.length === 0) return;
      await table.delete(`id IN (${ids.map(sqlString).join(', ')})`);
      await this.committed(collection, table);
    });
  }

  /**
   * Writes to one table run one after another: two merge-inserts of the same new id at once would both
   * insert it (a batch delivered twice, as a retried or at-least-once workflow child may be).
   */
  private oneWriteAtATime(name: string, write: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(name) ?? Promise.resolve()).then(write, write);
    this.writes.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  async count(collection: string, filter?: PointFilter): Promise<number> {
    const table = await this.table(collection);
    if (!table || matchesNothing(filter)) return 0;
    return table.countRows(toSql(filter));
  }

  async close(): Promise<void> {
    for (const pending of this.tables.values()) (await pending)?.close();
    this.tables.clear();
    this.db.close();
  }

  /**
   * The table as it is now. A handle keeps reading the version it was opened at, so one that stays
   * open (twin serve) would never see what another process (twin features) wrote: when the table's
   * version stamp moved since, the handle and what was learnt through it are dropped and it is opened
   * again, exactly as a new process would. (LanceDB's own read consistency check refreshes the
   * handle in place, and its full-text search then fails on the newer version's index.)
   */
  private async table(name: string): Promise<Table | undefined> {
    const stamp = await this.versionStamp(name);
    // A table being created here has no stamp yet.
    if (this.stamps.has(name) && this.tables.has(name) && this.stamps.get(name) !== stamp) this.forget(name);
    let table = this.tables.get(name);
    if (!table) {
      this.stamps.set(name, stamp);
      table = this.db
        .tableNames()
        .then((names) => (names.includes(name) ? this.openListed(name) : undefined));
      // Remember only tables that exist, so a later ensureCollection is seen.
      const pending = table;
      this.tables.set(name, pending);
      const forgetUnlessFound = (found?: Table) => {
        if (!found && this.tables.get(name) === pending) this.tables.delete(name);
      };
      pending.then(forgetUnlessFound, () => forgetUnlessFound());
    }
    return table;
  }

  /**
   * A listed table, or none while another process is still creating it: its folder is there before
   * its first version is (a reader racing `twin features`, or a creation a killed process left).
   */
  private async openListed(name: string): Promise<Table | undefined> {
    try {
      return await this.db.openTable(name);
    } catch (error) {
      if (error instanceof Error && /was not found/u.test(error.message)) return undefined;
      throw error;
    }
  }

  /**
   * The table's version folder, by inode and modification time: every commit adds a manifest to it,
   * and a table dropped and created again has a new folder. One stat per read, on the local disk this
   * store lives on; undefined while the table does not exist.
   */
  private async versionStamp(name: string): Promise<string | undefined> {
    try {
      const folder = await stat(join(this.dir, `${name}.lance`, '_versions'), { bigint: true });
      return `${String(folder.ino)}:${String(folder.mtimeNs)}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * After this store's own commit: the handle that made it reads the newest version, so it becomes
   * the table's handle (one opened meanwhile may be older), under the stamp the folder has now.
   * Writers take the data folder's lock (README, Security model: one writer at a time), so no other
   * process committed in between.
   */
  private async committed(name: string, writer: Table): Promise<void> {
    const stamp = await this.versionStamp(name);
    this.tables.set(name, Promise.resolve(writer));
    this.stamps.set(name, stamp);
  }

  private forget(name: string): void {
    this.tables.delete(name);
    this.stamps.delete(name);
    for (const key of this.creations.keys()) if (key.startsWith(`${name}\0`)) this.creations.delete(key);
    this.dimensions.delete(name);
    this.textIndexed.delete(name);
    this.vectorIndexed.delete(name);
    this.termsColumns.delete(name);
  }

  private async hasTermsColumn(name: string, table: Table): Promise<boolean> {
    let known = this.termsColumns.get(name);
    if (known === undefined) {
      known = (await table.schema()).fields.some((field) => field.name === TERMS);
      this.termsColumns.set(name, known);
    }
    return known;
  }

  private async hasTextIndex(name: string, table: Table): Promise<boolean> {
    if (this.textIndexed.has(name)) return true;
    const indexed = (await table.listIndices()).some(
      (index) => index.indexType === 'FTS' && index.columns.includes(TERMS),
    );
    if (indexed) this.textIndexed.add(name);
    return indexed;
  }

  /** The table's vector length (undefined: payload only), read from its schema once per table. */
  private async vectorDimension(name: string, table: Table): Promise<number | undefined> {
    if (!this.dimensions.has(name)) {
      const field = (await table.schema()).fields.find((candidate) => candidate.name === VECTOR);
      this.dimensions.set(name, field ? (field.type as FixedSizeList).listSize : undefined);
    }
    return this.dimensions.get(name);
  }

  private async requireTable(name: string): Promise<Table> {
    const table = await this.table(name);
    if (!table) throw new Error(`collection ${name} does not exist; call ensureCollection first`);
    return table;
  }
}

function parsePayload(row: Row): IndexedPayload {
  return JSON.parse(row.payload) as IndexedPayload;
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function toSql(filter: PointFilter | undefined): string | undefined {
  const clauses = filterConditions(filter).map(
    ({ field, values }) => `${field} IN (${values.map(sqlString).join(', ')})`,
  );
  return clauses.length > 0 ? clauses.join(' AND ') : undefined;
}
