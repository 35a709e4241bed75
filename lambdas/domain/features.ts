import { z } from 'zod';
import { CATEGORIES, type Category } from './documents.js';

/**
 * The logical feature store: per category, a `cleaned_*` snapshot (payload only, the training-data
 * source) and an `embedded_*` snapshot (chunk vectors + payload, the RAG source).
 */
export type Snapshot = 'cleaned' | 'embedded';

export function collectionName(snapshot: Snapshot, category: Category): string {
  return `${snapshot}_${category}`;
}

export const FEATURE_COLLECTIONS = CATEGORIES.flatMap((category) =>
  (['cleaned', 'embedded'] as const).map((snapshot) => ({ snapshot, category })),
);

/** How chunks are searched: by meaning (embeddings), by keywords (BM25), or both fused by rank. */
export const RETRIEVAL_MODES = ['hybrid', 'dense', 'lexical'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

/**
 * Reciprocal rank fusion's k: 60, the value of the method's paper, used as-is by most search engines
 * that fuse (Elastic, OpenSearch, Azure AI Search). Measured on the dev set, k from 10 to 100 moved
 * MRR by little (README); a standard value is kept rather than one fitted to 60 questions.
 */
export const DEFAULT_FUSION_K = 60;

/**
 * How hybrid search fuses its dense and keyword lists: by rank (reciprocal rank fusion, k), or by a
 * convex combination of the two scores after per-query min-max normalisation, alpha weighing the
 * dense one (Bruch, Gai and Ingber, ACM TOIS 2023).
 */
export const FUSION_KINDS = ['rrf', 'convex'] as const;
export type FusionKind = (typeof FUSION_KINDS)[number];
export type Fusion = { kind: 'rrf'; k: number } | { kind: 'convex'; alpha: number };
/** The fusion the service runs unless configured: chosen by cross-validation on the dev set (README). */
export const DEFAULT_FUSION: FusionKind = 'convex';
export const DEFAULT_FUSION_ALPHA = 0.1;

/** A fusion's name in tables, traces and reports: "rrf k=60", "convex alpha=0.3". */
export function fusionName(fusion: Fusion): string {
  return fusion.kind === 'rrf' ? `rrf k=${String(fusion.k)}` : `convex alpha=${String(fusion.alpha)}`;
}

/** `options` set to run `fusion` (the inverse of fusionOf). */
export function withFusion<T extends { fusion: FusionKind; fusionK: number; fusionAlpha: number }>(
  options: T,
  fusion: Fusion,
): T {
  return fusion.kind === 'rrf'
    ? { ...options, fusion: 'rrf', fusionK: fusion.k }
    : { ...options, fusion: 'convex', fusionAlpha: fusion.alpha };
}

/** The options' fusion as a vector store takes it. */
export function fusionOf(options: { fusion: FusionKind; fusionK: number; fusionAlpha: number }): Fusion {
  return options.fusion === 'rrf'
    ? { kind: 'rrf', k: options.fusionK }
    : { kind: 'convex', alpha: options.fusionAlpha };
}

/** Where a cleaned document or chunk came from: the raw document's identity and metadata. */
export interface SourceFields {
  documentId: string;
  category: Category;
  platform: string;
  authorId: string;
  authorFullName: string;
  link?: string;
  /** Repository name. */
  name?: string;
  /** The article's title as crawled, when it has one. */
  title?: string;
  /** Post image URL. */
  image?: string;
}

export interface CleanedDocument extends SourceFields {
  content: string;
  /** Hash of the raw content and the pipeline version that produced this snapshot (change detection). */
  contentHash: string;
}

export interface ChunkingInfo {
  strategy: 'sentences' | 'characters';
  /** Character bounds of the first split: [min, max] for sentence packing, [size] otherwise. */
  sizeChars: readonly number[];
  overlapChars: number;
  maxTokens: number;
  overlapTokens: number;
}

export interface Chunk extends SourceFields {
  /** Deterministic: a UUID formed from a hash of the document id and the chunk's text. */
  id: string;
  /** The cleaned text: what is embedded and indexed for keyword search. */
  content: string;
  /**
   * The same passage as the author wrote it (apostrophes, symbols, links and markup kept): what
   * excerpts, the reranker and the twin's prompt show.
   */
  original: string;
  /** Position of this chunk among its document's chunks, and its character range in the cleaned text. */
  index: number;
  start: number;
  end: number;
  chunking: ChunkingInfo;
}

export interface EmbeddingModelInfo {
  id: string;
  size: number;
  maxInputLength: number;
}

export interface EmbeddedChunk extends Chunk {
  embedding: number[];
  embeddingModel: EmbeddingModelInfo;
}

export interface ScoredChunk extends Chunk {
  score: number;
  embeddingModel: EmbeddingModelInfo;
  /** 1-based ranks in the dense and keyword lists of a hybrid search, where the store reports them. */
  ranks?: { dense?: number; lexical?: number };
}

// Stored payloads (snake_case, like the warehouse records). They come back from an external database,
// so they are validated on the way in.
const sourcePayload = {
  document_id: z.string(),
  category: z.enum(CATEGORIES),
  platform: z.string(),
  author_id: z.string(),
  author_full_name: z.string(),
  link: z.string().optional(),
  name: z.string().optional(),
  title: z.string().optional(),
  image: z.string().optional(),
};

/**
 * What a stored document's features hold besides the content hash: 2 added each chunk's original
 * text, its document's title and its keyword-search terms. A document stored with an older layout is processed again.
 */
export const FEATURE_LAYOUT = 2;

export const CleanedPayloadSchema = z.object({
  ...sourcePayload,
  content: z.string(),
  content_hash: z.string(),
  /** Absent: stored before layouts were recorded (layout 1). */
  layout: z.number().int().optional(),
});
export type CleanedPayload = z.infer<typeof CleanedPayloadSchema>;

export const ChunkPayloadSchema = z.object({
  ...sourcePayload,
  content: z.string(),
  /** Absent in chunks stored before layout 2: excerpts then fall back to the cleaned text. */
  original: z.string().optional(),
  chunk_index: z.number().int(),
  start: z.number().int(),
  end: z.number().int(),
  chunking: z.object({
    strategy: z.enum(['sentences', 'characters']),
    size_chars: z.array(z.number()),
    overlap_chars: z.number(),
    max_tokens: z.number(),
    overlap_tokens: z.number(),
  }),
  embedding_model_id: z.string(),
  embedding_size: z.number().int(),
  max_input_length: z.number().int(),
});
export type ChunkPayload = z.infer<typeof ChunkPayloadSchema>;

function sourceToPayload(source: SourceFields) {
  return {
    document_id: source.documentId,
    category: source.category,
    platform: source.platform,
    author_id: source.authorId,
    author_full_name: source.authorFullName,
    ...(source.link === undefined ? {} : { link: source.link }),
    ...(source.name === undefined ? {} : { name: source.name }),
    ...(source.title === undefined ? {} : { title: source.title }),
    ...(source.image === undefined ? {} : { image: source.image }),
  };
}

function sourceFromPayload(payload: z.infer<z.ZodObject<typeof sourcePayload>>): SourceFields {
  return {
    documentId: payload.document_id,
    category: payload.category,
    platform: payload.platform,
    authorId: payload.author_id,
    authorFullName: payload.author_full_name,
    ...(payload.link === undefined ? {} : { link: payload.link }),
    ...(payload.name === undefined ? {} : { name: payload.name }),
    ...(payload.title === undefined ? {} : { title: payload.title }),
    ...(payload.image === undefined ? {} : { image: payload.image }),
  };
}

export function cleanedToPayload(document: CleanedDocument): CleanedPayload {
  return {
    ...sourceToPayload(document),
    content: document.content,
    content_hash: document.contentHash,
    layout: FEATURE_LAYOUT,
  };
}

export function cleanedFromPayload(payload: unknown): CleanedDocument {
  const parsed = CleanedPayloadSchema.parse(payload);
  return { ...sourceFromPayload(parsed), content: parsed.content, contentHash: parsed.content_hash };
}

export function chunkToPayload(chunk: EmbeddedChunk): ChunkPayload {
  return {
    ...sourceToPayload(chunk),
    content: chunk.content,
    original: chunk.original,
    chunk_index: chunk.index,
    start: chunk.start,
    end: chunk.end,
    chunking: {
      strategy: chunk.chunking.strategy,
      size_chars: [...chunk.chunking.sizeChars],
      overlap_chars: chunk.chunking.overlapChars,
      max_tokens: chunk.chunking.maxTokens,
      overlap_tokens: chunk.chunking.overlapTokens,
    },
    embedding_model_id: chunk.embeddingModel.id,
    embedding_size: chunk.embeddingModel.size,
    max_input_length: chunk.embeddingModel.maxInputLength,
  };
}

export function scoredChunkFromPayload(
  id: string,
  score: number,
  payload: unknown,
  ranks?: ScoredChunk['ranks'],
): ScoredChunk {
  const parsed = ChunkPayloadSchema.parse(payload);
  return {
    ...sourceFromPayload(parsed),
    id,
    score,
    ...(ranks ? { ranks } : {}),
    content: parsed.content,
    original: parsed.original ?? parsed.content,
    index: parsed.chunk_index,
    start: parsed.start,
    end: parsed.end,
    chunking: {
      strategy: parsed.chunking.strategy,
      sizeChars: parsed.chunking.size_chars,
      overlapChars: parsed.chunking.overlap_chars,
      maxTokens: parsed.chunking.max_tokens,
      overlapTokens: parsed.chunking.overlap_tokens,
    },
    embeddingModel: {
      id: parsed.embedding_model_id,
      size: parsed.embedding_size,
      maxInputLength: parsed.max_input_length,
    },
  };
}
