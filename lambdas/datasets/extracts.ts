import { createHash } from 'node:crypto';
import type { Category, CleanedDocument } from '../domain/index.js';
import { packSentences } from '../features/chunking.js';

export const EXTRACT_MIN_CHARS = 1000;
export const EXTRACT_MAX_CHARS = 2000;

/** A passage of an author's own writing that the LLM turns into training examples. */
export interface Extract {
  /** Hash of the source document and the text: stable across runs, so datasets are reproducible. */
  id: string;
  documentId: string;
  category: Category;
  authorId: string;
  authorFullName: string;
  link?: string;
  text: string;
}

/** Categories whose text is the author's prose (repositories are code, not a writing voice). */
export const EXTRACT_CATEGORIES: readonly Category[] = ['articles', 'posts'];

/**
 * Splits a cleaned document into 1000-2000-character extracts by packing whole sentences, as the
 * feature pipeline does for articles: every sentence lands in exactly one extract, nothing is dropped.
 */
export function extractsOf(document: CleanedDocument): Extract[] {
  const text = document.content;
  if (text.trim() === '') return [];
  return packSentences(text, { start: 0, end: text.length }, EXTRACT_MIN_CHARS, EXTRACT_MAX_CHARS).map(
    (span) => {
      const passage = text.slice(span.start, span.end);
      return {
        id: createHash('sha256')
          .update(document.documentId)
          .update('\n')
          .update(passage)
          .digest('hex')
          .slice(0, 32),
        documentId: document.documentId,
        category: document.category,
        authorId: document.authorId,
        authorFullName: document.authorFullName,
        ...(document.link ? { link: document.link } : {}),
        text: passage,
      };
    },
  );
}
