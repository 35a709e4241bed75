import { describe, expect, it } from 'vitest';
import type { JsonChatModel } from '../../lambdas/ports/json-chat.js';
import { expandQuery } from '../../lambdas/rag/query-expansion.js';
import { findMentionedAuthor } from '../../lambdas/rag/author-mentions.js';
import type { AuthorDirectory } from '../../lambdas/ports/warehouse.js';
import { matchAuthorName, selfQuery } from '../../lambdas/rag/self-query.js';

/** A query model that always gives the same reply (or failure), and remembers the prompts. */
function replying(reply: string | Error): JsonChatModel & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    model: 'test',
    prompts,
    completeJson(prompt) {
      prompts.push(prompt);
      return reply instanceof Error
        ? Promise.reject(reply)
        : Promise.resolve({ text: reply, usage: { promptTokens: 0, completionTokens: 0 } });
    },
  };
}

const query = 'How should I monitor a model in production?';

describe('query expansion', () => {
  it('keeps the original first and adds the rewrites asked for', async () => {
    const model = replying(
      JSON.stringify({ queries: ['What to watch in a deployed model?', 'Production ML monitoring'] }),
    );
    expect(await expandQuery(model, query, 3)).toEqual({
      queries: [query, 'What to watch in a deployed model?', 'Production ML monitoring'],
    });
    expect(model.prompts[0]).toContain('exactly 2 strings');
  });

  it('drops blanks, numbering, repeats of the original and rewrites beyond the number asked', async () => {
    const model = replying(
      JSON.stringify({
        queries: [
          '',
          '1. What to watch in a deployed model?',
          ` ${query.toUpperCase()} `,
          '- B',
          'C',
          'D',
          42,
        ],
      }),
    );
    expect((await expandQuery(model, query, 3)).queries).toEqual([
      query,
      'What to watch in a deployed model?',
      'B',
    ]);
  });

  it('reads a plain list when the model ignores the JSON format', async () => {
    const model = replying('1) First rewrite\n\n2) Second rewrite\n#next-question#Third rewrite');
    expect((await expandQuery(model, query, 4)).queries).toEqual([
      query,
      'First rewrite',
      'Second rewrite',
      'Third rewrite',
    ]);
  });

  it('says when it got fewer rewrites than asked', async () => {
    const result = await expandQuery(replying(JSON.stringify({ queries: ['Only one'] })), query, 4);
    expect(result).toEqual({
      queries: [query, 'Only one'],
      note: 'query expansion gave 1 usable rewrites of 3 asked',
    });
  });

  it('falls back to the original query when the model fails', async () => {
    const result = await expandQuery(replying(new Error('HTTP 500')), query, 3);
    expect(result.queries).toEqual([query]);
    expect(result.note).toContain('query expansion failed (HTTP 500)');
  });

  it('asks nothing when one query is all that is wanted', async () => {
    const model = replying('{}');
    expect(await expandQuery(model, query, 1)).toEqual({ queries: [query] });
    expect(model.prompts).toHaveLength(0);
  });
});

describe('self-query', () => {
  const paul = { id: '6fa7d8a2-5c2e-4b51-9d0e-1f2a3b4c5d6e', firstName: 'Paul', lastName: 'Iusztin' };
  const directory: AuthorDirectory = {
    findUserByName: (name) =>
      Promise.resolve(name.firstName === 'Paul' && name.lastName === 'Iusztin' ? paul : undefined),
    findUserById: (id) => Promise.resolve(id === paul.id ? paul : undefined),
    listUsers: () => Promise.resolve([paul]),
  };

  it('turns a named author into a filter', async () => {
    expect(
      await selfQuery(replying('{"author": "Paul Iusztin"}'), directory, 'As Paul Iusztin, write…'),
    ).toEqual({
      authorId: paul.id,
      authorName: 'Paul Iusztin',
      source: 'self-query',
    });
  });

  it('accepts a user id', async () => {
    const filter = await selfQuery(
      replying(JSON.stringify({ author: paul.id.toUpperCase() })),
      directory,
      'q',
    );
    expect(filter.authorId).toBe(paul.id);
  });

  it('means no filter for none, null, an unknown author, garbage or a failure', async () => {
    expect(await selfQuery(replying('{"author": null}'), directory, 'q')).toEqual({ source: 'none' });
    expect(await selfQuery(replying('{"author": "none"}'), directory, 'q')).toEqual({ source: 'none' });
    expect((await selfQuery(replying('{"author": "Ada Lovelace"}'), directory, 'q')).note).toBe(
      'author "Ada Lovelace" is not in the warehouse; searching all authors',
    );
    expect(await selfQuery(replying('Paul, I think'), directory, 'q')).toEqual({
      source: 'none',
      note: 'self-query reply was unreadable; matched names instead',
    });
    expect((await selfQuery(replying(new Error('timeout')), directory, 'q')).note).toBe(
      'self-query failed (timeout); matched names instead',
    );
  });

  it('falls back to matching known names when the query model fails', async () => {
    expect(await selfQuery(replying(new Error('timeout')), directory, "Paul Iusztin's view on RAG")).toEqual({
      authorId: paul.id,
      authorName: 'Paul Iusztin',
      source: 'name-match',
      note: 'self-query failed (timeout); matched names instead',
    });
  });
});

describe('offline author detection', () => {
  const user = (firstName: string, lastName: string) => ({
    id: `${firstName}-${lastName}`,
    firstName,
    lastName,
  });
  const paul = user('Paul', 'Iusztin');
  const maxime = user('Maxime', 'Labonne');
  const zoe = user('Zoë', 'Müller');
  const users = [paul, maxime, zoe];

  it.each([
    ['Write like Paul Iusztin about feature stores', paul],
    ["Maxime Labonne's take on model merging", maxime],
    ['MAXIME LABONNE’S notes on GPTQ', maxime],
    ['a post in the voice of paul iusztin', paul],
    ['Write as Zoe Muller would', zoe],
    ['What does Zoë Müller think?', zoe],
  ])('finds the author named in %j', (request, expected) => {
    expect(findMentionedAuthor(request, users)).toEqual({ kind: 'one', user: expected });
  });

  it.each([
    'Write about GPTQ quantization',
    'Paul wrote about LLMOps', // a first name alone is not enough
    'Labonne-style merging', // nor a last name
    'Pauline Iusztinova on RAG', // nor a name that only contains a known one
  ])('finds no author in %j', (request) => {
    expect(findMentionedAuthor(request, users)).toEqual({ kind: 'none' });
  });

  it('names both authors when a request names two, and filters by neither', async () => {
    expect(findMentionedAuthor('Compare Paul Iusztin and Maxime Labonne on RAG', users)).toEqual({
      kind: 'several',
      names: ['Maxime Labonne', 'Paul Iusztin'],
    });
    const directory = { listUsers: () => Promise.resolve(users) } as unknown as AuthorDirectory;
    expect(await matchAuthorName(directory, 'Compare Paul Iusztin and Maxime Labonne')).toEqual({
      source: 'none',
      note: 'the request names several authors (Maxime Labonne, Paul Iusztin); searching all authors',
    });
  });

  it('says so when the request asks for someone the warehouse does not know', async () => {
    expect(findMentionedAuthor('Write like Ada Lovelace about engines', users)).toEqual({
      kind: 'unknown',
      name: 'Ada Lovelace',
    });
    const directory = { listUsers: () => Promise.resolve(users) } as unknown as AuthorDirectory;
    expect(await matchAuthorName(directory, "Jane Doe's advice on chunking")).toEqual({
      source: 'none',
      note: 'author "Jane Doe" is not in the warehouse; searching all authors',
      unknown: true, // a scoped caller is refused here (403), as for another author's name
    });
  });
});
