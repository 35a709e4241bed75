import { describe, expect, it } from 'vitest';
import type { ConversationTurn } from '../../lambdas/ports/conversations.js';
import type { JsonChatModel } from '../../lambdas/ports/json-chat.js';
import { followUp, rewriteWithModel } from '../../lambdas/rag/follow-up.js';
import { buildPrompt } from '../../lambdas/rag/prompt.js';

const turn = (index: number, query: string, extra: Partial<ConversationTurn> = {}): ConversationTurn => ({
  index,
  at: '2026-12-01T09:00:00.000Z',
  query,
  answer: `Draft ${String(index)} about ${query}`,
  sources: [],
  ...extra,
});

const replying = (text: string | Error): JsonChatModel =>
  ({
    model: 'stand-in',
    completeJson: () => (text instanceof Error ? Promise.reject(text) : Promise.resolve({ text })),
  }) as unknown as JsonChatModel;

describe('a follow-up without a query model', () => {
  it('stands alone when it starts the conversation', () => {
    expect(followUp({ query: 'Write about RAG' }, [], 2000)).toEqual({
      query: 'Write about RAG',
      history: [],
    });
  });

  it("carries the previous turn's standalone query, and keeps the conversation's author", () => {
    const turns = [
      turn(0, 'Write about RAG evaluation', { author: 'Paul Iusztin' }),
      turn(1, 'shorter', { rewrittenQuery: 'Write about RAG evaluation\nshorter', author: 'Paul Iusztin' }),
    ];

    const next = followUp({ query: 'now as a LinkedIn post' }, turns, 2000);

    expect(next).toMatchObject({
      query: 'Write about RAG evaluation\nshorter\nnow as a LinkedIn post',
      rewrittenFrom: 'now as a LinkedIn post',
      author: 'Paul Iusztin',
    });
    expect(next.history.map((prior) => prior.query)).toEqual(['Write about RAG evaluation', 'shorter']);
  });

  it('lets the request name another author, and cuts the carried topic from its older end', () => {
    const next = followUp(
      { query: 'as Maxime would', author: 'Maxime Labonne' },
      [turn(0, 'x'.repeat(500))],
      120,
    );
    expect(next.author).toBe('Maxime Labonne');
    expect(next.query).toHaveLength(120);
    expect(next.query.endsWith('\nas Maxime would')).toBe(true);
  });
});

describe('a follow-up rewritten by the query model', () => {
  const history = [{ query: 'Write about vector databases', answer: 'A draft.' }];

  it("takes the model's standalone query", async () => {
    const model = replying('{"query": "vector databases, as a LinkedIn post"}');
    expect(await rewriteWithModel(model, 'now as a LinkedIn post', history)).toBe(
      'vector databases, as a LinkedIn post',
    );
  });

  it('gives up (the caller keeps the carried topic) when the model fails or answers out of shape', async () => {
    expect(await rewriteWithModel(replying(new Error('timeout')), 'shorter', history)).toBeUndefined();
    expect(await rewriteWithModel(replying('Sure! Here is a query.'), 'shorter', history)).toBeUndefined();
    expect(await rewriteWithModel(replying('{"query": ""}'), 'shorter', history)).toBeUndefined();
  });
});

describe('the prompt of a follow-up', () => {
  const countTokens = (text: string) => text.length;
  const history = [0, 1, 2].map((i) => ({
    query: `request ${String(i)}`,
    answer: `answer ${String(i)} `.repeat(20),
  }));

  it('carries the earlier turns, most recent kept first, each whole, within half the budget', () => {
    const all = buildPrompt('shorter', [], { maxInputTokens: 4000, countTokens }, history);
    const two = buildPrompt('shorter', [], { maxInputTokens: 2100, countTokens }, history);

    expect(all.turnsIncluded).toBe(3);
    expect(two.turnsIncluded).toBe(2);
    expect(two.prompt.user).not.toContain('request 0');
    expect(two.prompt.user).toContain(`You answered: ${history[2]?.answer ?? ''}`);
    expect(two.prompt.user.indexOf('Asked: request 1')).toBeLessThan(
      two.prompt.user.indexOf('Request: shorter'),
    );
    expect(countTokens(two.prompt.system) + countTokens(two.prompt.user)).toBeLessThanOrEqual(2100);
  });

  it('asks as before when there is no conversation', () => {
    expect(buildPrompt('Write about RAG', [], { maxInputTokens: 4000, countTokens }).prompt.user).toBe(
      'Request: Write about RAG\n\nContext:\n(no relevant writing was found)',
    );
  });
});
