import { z } from 'zod';
import { Uuid4Schema } from './users.js';

/** The three data categories. A new platform means a new crawler, never a new category. */
export const CATEGORIES = ['articles', 'posts', 'repositories'] as const;
export const CategorySchema = z.enum(CATEGORIES, {
  error: (issue) =>
    `unknown category ${JSON.stringify(issue.input)}; expected one of ${CATEGORIES.join(', ')}`,
});
export type Category = z.infer<typeof CategorySchema>;

export const HttpUrlSchema = z.url({
  protocol: /^https?$/,
  error: 'must be an absolute http(s) URL',
});

/**
 * Crawled content: named text fields (`Title`, `Content`, or `{path: text}` for repositories).
 * `null` marks a field the source did not have (an article without a subtitle).
 */
export const ContentSchema = z
  .record(z.string(), z.string({ error: 'content values must be text (or null)' }).nullable())
  .refine((content) => Object.values(content).some((value) => value !== null && value.trim() !== ''), {
    error: 'content must hold at least one non-empty text field',
  });
export type Content = z.infer<typeof ContentSchema>;

const documentFields = {
  id: Uuid4Schema,
  content: ContentSchema,
  platform: z.string().trim().min(1, 'must name the platform'),
  authorId: Uuid4Schema,
  authorFullName: z.string().trim().min(1, 'must not be empty'),
  /** When the source says it was published (exports and feeds do; crawled pages mostly do not). */
  publishedAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
};

export const ArticleSchema = z.object({
  ...documentFields,
  category: z.literal('articles'),
  link: HttpUrlSchema,
});

export const PostSchema = z.object({
  ...documentFields,
  category: z.literal('posts'),
  link: HttpUrlSchema.optional(),
  image: HttpUrlSchema.optional(),
});

export const RepositorySchema = z.object({
  ...documentFields,
  category: z.literal('repositories'),
  name: z.string().trim().min(1, 'must name the repository'),
  link: HttpUrlSchema,
});

export const RawDocumentSchema = z.discriminatedUnion(
  'category',
  [ArticleSchema, PostSchema, RepositorySchema],
  {
    error: () => `unknown category; expected one of ${CATEGORIES.join(', ')}`,
  },
);

export type Article = z.infer<typeof ArticleSchema>;
export type Post = z.infer<typeof PostSchema>;
export type Repository = z.infer<typeof RepositorySchema>;
export type RawDocument = z.infer<typeof RawDocumentSchema>;
export type DocumentOf<C extends Category> = Extract<RawDocument, { category: C }>;
