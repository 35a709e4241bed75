import { describe, expect, it } from 'vitest';
import type { RankedChunk } from '../../lambdas/rag/retriever.js';
import {
  buildPrompt,
  estimateTokens,
  PromptBudgetError,
  TWIN_INSTRUCTION,
} from '../../lambdas/rag/prompt.js';
import { titleOf } from '../../lambdas/rag/service.js';
import { scoredChunk } from '../support/documents.js';

function chunk(id: string, content: string, score: number): RankedChunk {
  const link = `https://decodingml.substack.com/p/${id}`;
  return {
    ...scoredChunk({ id, link, content, score, author: 'Paul Iusztin' }),
    searchScore: score,
    queryRanks: [],
  };
}

/** One token per word: easy to reason about in a test. */
const words = (text: string) => text.split(/\s+/u).filter(Boolean).length;

describe('the prompt builder', () => {
  const chunks = ['one', 'two', 'three', 'four'].map((id, rank) =>
    chunk(id, `${id} `.repeat(100).trim(), 1 - rank / 10),
  );

  it('numbers the context with its sources, best first', () => {
    const built = buildPrompt('write about it', chunks.slice(0, 2), {
      maxInputTokens: 10_000,
      countTokens: words,
    });
    expect(built.prompt.system).toBe(TWIN_INSTRUCTION);
    expect(built.prompt.user).toMatch(
      /^Request: write about it\n\nContext:\n\[1\] articles on substack by Paul Iusztin \(https:\/\/decodingml\.substack\.com\/p\/one\)\none one/u,
    );
    expect(built.prompt.user).toContain(
      '\n\n[2] articles on substack by Paul Iusztin (https://decodingml.substack.com/p/two)\ntwo two',
    );
    expect(built.included.map((c) => c.id)).toEqual(['one', 'two']);
  });

  it('leaves out the lowest-ranked chunks whole to fit the budget, and counts the result', () => {
    const fixed = words(TWIN_INSTRUCTION) + words('Request: write about it Context:');
    const perChunk =
      100 + words('[1] articles on substack by Paul Iusztin (https://decodingml.substack.com/p/one)');
    const built = buildPrompt('write about it', chunks, {
      maxInputTokens: fixed + 2 * perChunk + 50,
      countTokens: words,
    });
    expect(built.included.map((c) => c.id)).toEqual(['one', 'two']);
    expect(built.dropped.map((c) => c.id)).toEqual(['three', 'four']);
    expect(built.promptTokens).toBe(fixed + 2 * perChunk);
    // Never a piece of a chunk: each included one is there in full, the others not at all.
    expect(built.prompt.user).toContain(chunks[1]?.content);
    expect(built.prompt.user).not.toContain('three');
  });

  it('says the query alone is too long for the model', () => {
    expect(() =>
      buildPrompt('word '.repeat(500), chunks, { maxInputTokens: 300, countTokens: words }),
    ).toThrow(PromptBudgetError);
  });

  it('has nothing but the request when nothing was found', () => {
    expect(buildPrompt('q', [], { maxInputTokens: 1000, countTokens: words }).prompt.user).toBe(
      'Request: q\n\nContext:\n(no relevant writing was found)',
    );
  });

  it('estimates tokens generously (3 bytes each)', () => {
    expect(estimateTokens('abcdefghi')).toBe(3);
    expect(estimateTokens('é')).toBe(1);
  });
});

describe('source titles', () => {
  it('come from the repository name or the link slug', () => {
    expect(titleOf({ name: 'llm-twin-course', platform: 'github', category: 'repositories' })).toBe(
      'llm-twin-course',
    );
    expect(
      titleOf({
        link: 'https://medium.com/decodingml/an-end-to-end-framework-2cc6bb01141f',
        platform: 'medium',
        category: 'articles',
      }),
    ).toBe('An end to end framework');
    expect(titleOf({ link: 'https://x.com/', platform: 'x', category: 'posts' })).toBe('posts on x');
  });
});
