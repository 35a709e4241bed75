import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Category, Chunk, CleanedDocument } from '../../lambdas/domain/index.js';
import { CHUNKING, chunkDocument, chunkId, packSentences } from '../../lambdas/features/chunking.js';
import { cleanDocument, cleanText } from '../../lambdas/features/cleaning.js';
import type { Tokenizer } from '../../lambdas/ports/embedder.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { referenceArticles } from '../support/reference-corpus.js';

const AUTHOR = '6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b';
const DOCUMENT = '0b9d8c7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e';

function cleaned(category: Category, text: string): CleanedDocument {
  return {
    documentId: DOCUMENT,
    category,
    platform: 'example',
    authorId: AUTHOR,
    authorFullName: 'Ada Lovelace',
    content: cleanText(text),
    contentHash: 'h',
  };
}

/** The chunking invariants: exact slices, within the model input, covering every word of the text. */
function expectLosslessChunks(document: CleanedDocument, chunks: Chunk[], tokenizer: Tokenizer): void {
  const text = document.content;
  for (const chunk of chunks) {
    expect(chunk.content).toBe(text.slice(chunk.start, chunk.end));
    expect(tokenizer.countTokens(chunk.content) + tokenizer.specialTokens).toBeLessThanOrEqual(
      tokenizer.maxInputTokens,
    );
  }
  const covered = new Uint8Array(text.length);
  for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
  for (const word of text.matchAll(/\S+/gu)) {
    const start = word.index;
    const coveredWord = covered.subarray(start, start + word[0].length).every((bit) => bit === 1);
    // A passage repeated word for word inside a document is stored once, at its first position.
    const repeated = () => chunks.some((chunk) => chunk.content.includes(word[0]));
    if (!coveredWord && !repeated()) throw new Error(`word "${word[0]}" at ${String(start)} is in no chunk`);
  }
  // Words short enough to fit a chunk appear whole in at least one chunk.
  const words = new Set(text.split(' ').filter((word) => word.length > 0 && word.length < 100));
  const chunkWords = new Set(chunks.flatMap((chunk) => chunk.content.split(' ')));
  for (const word of words) expect(chunkWords.has(word)).toBe(true);
}

describe.runIf(embeddingModelAvailable())('chunking with the embedding model tokenizer', () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = (await realEmbedder()).tokenizer;
  });

  it('measures the model input: 256 tokens, two of them [CLS] and [SEP]', () => {
    expect(tokenizer.maxInputTokens).toBe(256);
    expect(tokenizer.specialTokens).toBe(2);
    expect(tokenizer.countTokens('Fine-tuning LLMs')).toBeGreaterThan(2);
  });

  it('splits posts into ~250-character windows that overlap by up to 25 characters', () => {
    const text = Array.from({ length: 60 }, (_, i) => `word${String(i)}`).join(' ');
    const chunks = chunkDocument(cleaned('posts', text), tokenizer);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks)
      expect(chunk.content.length).toBeLessThanOrEqual(CHUNKING.posts.sizeChars[0] ?? 0);
    for (const [previous, next] of chunks.slice(0, -1).map((chunk, i) => [chunk, chunks[i + 1]] as const)) {
      expect(next?.start).toBeLessThan(previous.end);
      expect(previous.end - (next?.start ?? 0)).toBeLessThanOrEqual(CHUNKING.posts.overlapChars);
    }
  });

  it('packs article sentences into 1000-2000 character pieces, merging a short tail and keeping over-long sentences', () => {
    const sentence = (n: number) =>
      `${'Sentence number '
        .repeat(Math.ceil(n / 16))
        .slice(0, n - 1)
        .trim()}.`;
    const text = cleanText(
      [sentence(900), sentence(900), sentence(900), sentence(300), sentence(4500)].join(' '),
    );
    const pieces = packSentences(text, { start: 0, end: text.length }, 1000, 2000);
    for (const piece of pieces) expect(piece.end - piece.start).toBeLessThanOrEqual(2000);
    const joined = pieces.map((piece) => text.slice(piece.start, piece.end)).join(' ');
    expect(joined.replace(/\s+/gu, ' ')).toBe(text);
  });

  it('gives chunks deterministic UUIDs from the document and the text', () => {
    expect(chunkId(DOCUMENT, 'same text')).toBe(chunkId(DOCUMENT, 'same text'));
    expect(chunkId(DOCUMENT, 'same text')).not.toBe(chunkId(AUTHOR, 'same text'));
    expect(chunkId(DOCUMENT, 'x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/u,
    );
    const text = 'One sentence here. Another one there! '.repeat(80);
    expect(chunkDocument(cleaned('articles', text), tokenizer)).toEqual(
      chunkDocument(cleaned('articles', text), tokenizer),
    );
  });

  it('cuts a word longer than a whole chunk into pieces instead of dropping it', () => {
    const giant = Array.from(
      { length: 3000 },
      (_, i) => 'abcdefghij'[(i * 7 + Math.floor(i / 13)) % 10],
    ).join('');
    const document = cleaned('repositories', `start ${giant} end`);
    const chunks = chunkDocument(document, tokenizer);
    expect(chunks.length).toBeGreaterThan(1);
    expectLosslessChunks(document, chunks, tokenizer);
    expect(chunks.map((chunk) => chunk.content).join('')).toBe(`start${giant}end`);
  });

  it('loses no word of any random document, whatever its category, script and sentence lengths', () => {
    const word = fc.oneof(
      fc.stringMatching(/^[a-z]{1,12}$/u),
      fc.constantFrom(
        'LLM',
        'Qdrant',
        'fine_tuning',
        '3.14',
        'ünïcödé',
        'ἀλήθεια',
        '日本語の文',
        'हिन्दी',
        'https',
        'x'.repeat(40),
      ),
    );
    const sentence = fc
      .tuple(fc.array(word, { minLength: 1, maxLength: 60 }), fc.constantFrom('.', '!', '?', ','))
      .map(([words, end]) => `${words.join(' ')}${end}`);
    const text = fc.array(sentence, { minLength: 1, maxLength: 80 }).map((sentences) => sentences.join(' '));
    const category = fc.constantFrom<Category>('articles', 'posts', 'repositories');
    fc.assert(
      fc.property(category, text, (kind, raw) => {
        const document = cleaned(kind, raw);
        expectLosslessChunks(document, chunkDocument(document, tokenizer), tokenizer);
      }),
      { numRuns: 60 },
    );
  });

  it.runIf(referenceCorpusAvailable())('loses no word of any of the 76 reference articles', () => {
    const articles = referenceArticles();
    expect(articles).toHaveLength(76);
    for (const raw of articles) {
      const document = cleanDocument(raw, 'v1');
      const chunks = chunkDocument(document, tokenizer);
      expect(chunks.length).toBeGreaterThan(0);
      expectLosslessChunks(document, chunks, tokenizer);
    }
  });
});
