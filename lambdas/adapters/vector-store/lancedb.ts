import { mkdirSync } from 'node:fs';
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';
import type { Connection, Table } from '@lancedb/lancedb';
import type {
  CollectionSpec,
  IndexedPayload,
  Point,
  PointFilter,
  ScoredPoint,
  ScrollOptions,
  SearchOptions,
  VectorStore,
} from '../../ports/vector-store.js';
import { filterConditions, matchesNothing } from './filters.js';

const VECTOR = 'vector';

interface Row {
  id: string;
  author_id: string;
  document_id: string;
  payload: string;
  _distance?: number;
}

/**
 * The embedded feature store: one LanceDB table per collection in a local folder. The indexed payload
 * fields are columns (so filters run inside LanceDB); the full payload is kept as JSON beside them.
 * Search is exact (no ANN index): a person's corpus is thousands of chunks, not millions.
 */
export class LanceVectorStore implements VectorStore {
  private readonly tables = new Map<string, Promise<Table | undefined>>();
  private readonly creations = new Map<string, Promise<void>>();
  private readonly dimensions = new Map<string, number | undefined>();

  private constructor(private readonly db: Connection) {}

  static async open(dir: string): Promise<LanceVectorStore> {
    mkdirSync(dir, { recursive: true });
    const { connect } = await import('@lancedb/lancedb');
    return new LanceVectorStore(await connect(dir));
  }

  ensureCollection(spec: CollectionSpec): Promise<void> {
    // Concurrent callers share one creation: LanceDB would otherwise race two creates of one table.
    let creation = this.creations.get(spec.name);
    if (!creation) {
      creation = this.createIfMissing(spec);
      this.creations.set(spec.name, creation);
      creation.catch(() => this.creations.delete(spec.name));
    }
    return creation;
  }

  private async createIfMissing(spec: CollectionSpec): Promise<void> {
    if (await this.table(spec.name)) return;
    const fields: Field[] = [
      new Field('id', new Utf8(), false),
      new Field('author_id', new Utf8(), false),
      new Field('document_id', new Utf8(), false),
      new Field('payload', new Utf8(), false),
    ];
    if (spec.vectorSize !== undefined) {
      fields.push(
        new Field(VECTOR, new FixedSizeList(spec.vectorSize, new Field('item', new Float32(), true)), false),
      );
    }
    const created = this.db
      .createEmptyTable(spec.name, new Schema(fields), { existOk: true })
      .then((table) => table as Table | undefined);
    this.tables.set(spec.name, created);
    await created;
  }

  async upsert(collection: string, points: readonly Point[]): Promise<void> {
    if (points.length === 0) return;
    const table = await this.requireTable(collection);
    const dimension = await this.vectorDimension(collection, table);
    const hasVectors = dimension !== undefined;
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
        ...(hasVectors ? { [VECTOR]: point.vector } : {}),
      };
    });
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
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
    const where = toSql(options.filter);
    if (where) query = query.where(where);
    const rows = (await query.select(['id', 'payload', '_distance']).toArray()) as Row[];
    return rows.map((row) => ({ id: row.id, payload: parsePayload(row), score: 1 - (row._distance ?? 1) }));
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

  async deletePoints(collection: string, ids: readonly string[]): Promise<void> {
    const table = await this.table(collection);
    if (!table || ids.length === 0) return;
    await table.delete(`id IN (${ids.map(sqlString).join(', ')})`);
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

  private table(name: string): Promise<Table | undefined> {
    let table = this.tables.get(name);
    if (!table) {
      table = this.db
        .tableNames()
        .then((names) => (names.includes(name) ? this.db.openTable(name) : undefined));
      // Remember only tables that exist, so a later ensureCollection is seen.
      const pending = table;
      this.tables.set(name, pending);
      void pending.then((found) => {
        if (!found && this.tables.get(name) === pending) this.tables.delete(name);
      });
    }
    return table;
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
