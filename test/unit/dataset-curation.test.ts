import { describe, expect, it } from 'vitest';
import {
  acceptableChosen,
  deduplicate,
  minhash,
  occursIn,
  similarity,
} from '../../lambdas/datasets/curation.js';
import { decontaminate, splitRows } from '../../lambdas/datasets/splits.js';

describe('dataset curation', () => {
  it("keeps only chosen answers the book's filter accepts: 100+ characters, a capital, a full stop", () => {
    const long = 'A'.padEnd(99, 'x');
    expect(acceptableChosen(`${long}.`)).toBe(true);
    expect(acceptableChosen(long)).toBe(false);
    expect(acceptableChosen(`a${long.slice(1)}.`)).toBe(false);
    expect(acceptableChosen('Short.')).toBe(false);
    expect(acceptableChosen(`Élan ${long}!`)).toBe(true);
  });

  it('accepts an extracted answer only when it really is in the extract, whatever the spacing or case', () => {
    const extract = 'Fine-tuning is not magic. You need clean data, and you need to evaluate it!';
    expect(occursIn('you need CLEAN data,   and you need to evaluate it', extract)).toBe(true);
    expect(occursIn('You need good data and evaluation.', extract)).toBe(false);
    expect(occursIn('', extract)).toBe(false);
  });

  it('estimates the similarity of texts from their MinHash signatures', () => {
    const a = minhash('How do I deploy a fine-tuned LLM on a serverless AWS stack with autoscaling?');
    const b = minhash('How do I deploy a fine-tuned LLM on a serverless AWS stack with autoscaling enabled?');
    const c = minhash('What is the best recipe for sourdough bread?');
    expect(similarity(a, a)).toBe(1);
    expect(similarity(a, b)).toBeGreaterThan(0.7);
    expect(similarity(a, c)).toBeLessThan(0.1);
  });

  it('removes exact duplicates (after normalisation) and near duplicates, keeping the first', () => {
    const rows = [
      'How do I deploy a fine-tuned LLM on a serverless AWS stack with autoscaling and monitoring?',
      'how do I deploy a fine-tuned LLM on a serverless AWS stack, with autoscaling and monitoring',
      'How do I deploy a fine-tuned LLM on a serverless AWS stack with autoscaling and monitoring today?',
      'What makes a good evaluation set for retrieval?',
    ];
    const result = deduplicate(rows, (row) => row, 0.8);
    expect(result).toEqual({ kept: [rows[0], rows[3]], exact: 1, near: 1 });
  });

  it('splits the same rows the same way whatever their order, with the requested test share', () => {
    const rows = Array.from({ length: 200 }, (_, i) => `row-${String(i)}`);
    const once = splitRows(rows, 0.1, (row) => row);
    const shuffled = splitRows([...rows].reverse(), 0.1, (row) => row);
    expect(once.test).toHaveLength(20);
    expect(once.train).toHaveLength(180);
    expect([...shuffled.test].sort()).toEqual([...once.test].sort());
    expect(splitRows(rows, 0.1, (row) => row, 'another-seed').test).not.toEqual(once.test);
  });

  it('removes from the test split every instruction that (nearly) repeats a train instruction', () => {
    const train = [
      'How should I chunk long articles before embedding them for retrieval augmented generation?',
    ];
    const test = [
      'How should I chunk long articles before embedding them for retrieval augmented generation today?',
      'HOW SHOULD I CHUNK LONG ARTICLES BEFORE EMBEDDING THEM FOR RETRIEVAL AUGMENTED GENERATION',
      'Which metric tells whether a reranker helps?',
    ];
    expect(decontaminate(train, test, (row) => row, 0.8)).toEqual({ test: [test[2]], removed: 2 });
  });
});
