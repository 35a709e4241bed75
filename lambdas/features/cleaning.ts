import { createHash } from 'node:crypto';
import type { CleanedDocument, RawDocument, SourceFields } from '../domain/index.js';

// Letters and marks of every script, digits, underscore, whitespace and sentence punctuation survive;
// everything else (emoji, symbols, markup punctuation such as # * [ ] ( ) |) becomes a space. Marks
// are kept so that scripts that write vowels as combining signs (Devanagari, Thai, ...) stay whole.
const NOT_KEPT = /[^\p{L}\p{M}\p{N}_\s.,!?]+/gu;
const WHITESPACE = /\s+/gu;

/** Cleans one text: drop what is not a word character, whitespace or `.,!?`, then collapse whitespace. */
export function cleanText(text: string): string {
  return text.replace(NOT_KEPT, ' ').replace(WHITESPACE, ' ').trim();
}

/**
 * The raw document's text, one field after the other. Repository files are introduced by their path,
 * which is often the best clue to what the code is about.
 */
export function documentText(document: RawDocument): string {
  const fields = Object.entries(document.content).filter(
    (entry): entry is [string, string] => entry[1] !== null,
  );
  return fields
    .map(([key, value]) => (document.category === 'repositories' ? `${key}\n${value}` : value))
    .join('\n\n');
}

export function sourceFieldsOf(document: RawDocument): SourceFields {
  return {
    documentId: document.id,
    category: document.category,
    platform: document.platform,
    authorId: document.authorId,
    authorFullName: document.authorFullName,
    ...('link' in document && document.link !== undefined ? { link: document.link } : {}),
    ...('name' in document ? { name: document.name } : {}),
    ...('image' in document && document.image !== undefined ? { image: document.image } : {}),
  };
}

/**
 * Identifies a document's content as processed by one version of the pipeline: when neither changes,
 * the stored features are current and the document is not embedded again.
 */
export function contentHash(document: RawDocument, pipelineVersion: string): string {
  const { id: _id, ...rest } = document;
  return createHash('sha256').update(pipelineVersion).update('\0').update(JSON.stringify(rest)).digest('hex');
}

export function cleanDocument(document: RawDocument, pipelineVersion: string): CleanedDocument {
  return {
    ...sourceFieldsOf(document),
    content: cleanText(documentText(document)),
    contentHash: contentHash(document, pipelineVersion),
  };
}
