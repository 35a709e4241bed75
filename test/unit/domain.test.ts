import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CategorySchema,
  documentFromRecord,
  documentToRecord,
  fullNameOf,
  RawDocumentSchema,
  splitFullName,
  userFromRecord,
} from '../../lambdas/domain/index.js';

const author = { id: randomUUID(), firstName: 'Ada', lastName: 'Lovelace' };
const validArticle = {
  category: 'articles',
  id: randomUUID(),
  content: { Title: 'On engines', Subtitle: null, Content: 'The engine weaves algebraic patterns.' },
  platform: 'medium',
  authorId: author.id,
  authorFullName: 'Ada Lovelace',
  link: 'https://medium.com/@ada/on-engines',
};

function problemsOf(value: unknown): string[] {
  const result = RawDocumentSchema.safeParse(value);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('author names', () => {
  it('takes the last word as the last name and the rest as the first name', () => {
    expect(splitFullName('Paul Iusztin')).toEqual({ firstName: 'Paul', lastName: 'Iusztin' });
    expect(splitFullName('  Maxime  Marie   Labonne ')).toEqual({
      firstName: 'Maxime Marie',
      lastName: 'Labonne',
    });
  });

  it('uses a single word as both first and last name, and prints it once', () => {
    const name = splitFullName('Plato');
    expect(name).toEqual({ firstName: 'Plato', lastName: 'Plato' });
    expect(fullNameOf(name)).toBe('Plato');
  });

  it('rejects an empty name', () => {
    expect(() => splitFullName('   ')).toThrow(/at least one word/);
  });
});

describe('raw documents', () => {
  it('accepts a valid article, including a null subtitle', () => {
    expect(problemsOf(validArticle)).toEqual([]);
  });

  it('rejects an unknown category with the categories it knows', () => {
    expect(problemsOf({ ...validArticle, category: 'videos' }).join()).toMatch(
      /articles, posts, repositories/,
    );
    expect(CategorySchema.safeParse('videos').error?.issues[0]?.message).toMatch(/unknown category "videos"/);
  });

  it('rejects an article without a link', () => {
    const { link: _link, ...withoutLink } = validArticle;
    expect(problemsOf(withoutLink)).toEqual([expect.stringMatching(/^link: /)]);
  });

  it('rejects links that are not http(s)', () => {
    expect(problemsOf({ ...validArticle, link: 'file:///etc/passwd' })).toEqual([
      'link: must be an absolute http(s) URL',
    ]);
  });

  it('rejects content values that are not text', () => {
    expect(problemsOf({ ...validArticle, content: { Title: 'x', Content: 3 } })).toEqual([
      'content.Content: content values must be text (or null)',
    ]);
  });

  it('rejects content without any text', () => {
    expect(problemsOf({ ...validArticle, content: { Title: '  ', Subtitle: null } })).toEqual([
      'content: content must hold at least one non-empty text field',
    ]);
  });

  it('rejects ids that are not UUID4 strings', () => {
    expect(problemsOf({ ...validArticle, id: '42' })).toEqual(['id: must be a UUID version 4 string']);
  });

  it('requires a name on repositories and allows posts without link or image', () => {
    const base = { ...validArticle, content: { 'README.md': '# hi' } };
    expect(problemsOf({ ...base, category: 'repositories' })).toEqual([expect.stringMatching(/^name: /)]);
    const { link: _link, ...post } = { ...base, category: 'posts' };
    expect(problemsOf(post)).toEqual([]);
  });
});

describe('warehouse records (the stored and exported shape)', () => {
  it('round-trips a document through its record, with the fields in the book order', () => {
    const record = documentToRecord(RawDocumentSchema.parse(validArticle));
    expect(Object.keys(record)).toEqual([
      'content',
      'platform',
      'author_id',
      'author_full_name',
      'link',
      '_id',
    ]);
    expect(documentFromRecord('articles', record)).toEqual(validArticle);
  });

  it('leaves absent post links and images out of the record, and reads nulls as absent', () => {
    const post = { ...validArticle, category: 'posts' as const, link: undefined };
    const record = documentToRecord(RawDocumentSchema.parse(post));
    expect(record).not.toHaveProperty('link');
    expect(record).not.toHaveProperty('image');
    const fromBook = { ...record, link: null, image: null };
    expect(documentFromRecord('posts', fromBook)).not.toHaveProperty('link');
  });

  it('maps user records to users', () => {
    const id = randomUUID();
    expect(userFromRecord({ first_name: 'Paul', last_name: 'Iusztin', _id: id })).toEqual({
      id,
      firstName: 'Paul',
      lastName: 'Iusztin',
    });
    expect(() => userFromRecord({ first_name: 'Paul', _id: id })).toThrow(/last_name/);
  });
});
