import { z } from 'zod';
import {
  ContentSchema,
  HttpUrlSchema,
  type Category,
  type DocumentOf,
  type RawDocument,
} from './documents.js';
import { Uuid4Schema, type User } from './users.js';

/**
 * The warehouse's stored shape, shared by every warehouse adapter and by the import/export files.
 * It is the book's shape (snake_case fields, `_id` as a UUID4 string), so a warehouse exported by the
 * book's tooling imports unchanged, and key order follows the book's so exports match byte for byte.
 */

export const UserRecordSchema = z
  .object({
    first_name: z.string().trim().min(1, 'must not be empty'),
    last_name: z.string().trim().min(1, 'must not be empty'),
    _id: Uuid4Schema,
  })
  .transform((r): User => ({ id: r._id, firstName: r.first_name, lastName: r.last_name }));
export type UserRecord = z.input<typeof UserRecordSchema>;

const recordFields = {
  content: ContentSchema,
  platform: z.string().trim().min(1, 'must name the platform'),
  author_id: Uuid4Schema,
  author_full_name: z.string().trim().min(1, 'must not be empty'),
  _id: Uuid4Schema,
  published_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).nullish(),
};

type RecordFields = {
  _id: string;
  content: RawDocument['content'];
  platform: string;
  author_id: string;
  author_full_name: string;
  published_at?: string | null | undefined;
};

function commonFields(r: RecordFields) {
  return {
    id: r._id,
    content: r.content,
    platform: r.platform,
    authorId: r.author_id,
    authorFullName: r.author_full_name,
    ...(r.published_at ? { publishedAt: r.published_at } : {}),
  };
}

export const RECORD_SCHEMAS = {
  articles: z
    .object({ ...recordFields, link: HttpUrlSchema })
    .transform((r): DocumentOf<'articles'> => ({ ...commonFields(r), category: 'articles', link: r.link })),
  posts: z
    .object({
      ...recordFields,
      image: HttpUrlSchema.nullish(),
      link: HttpUrlSchema.nullish(),
    })
    .transform((r): DocumentOf<'posts'> => ({
      ...commonFields(r),
      category: 'posts',
      ...(r.link ? { link: r.link } : {}),
      ...(r.image ? { image: r.image } : {}),
    })),
  repositories: z
    .object({
      ...recordFields,
      name: z.string().trim().min(1, 'must name the repository'),
      link: HttpUrlSchema,
    })
    .transform((r): DocumentOf<'repositories'> => ({
      ...commonFields(r),
      category: 'repositories',
      name: r.name,
      link: r.link,
    })),
} as const satisfies Record<Category, z.ZodType>;

export type DocumentRecord = z.input<(typeof RECORD_SCHEMAS)[Category]>;

export function userToRecord(user: User): UserRecord {
  return { first_name: user.firstName, last_name: user.lastName, _id: user.id };
}

export function documentToRecord(doc: RawDocument): DocumentRecord {
  const head = {
    content: doc.content,
    platform: doc.platform,
    author_id: doc.authorId,
    author_full_name: doc.authorFullName,
  };
  switch (doc.category) {
    case 'articles':
      return { ...head, link: doc.link, _id: doc.id, ...publishedOf(doc) };
    case 'posts':
      // Absent optionals are left out rather than stored as null: a sparse unique index on `link`
      // then ignores link-less posts instead of treating every null as the same link.
      return {
        ...head,
        ...(doc.image === undefined ? {} : { image: doc.image }),
        ...(doc.link === undefined ? {} : { link: doc.link }),
        _id: doc.id,
        ...publishedOf(doc),
      };
    case 'repositories':
      return { ...head, name: doc.name, link: doc.link, _id: doc.id, ...publishedOf(doc) };
  }
}

/** Only when known: the book's records have no date, and their exports must stay byte for byte. */
function publishedOf(doc: RawDocument): { published_at?: string } {
  return doc.publishedAt === undefined ? {} : { published_at: doc.publishedAt };
}

/** Parses a stored or imported record; throws a ZodError naming the failing field. */
export function documentFromRecord<C extends Category>(category: C, record: unknown): DocumentOf<C> {
  return RECORD_SCHEMAS[category].parse(record) as DocumentOf<C>;
}

export function userFromRecord(record: unknown): User {
  return UserRecordSchema.parse(record);
}
