import { createHash } from 'node:crypto';
import type { Category, Chunk, ChunkingInfo, CleanedDocument } from '../domain/index.js';
import type { Tokenizer } from '../ports/embedder.js';
import { originalSpan, type CleanedText } from './cleaning.js';

/** A character range [start, end) of the cleaned text. Chunks are always exact slices of it. */
export interface Span {
  start: number;
  end: number;
}

interface CategoryChunking {
  strategy: ChunkingInfo['strategy'];
  sizeChars: readonly number[];
  overlapChars: number;
}

/** First-stage splits per category (SYSTEM.md §2); every piece then goes through token windows. */
export const CHUNKING: Record<Category, CategoryChunking> = {
  posts: { strategy: 'characters', sizeChars: [250], overlapChars: 25 },
  articles: { strategy: 'sentences', sizeChars: [1000, 2000], overlapChars: 0 },
  repositories: { strategy: 'characters', sizeChars: [1500], overlapChars: 100 },
};
export const TOKEN_OVERLAP = 50;

/**
 * Splits a cleaned document into chunks that each fit the embedding model's input. No text is lost:
 * the chunks' ranges cover every word of the document, and a word longer than a whole chunk is cut
 * into pieces rather than dropped.
 */
export function chunkDocument(
  document: CleanedDocument,
  tokenizer: Tokenizer,
  /** The document's original text and its map from the cleaned text; without it, original = content. */
  source?: { original: string; cleaned: CleanedText },
): Chunk[] {
  const text = document.content;
  const rules = CHUNKING[document.category];
  const whole = { start: 0, end: text.length };
  const pieces =
    rules.strategy === 'sentences'
      ? packSentences(text, whole, rules.sizeChars[0] ?? 0, rules.sizeChars[1] ?? Infinity)
      : characterWindows(text, whole, rules.sizeChars[0] ?? Infinity, rules.overlapChars);
  const windows = pieces.flatMap((piece) => tokenWindows(text, piece, tokenizer));

  const info: ChunkingInfo = { ...rules, maxTokens: tokenizer.maxInputTokens, overlapTokens: TOKEN_OVERLAP };
  const seen = new Set<string>();
  const chunks: Chunk[] = [];
  for (const window of windows) {
    const content = text.slice(window.start, window.end);
    const id = chunkId(document.documentId, content);
    if (seen.has(id)) continue; // a repeated passage of the same document is stored once
    seen.add(id);
    const { content: _text, contentHash: _hash, ...fields } = document;
    const original = source
      ? originalSpan(source.original, source.cleaned, window.start, window.end)
      : content;
    chunks.push({ ...fields, id, content, original, index: chunks.length, ...window, chunking: info });
  }
  return chunks;
}

/** A UUID (Qdrant point ids must be UUIDs or integers) derived from the document and the chunk text. */
export function chunkId(documentId: string, content: string): string {
  const hex = createHash('sha256').update(documentId).update('\n').update(content).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The words (maximal non-space runs) inside `span`, each cut into pieces of at most `maxChars`. */
export function wordSpans(text: string, span: Span, maxChars = Infinity): Span[] {
  const words: Span[] = [];
  const pattern = /\S+/gu;
  pattern.lastIndex = span.start;
  for (let match = pattern.exec(text); match && match.index < span.end; match = pattern.exec(text)) {
    const end = Math.min(match.index + match[0].length, span.end);
    for (let start = match.index; start < end; start += maxChars) {
      words.push({ start, end: Math.min(start + maxChars, end) });
    }
  }
  return words;
}

/** Sentences: runs of text ending in . ! or ? followed by a space (or the end of the span). */
export function sentenceSpans(text: string, span: Span): Span[] {
  const sentences: Span[] = [];
  let start = span.start;
  const boundary = /[.!?] /gu;
  boundary.lastIndex = span.start;
  for (let match = boundary.exec(text); match && match.index < span.end; match = boundary.exec(text)) {
    sentences.push({ start, end: match.index + 1 });
    start = match.index + 2;
  }
  if (start < span.end) sentences.push({ start, end: span.end });
  return sentences;
}

/**
 * Packs whole sentences into pieces of `min`-`max` characters. A sentence longer than `max` is split at
 * word boundaries; a short last piece joins the one before when they fit together, and stands alone
 * otherwise. Nothing is dropped (the book's packer lost both).
 */
export function packSentences(text: string, span: Span, min: number, max: number): Span[] {
  const sentences = sentenceSpans(text, span).flatMap((sentence) =>
    sentence.end - sentence.start > max ? characterWindows(text, sentence, max, 0) : [sentence],
  );
  const pieces: Span[] = [];
  let current: Span | undefined;
  for (const sentence of sentences) {
    if (current && sentence.end - current.start <= max) {
      current = { start: current.start, end: sentence.end };
      continue;
    }
    if (current) pieces.push(current);
    current = sentence;
  }
  if (current) {
    const previous = pieces.at(-1);
    if (previous && current.end - current.start < min && current.end - previous.start <= max) {
      pieces[pieces.length - 1] = { start: previous.start, end: current.end };
    } else {
      pieces.push(current);
    }
  }
  return pieces;
}

/** Windows of whole words, at most `size` characters, each starting with up to `overlap` characters of the last. */
export function characterWindows(text: string, span: Span, size: number, overlap: number): Span[] {
  const words = wordSpans(text, span, size);
  return slidingWindows(
    words,
    (from, to) => spanOf(words, from, to).end - spanOf(words, from, to).start,
    size,
    overlap,
  );
}

/** Windows of whole words that fit the model input (special tokens included), overlapping by TOKEN_OVERLAP tokens. */
export function tokenWindows(text: string, span: Span, tokenizer: Tokenizer, budgetScale = 1): Span[] {
  const budget = Math.floor((tokenizer.maxInputTokens - tokenizer.specialTokens) * budgetScale);
  // A single character costs at most a few tokens, so pieces of budget/4 characters always fit.
  const words = wordSpans(text, span).flatMap((word) =>
    tokensOf(text, word, tokenizer) > budget
      ? wordSpans(text, word, Math.max(1, Math.floor(budget / 4)))
      : [word],
  );
  const prefix = [0];
  for (const word of words) prefix.push((prefix.at(-1) ?? 0) + tokensOf(text, word, tokenizer));
  const cost = (from: number, to: number) => (prefix[to + 1] ?? 0) - (prefix[from] ?? 0);
  const windows = slidingWindows(words, cost, budget, Math.min(TOKEN_OVERLAP, Math.floor(budget / 2)));

  // Word-by-word counts add up exactly for BERT-style tokenizers; for others, verify and split again.
  return windows.flatMap((window) =>
    tokensOf(text, window, tokenizer) <= budget || budgetScale < 0.2
      ? [window]
      : tokenWindows(text, window, tokenizer, budgetScale * 0.8),
  );
}

function tokensOf(text: string, span: Span, tokenizer: Tokenizer): number {
  return tokenizer.countTokens(text.slice(span.start, span.end));
}

function spanOf(units: readonly Span[], from: number, to: number): Span {
  return { start: units[from]?.start ?? 0, end: units[to]?.end ?? 0 };
}

/**
 * Greedy windows over units: each window takes as many units as fit in `budget`; the next starts at the
 * earliest unit such that the overlap with the previous window costs at most `overlap`, and always
 * moves forward. Every unit must fit the budget on its own.
 */
function slidingWindows(
  units: readonly Span[],
  cost: (from: number, to: number) => number,
  budget: number,
  overlap: number,
): Span[] {
  const windows: Span[] = [];
  let from = 0;
  while (from < units.length) {
    let to = from;
    while (to + 1 < units.length && cost(from, to + 1) <= budget) to += 1;
    windows.push(spanOf(units, from, to));
    if (to === units.length - 1) break;
    let next = to + 1;
    while (next - 1 > from && cost(next - 1, to) <= overlap) next -= 1;
    from = next;
  }
  return windows;
}
