import { createHash, randomUUID } from 'node:crypto';
import {
  ArticleSchema,
  describeZodIssues,
  fullNameOf,
  PostSchema,
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

/**
 * A UUID (version-4 shaped) derived from the author and the post, so that collecting a post twice
 * stores it once even when it has no link.
 */
export function postId(authorId: string, identity: string): string {
  const hex = createHash('sha256').update(authorId).update('\n').update(identity).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface PostFields {
  text: string;
  link?: string;
  image?: string;
  publishedAt?: string;
}

/** A collected post, validated; `identity` (its link, or its text) makes its id stable. */
export function postDocument(
  author: User,
  platform: string,
  identity: string,
  post: PostFields,
): DocumentOf<'posts'> {
  const parsed = PostSchema.safeParse({
    category: 'posts',
    id: postId(author.id, identity),
    content: { text: post.text },
    platform,
    authorId: author.id,
    authorFullName: fullNameOf(author),
    ...(post.link ? { link: post.link } : {}),
    ...(post.image ? { image: post.image } : {}),
    ...(post.publishedAt ? { publishedAt: post.publishedAt } : {}),
  });
  if (!parsed.success)
    throw new CrawlError(
      `a ${platform} post did not validate: ${describeZodIssues(parsed.error).join('; ')}`,
    );
  return parsed.data;
}
