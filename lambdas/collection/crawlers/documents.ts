import { randomUUID } from 'node:crypto';
import {
  ArticleSchema,
  describeZodIssues,
  fullNameOf,
  type DocumentOf,
  type User,
} from '../../domain/index.js';
import type { ExtractedArticle } from '../html.js';
import { CrawlError } from './types.js';

/** A crawled article, validated like any other input before it can reach the warehouse. */
export function articleDocument(
  author: User,
  platform: string,
  link: string,
  article: ExtractedArticle,
  publishedAt?: string,
): DocumentOf<'articles'> {
  const parsed = ArticleSchema.safeParse({
    category: 'articles',
    id: randomUUID(),
    content: {
      Title: article.title,
      Subtitle: article.subtitle,
      Content: article.content,
      language: article.language,
    },
    platform,
    authorId: author.id,
    authorFullName: fullNameOf(author),
    link,
    ...(publishedAt ? { publishedAt } : {}),
  });
  if (!parsed.success)
    throw new CrawlError(
      `the page did not give a valid article: ${describeZodIssues(parsed.error).join('; ')}`,
    );
  return parsed.data;
}
