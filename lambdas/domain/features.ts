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
  content: string;
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
  image: z.string().optional(),
};

export const CleanedPayloadSchema = z.object({
  ...sourcePayload,
  content: z.string(),
  content_hash: z.string(),
});
export type CleanedPayload = z.infer<typeof CleanedPayloadSchema>;

export const ChunkPayloadSchema = z.object({
  ...sourcePayload,
  content: z.string(),
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
    ...(payload.image === undefined ? {} : { image: payload.image }),
  };
}

export function cleanedToPayload(document: CleanedDocument): CleanedPayload {
  return { ...sourceToPayload(document), content: document.content, content_hash: document.contentHash };
}

export function cleanedFromPayload(payload: unknown): CleanedDocument {
  const parsed = CleanedPayloadSchema.parse(payload);
  return { ...sourceFromPayload(parsed), content: parsed.content, contentHash: parsed.content_hash };
}

export function chunkToPayload(chunk: EmbeddedChunk): ChunkPayload {
  return {
    ...sourceToPayload(chunk),
    content: chunk.content,
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

export function scoredChunkFromPayload(id: string, score: number, payload: unknown): ScoredChunk {
  const parsed = ChunkPayloadSchema.parse(payload);
  return {
    ...sourceFromPayload(parsed),
    id,
    score,
    content: parsed.content,
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
