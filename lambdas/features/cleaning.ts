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

/** A cleaned text and where each of its UTF-16 units came from in the original text. */
export interface CleanedText {
  text: string;
  /** `origins[i]`: the index in the original of the cleaned text's unit i (a space: its run's start). */
  origins: Uint32Array;
}

const SEPARATOR = /[^\p{L}\p{M}\p{N}_.,!?]/u;

/**
 * cleanText, remembering where every kept character came from, so that a span of the cleaned text
 * (a chunk) can be shown as the author wrote it. Same result as cleanText: each maximal run of
 * dropped characters and whitespace becomes one space, and none is kept at either end.
 */
export function cleanTextWithOrigins(original: string): CleanedText {
  let text = '';
  const origins: number[] = [];
  let pendingSpace: number | undefined;
  let index = 0;
  for (const character of original) {
    if (SEPARATOR.test(character)) {
      pendingSpace ??= index;
    } else {
      if (pendingSpace !== undefined && text.length > 0) {
        text += ' ';
        origins.push(pendingSpace);
      }
      pendingSpace = undefined;
      text += character;
      for (let unit = 0; unit < character.length; unit++) origins.push(index + unit);
    }
    index += character.length;
  }
  return { text, origins: Uint32Array.from(origins) };
}

/** The original text behind the cleaned span [start, end). */
export function originalSpan(original: string, cleaned: CleanedText, start: number, end: number): string {
  if (end <= start) return '';
  const from = cleaned.origins[start] ?? 0;
  const to = (cleaned.origins[end - 1] ?? from) + 1;
  return original.slice(from, to);
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
    ...titleOf(document),
    ...('image' in document && document.image !== undefined ? { image: document.image } : {}),
  };
}

/** An article's crawled title (a non-empty `Title` field), for excerpts and keyword search. */
function titleOf(document: RawDocument): { title?: string } {
  const title = document.category === 'articles' ? document.content.Title?.trim() : undefined;
  return title ? { title } : {};
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

/** The cleaned document, with its original text and the map between the two (for chunk excerpts). */
export interface CleanedWithOriginal {
  document: CleanedDocument;
  original: string;
  cleaned: CleanedText;
}

export function cleanDocumentWithOriginal(
  document: RawDocument,
  pipelineVersion: string,
): CleanedWithOriginal {
  const original = documentText(document);
  const cleaned = cleanTextWithOrigins(original);
  return {
    document: {
      ...sourceFieldsOf(document),
      content: cleaned.text,
      contentHash: contentHash(document, pipelineVersion),
    },
    original,
    cleaned,
  };
}
