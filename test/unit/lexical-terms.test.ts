import { describe, expect, it } from 'vitest';
import { lexicalTerms, stemPlural } from '../../lambdas/features/lexical-terms.js';
import {
  documentSparseVector,
  querySparseVector,
  termIndex,
} from '../../lambdas/adapters/vector-store/bm25-sparse.js';
import { reciprocalRankFusion } from '../../lambdas/shared/rank-fusion.js';

describe('the keyword-search tokenizer', () => {
  it('lower-cases, splits on anything that is not a letter or digit, and drops English stop words', () => {
    expect(lexicalTerms('How do I fine-tune Llama-3 with QLoRA?')).toEqual([
      'fine',
      'tune',
      'llama',
      '3',
      'qlora',
    ]);
  });

  it('reads the cleaned text and the raw query alike: contractions leave no stray letters', () => {
    expect(lexicalTerms("It's what you'll master")).toEqual(['master']);
    expect(lexicalTerms('It s what you ll master')).toEqual(['master']);
  });

  it('folds the styled letters of social posts (mathematical bold, italic) onto plain ones', () => {
    expect(lexicalTerms('𝗦𝘁𝗲𝗽 𝟭: check the 𝘶𝘴𝘦𝘳 input')).toEqual(['step', '1', 'check', 'user', 'input']);
  });

  it('splits words of any script and keeps their combining marks', () => {
    expect(lexicalTerms('Привет мир, हिन्दी भाषा, Café')).toEqual(['привет', 'мир', 'हिन्दी', 'भाषा', 'café']);
  });

  it('keeps repeats (term frequency counts) and drops over-long runs such as hashes', () => {
    expect(lexicalTerms(`LoRA and LoRA ${'a'.repeat(41)}`)).toEqual(['lora', 'lora']);
  });

  it.each([
    ['models', 'model'],
    ['queries', 'query'],
    ['indexes', 'index'],
    ['batches', 'batch'],
    ['classes', 'class'],
    ['features', 'feature'],
    ['uses', 'use'],
    ['llms', 'llm'],
    ['status', 'status'],
    ['class', 'class'],
    ['analysis', 'analysis'],
    ['corpus', 'corpus'],
    ['gas', 'gas'],
    ['embedding', 'embedding'],
  ])('stems the plural %s to %s and nothing else', (word, stem) => {
    expect(stemPlural(word)).toBe(stem);
  });
});

describe('BM25 sparse vectors for Qdrant', () => {
  it('gives each term a stable 32-bit dimension', () => {
    expect(termIndex('lora')).toBe(termIndex('lora'));
    expect(termIndex('lora')).not.toBe(termIndex('qlora'));
    for (const term of ['a', 'lora', 'हिन्दी', 'x'.repeat(40)]) {
      expect(Number.isInteger(termIndex(term)) && termIndex(term) >= 0 && termIndex(term) < 2 ** 32).toBe(
        true,
      );
    }
  });

  it('weighs a document term by saturated frequency, discounting long passages', () => {
    const short = documentSparseVector(['lora', 'lora', 'rank']);
    const lora = short.values[short.indices.indexOf(termIndex('lora'))] ?? 0;
    const rank = short.values[short.indices.indexOf(termIndex('rank'))] ?? 0;
    expect(lora).toBeGreaterThan(rank);
    expect(lora).toBeLessThan(2 * rank); // saturation: twice the count is less than twice the weight
    const long = documentSparseVector(['rank', ...Array.from({ length: 400 }, (_, i) => `w${String(i)}`)]);
    expect(long.values[long.indices.indexOf(termIndex('rank'))] ?? 0).toBeLessThan(rank);
    expect(short.indices).toEqual([...short.indices].sort((a, b) => a - b));
  });

  it('names each query term once, with weight 1 (Qdrant applies the idf)', () => {
    const query = querySparseVector(['lora', 'rank', 'lora']);
    expect(query.indices).toHaveLength(2);
    expect(query.values).toEqual([1, 1]);
  });
});

describe('reciprocal rank fusion', () => {
  it('sums 1 / (k + rank) over the lists holding an item, best first, with its rank in each list', () => {
    const fused = reciprocalRankFusion(
      [
        ['a', 'b', 'c'],
        ['c', 'a'],
      ],
      (id) => id,
      60,
    );
    expect(fused.map(({ item }) => item)).toEqual(['a', 'c', 'b']);
    expect(fused[0]).toEqual({ item: 'a', score: 1 / 61 + 1 / 62, ranks: [1, 2] });
    expect(fused[2]).toEqual({ item: 'b', score: 1 / 62, ranks: [2, undefined] });
  });

  it('counts an item listed twice in one list once, at its best rank', () => {
    const [only] = reciprocalRankFusion([['a', 'a']], (id) => id, 10);
    expect(only).toEqual({ item: 'a', score: 1 / 11, ranks: [1] });
  });
});
