import { randomUUID } from 'node:crypto';
import type { DocumentOf, ScoredChunk, User } from '../../lambdas/domain/index.js';

/** Small documents of our own for unit and contract tests (the real corpus is used elsewhere). */
export function article(author: User, link: string, text = `Notes on ${link}`): DocumentOf<'articles'> {
  return {
    category: 'articles',
    id: randomUUID(),
    content: { Title: `Title of ${link}`, Subtitle: null, Content: text, language: 'en' },
    platform: 'example.com',
    authorId: author.id,
    authorFullName: `${author.firstName} ${author.lastName}`,
    link,
  };
}

export function post(author: User, link?: string): DocumentOf<'posts'> {
  return {
    category: 'posts',
    id: randomUUID(),
    content: { text: `A short post ${link ?? 'without a link'}` },
    platform: 'linkedin',
    authorId: author.id,
    authorFullName: `${author.firstName} ${author.lastName}`,
    ...(link ? { link } : {}),
  };
}

export function repository(author: User, link: string): DocumentOf<'repositories'> {
  return {
    category: 'repositories',
    id: randomUUID(),
    content: { 'README.md': '# Demo\n', 'src/main.py': 'print("hello")\n' },
    platform: 'github',
    authorId: author.id,
    authorFullName: `${author.firstName} ${author.lastName}`,
    name: link.split('/').at(-1) ?? 'repo',
    link,
  };
}

/** A scored chunk of an article, as a search returns it, for tests of what comes after the search. */
export function scoredChunk(fields: {
  id?: string;
  link: string;
  content: string;
  score: number;
  author?: string;
}): ScoredChunk {
  return {
    id: fields.id ?? `${fields.link}-${String(fields.score)}`,
    documentId: fields.link,
    category: 'articles',
    platform: 'substack',
    authorId: 'a',
    authorFullName: fields.author ?? 'Maxime Labonne',
    link: fields.link,
    content: fields.content,
    original: fields.content,
    index: 0,
    start: 0,
    end: fields.content.length,
    chunking: {
      strategy: 'sentences',
      sizeChars: [1000, 2000],
      overlapChars: 0,
      maxTokens: 256,
      overlapTokens: 50,
    },
    score: fields.score,
    embeddingModel: { id: 'm', size: 3, maxInputLength: 256 },
  };
}
