/**
 * npm run bench:store — the embedded vector store (LanceDB) at 10k and 100k chunks: build time, size
 * on disk, and author-filtered top-10 search latency (p50/p95) for dense, keyword and hybrid search,
 * through the adapter the product uses. Above the adapter's ANN threshold the same run also measures
 * exact search on a copy without the vector index and reports the index's recall@10 against it.
 *
 * The chunks are synthetic but shaped like real ones: 384-d unit vectors around 200 topics (as an
 * embedding model clusters text by subject), text of about 150 words drawn from the reference
 * corpus's own vocabulary with each topic favouring its own words, and 20 authors.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { lexicalTerms } from '../../lambdas/features/lexical-terms.js';
import type { Point, ScoredPoint } from '../../lambdas/ports/vector-store.js';
import { REFERENCE_WAREHOUSE_DIR } from '../support/environment.js';
import { mulberry32 } from '../../lambdas/shared/seeded-random.js';
import { median, percentile } from './stats.js';

const SIZES = (process.env.BENCH_STORE_SIZES ?? '10000,100000').split(',').map(Number);
const DIMENSION = 384;
const TOPICS = 200;
const AUTHORS = 20;
const QUERIES = 200;
const K = 10;
const COLLECTION = 'embedded_articles';

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
}

function unit(vector: number[]): number[] {
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

async function corpusVocabulary(): Promise<string[]> {
  const words = new Map<string, number>();
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.jsonl?$/u.test(entry.name))
        for (const word of (await readFile(path, 'utf8')).toLowerCase().match(/\p{L}{3,}/gu) ?? [])
          words.set(word, (words.get(word) ?? 0) + 1);
    }
  }
  await walk(REFERENCE_WAREHOUSE_DIR);
  return [...words.entries()].sort((a, b) => b[1] - a[1]).map(([word]) => word);
}

interface Synthetic {
  points: Point[];
  queries: { vector: number[]; terms: string[]; authorId: string }[];
}

function synthesize(size: number, vocabulary: readonly string[]): Synthetic {
  // Seeded, so every run builds the same tables.
  const next = mulberry32(size);
  const centroids = Array.from({ length: TOPICS }, () =>
    unit(Array.from({ length: DIMENSION }, () => gaussian(next))),
  );
  // Each topic favours 150 words of the vocabulary's long tail; common words are shared by all.
  const common = vocabulary.slice(0, 300);
  const topicWords = centroids.map(() =>
    Array.from(
      { length: 150 },
      () => vocabulary[300 + Math.floor(next() * (vocabulary.length - 300))] ?? 'llm',
    ),
  );
  const around = (topic: number, spread: number) =>
    unit((centroids[topic] ?? []).map((value) => value + (spread * gaussian(next)) / Math.sqrt(DIMENSION)));
  const text = (topic: number, words: number) =>
    Array.from({ length: words }, () => {
      const pool = next() < 0.4 ? (topicWords[topic] ?? common) : common;
      return pool[Math.floor(next() * pool.length)] ?? 'llm';
    }).join(' ');
  const authorId = (index: number) => `author-${String(index).padStart(2, '0')}`;
  const points: Point[] = Array.from({ length: size }, (_, index) => {
    const topic = Math.floor(next() * TOPICS);
    const content = text(topic, 150);
    return {
      id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      vector: around(topic, 0.9),
      terms: lexicalTerms(content),
      payload: {
        author_id: authorId(Math.floor(next() * AUTHORS)),
        document_id: `doc-${String(Math.floor(index / 8))}`,
        content,
      },
    };
  });
  const queries = Array.from({ length: QUERIES }, () => {
    const topic = Math.floor(next() * TOPICS);
    return {
      vector: around(topic, 1.1),
      terms: lexicalTerms(text(topic, 8)),
      authorId: authorId(Math.floor(next() * AUTHORS)),
    };
  });
  return { points, queries };
}

async function sizeOnDisk(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOnDisk(join(path, entry));
  return total;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

async function build(
  dir: string,
  points: readonly Point[],
): Promise<{ store: LanceVectorStore; ms: number }> {
  const store = await LanceVectorStore.open(dir);
  const { ms } = await timed(async () => {
    await store.ensureCollection({ name: COLLECTION, vectorSize: DIMENSION, lexical: true });
    for (let start = 0; start < points.length; start += 5000) {
      await store.upsert(COLLECTION, points.slice(start, start + 5000));
      progress(`  wrote ${String(Math.min(start + 5000, points.length))} of ${String(points.length)}`);
    }
    progress('  indexing');
    await store.refreshIndexes(COLLECTION);
  });
  return { store, ms };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function latencies(store: LanceVectorStore, queries: Synthetic['queries']) {
  const modes = {
    dense: (query: Synthetic['queries'][number]) =>
      store.search(COLLECTION, query.vector, { limit: K, filter: { authorIds: [query.authorId] } }),
    lexical: (query: Synthetic['queries'][number]) =>
      store.searchText(COLLECTION, query.terms, { limit: K, filter: { authorIds: [query.authorId] } }),
    hybrid: (query: Synthetic['queries'][number]) =>
      store.searchHybrid(
        COLLECTION,
        { vector: query.vector, terms: query.terms },
        { limit: K, depth: 50, fusion: { kind: 'rrf', k: 60 }, filter: { authorIds: [query.authorId] } },
      ),
  };
  const rows: Record<string, { p50: number; p95: number }> = {};
  const dense: ScoredPoint[][] = [];
  for (const [mode, run] of Object.entries(modes)) {
    progress(`  searching: ${mode}`);
    for (const query of queries.slice(0, 10)) await run(query); // warm-up
    const times: number[] = [];
    for (const query of queries) {
      const { ms, result } = await timed(() => run(query));
      times.push(ms);
      if (mode === 'dense') dense.push(result);
    }
    rows[mode] = { p50: median(times), p95: percentile(times, 0.95) };
  }
  return { rows, dense };
}

const vocabulary = await corpusVocabulary();
console.log(
  `Embedded store (LanceDB), author-filtered top-${String(K)}, ${String(QUERIES)} queries, ${String(AUTHORS)} authors, ${String(DIMENSION)}-d vectors`,
);
for (const size of SIZES) {
  const { points, queries } = synthesize(size, vocabulary);
  const dir = await mkdtemp(join(tmpdir(), 'twin-bench-store-'));
  try {
    const { store, ms } = await build(dir, points);
    const indexed = await store.hasVectorIndex(COLLECTION);
    const { rows, dense } = await latencies(store, queries);
    await store.close();
    console.log(
      `  ${size.toLocaleString('en')} chunks: built in ${(ms / 1000).toFixed(1)} s, ${((await sizeOnDisk(dir)) / 2 ** 20).toFixed(0)} MiB on disk, vector search ${indexed ? 'through the ANN index' : 'exact'}`,
    );
    for (const [mode, { p50, p95 }] of Object.entries(rows))
      console.log(`    ${mode.padEnd(8)} p50 ${p50.toFixed(1)} ms  p95 ${p95.toFixed(1)} ms`);
    if (indexed) {
      // The same table without the vector index: exact search, the ground truth for recall.
      const exactDir = await mkdtemp(join(tmpdir(), 'twin-bench-exact-'));
      try {
        const exact = await LanceVectorStore.open(exactDir, { annMinRows: Number.POSITIVE_INFINITY });
        await exact.ensureCollection({ name: COLLECTION, vectorSize: DIMENSION, lexical: true });
        for (let start = 0; start < points.length; start += 5000)
          await exact.upsert(COLLECTION, points.slice(start, start + 5000));
        await exact.refreshIndexes(COLLECTION);
        const truth = await latencies(exact, queries);
        await exact.close();
        const recall =
          dense.reduce((sum, found, index) => {
            const expected = new Set((truth.dense[index] ?? []).map((point) => point.id));
            return sum + found.filter((point) => expected.has(point.id)).length / Math.max(expected.size, 1);
          }, 0) / dense.length;
        const exactDense = truth.rows.dense ?? { p50: 0, p95: 0 };
        console.log(
          `    ANN recall@${String(K)} against exact search: ${recall.toFixed(3)}; exact dense p50 ${exactDense.p50.toFixed(1)} ms  p95 ${exactDense.p95.toFixed(1)} ms`,
        );
      } finally {
        await rm(exactDir, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
