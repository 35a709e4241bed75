import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  cleanDocument,
  cleanDocumentWithOriginal,
  cleanText,
  cleanTextWithOrigins,
  contentHash,
  documentText,
  originalSpan,
} from '../../lambdas/features/cleaning.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { article, post, repository } from '../support/documents.js';
import { referenceArticles } from '../support/reference-corpus.js';

const author = { id: '6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b', firstName: 'Ada', lastName: 'Lovelace' };

describe('cleaning', () => {
  it('keeps words, digits, underscores and .,!? and turns everything else into single spaces', () => {
    expect(cleanText('## Fine-tuning *LLMs* (part 2): [read](http://x.io)!\n\n\tNow?')).toBe(
      'Fine tuning LLMs part 2 read http x.io ! Now?',
    );
    expect(cleanText('snake_case, 3.14 & 50% — done.')).toBe('snake_case, 3.14 50 done.');
  });

  it('keeps letters of every script, including combining vowel signs, and drops emoji and symbols', () => {
    expect(cleanText('Привет, мир! 你好世界 مرحبا हिन्दी ภาษาไทย')).toBe(
      'Привет, мир! 你好世界 مرحبا हिन्दी ภาษาไทย',
    );
    expect(cleanText('Ship it 🚀🔥 → now ✅ ©2024 ™')).toBe('Ship it now 2024');
    expect(cleanText('Café déjà vu')).toBe('Café déjà vu');
  });

  it('keeps the Unicode "bold" and "italic" letters that LinkedIn-style posts are written in', () => {
    expect(cleanText('it jumped to >8 𝘩𝘰𝘶𝘳𝘴 — 𝗯𝗼𝗹𝗱 claim')).toBe('it jumped to 8 𝘩𝘰𝘶𝘳𝘴 𝗯𝗼𝗹𝗱 claim');
  });

  it('joins all content fields, skipping absent ones, and prefixes repository files with their path', () => {
    const withSubtitle = article(author, 'https://example.com/a', 'Body text.');
    expect(documentText(withSubtitle)).toBe('Title of https://example.com/a\n\nBody text.\n\nen');
    expect(documentText(repository(author, 'https://github.com/ada/demo'))).toBe(
      'README.md\n# Demo\n\n\nsrc/main.py\nprint("hello")\n',
    );
  });

  it('keeps the raw document identity and metadata on the cleaned document', () => {
    const raw = post(author, 'https://www.linkedin.com/posts/ada-1');
    const cleaned = cleanDocument(raw, 'v1');
    expect(cleaned).toMatchObject({
      documentId: raw.id,
      category: 'posts',
      platform: 'linkedin',
      authorId: author.id,
      authorFullName: 'Ada Lovelace',
      link: raw.link,
      content: 'A short post https www.linkedin.com posts ada 1',
    });
  });

  it('hashes content and pipeline version, so either change marks the document for reprocessing', () => {
    const raw = article(author, 'https://example.com/a', 'Body.');
    expect(contentHash(raw, 'v1')).toBe(contentHash({ ...raw }, 'v1'));
    expect(contentHash(raw, 'v2')).not.toBe(contentHash(raw, 'v1'));
    expect(contentHash({ ...raw, content: { ...raw.content, Content: 'Body!' } }, 'v1')).not.toBe(
      contentHash(raw, 'v1'),
    );
  });

  it.runIf(referenceCorpusAvailable())('cleans every real article to plain text that keeps its words', () => {
    for (const raw of referenceArticles()) {
      const cleaned = cleanDocument(raw, 'v1').content;
      expect(cleaned).not.toMatch(/[#*[\]()<>|`]/u);
      expect(cleaned).not.toMatch(/\s{2}/u);
      expect(cleaned.length).toBeGreaterThan(200);
      // A word of the title survives cleaning.
      const titleWord = (raw.content.Title ?? '').split(/[^\p{L}]+/u).find((word) => word.length > 4);
      if (titleWord) expect(cleaned).toContain(titleWord);
    }
  });

  describe('remembering where the cleaned text came from', () => {
    it('gives exactly the cleaned text, for any text', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
          expect(cleanTextWithOrigins(text).text).toBe(cleanText(text));
        }),
        { numRuns: 500 },
      );
      expect(cleanTextWithOrigins('  it jumped 🚀 to 𝗯𝗼𝗹𝗱 \n').text).toBe(
        cleanText('  it jumped 🚀 to 𝗯𝗼𝗹𝗱 \n'),
      );
    });

    it('maps a span of the cleaned text back to the words as written, apostrophes and markup kept', () => {
      const original = "## Why?\n\nIt's **always** good: you'll [master](https://x.io) it.";
      const cleaned = cleanTextWithOrigins(original);
      expect(cleaned.text).toBe('Why? It s always good you ll master https x.io it.');
      const start = cleaned.text.indexOf('It s');
      const end = cleaned.text.indexOf(' https');
      expect(originalSpan(original, cleaned, start, end)).toBe("It's **always** good: you'll [master");
      expect(originalSpan(original, cleaned, 0, cleaned.text.length)).toBe(original.slice(3));
    });

    it('keeps the document as cleanDocument makes it, with its title', () => {
      const raw = article(author, 'https://example.com/a', "It's here.");
      const { document, original } = cleanDocumentWithOriginal(raw, 'v1');
      expect(document).toEqual({ ...cleanDocument(raw, 'v1'), title: 'Title of https://example.com/a' });
      expect(original).toBe(documentText(raw));
    });

    it.runIf(referenceCorpusAvailable())('matches cleanText on every real article', () => {
      for (const raw of referenceArticles()) {
        const text = documentText(raw);
        expect(cleanTextWithOrigins(text).text).toBe(cleanText(text));
      }
    });
  });
});
