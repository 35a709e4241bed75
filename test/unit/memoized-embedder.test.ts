import { describe, expect, it } from 'vitest';
import { memoizedEmbedder } from '../../lambdas/evaluation/memoized-embedder.js';
import type { Embedder } from '../../lambdas/ports/embedder.js';

describe('the evaluation’s memoized embedder', () => {
  it('sends each distinct text to the model once and answers repeats, in order, from memory', async () => {
    const sent: string[][] = [];
    const model: Embedder = {
      model: { id: 'counting', size: 1, maxInputLength: 512 },
      tokenizer: { maxInputTokens: 512, specialTokens: 2, countTokens: (text) => text.length },
      embed: (texts) => {
        sent.push([...texts]);
        return Promise.resolve(texts.map((text) => [text.length]));
      },
    };
    const embedder = memoizedEmbedder(model);

    expect(await embedder.embed(['ab', 'abc', 'ab'])).toEqual([[2], [3], [2]]);
    expect(await embedder.embed(['abc', 'abcd'])).toEqual([[3], [4]]);
    expect(await embedder.embed(['abcd'])).toEqual([[4]]);
    expect(sent).toEqual([['ab', 'abc'], ['abcd']]);
  });
});
