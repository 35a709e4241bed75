import { describe, expect, it } from 'vitest';
import {
  acceptableChosen,
  deduplicate,
  minhash,
  occursIn,
  similarity,
} from '../../lambdas/datasets/curation.js';
import { decontaminate, splitByGroup, wordNgrams } from '../../lambdas/datasets/splits.js';

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

  describe('the split by source document', () => {
    // 40 documents of 5 samples each, as the generator makes them (five per extract).
    const rows = Array.from({ length: 200 }, (_, i) => ({
      document: `doc-${String(Math.floor(i / 5))}`,
      n: i,
    }));
    const byDocument = (row: { document: string }) => row.document;

    it('puts every sample of a document on one side, and never a document on both', () => {
      const split = splitByGroup(rows, 0.1, byDocument);
      const trainDocuments = new Set(split.train.map(byDocument));
      expect(split.test.some((row) => trainDocuments.has(row.document))).toBe(false);
      expect(split.groups).toEqual({ train: 36, test: 4, shared: 0 });
      expect(split.test).toHaveLength(20);
      expect(split.train).toHaveLength(180);
    });

    it('splits the same rows the same way whatever their order, and otherwise with another seed', () => {
      const once = splitByGroup(rows, 0.1, byDocument);
      const shuffled = splitByGroup([...rows].reverse(), 0.1, byDocument);
      expect(shuffled.test.map((row) => row.n).sort()).toEqual(once.test.map((row) => row.n).sort());
      expect(splitByGroup(rows, 0.1, byDocument, 'another-seed').test).not.toEqual(once.test);
    });

    it('keeps at least one document on each side, and refuses a single document', () => {
      const two = [
        { document: 'a', n: 1 },
        { document: 'a', n: 2 },
        { document: 'b', n: 3 },
      ];
      const split = splitByGroup(two, 0.9, byDocument);
      expect(split.groups).toEqual({ train: 1, test: 1, shared: 0 });
      expect(() => splitByGroup(two.slice(0, 2), 0.1, byDocument)).toThrow(
        /needs rows from at least 2 source documents, and these come from 1/u,
      );
    });
  });

  describe('decontamination', () => {
    const passage = (words: string) => words;
    const thirteen = 'the agent updates its q table after every step with the reward observed';

    it('drops a test row sharing a 13-word run with a train instruction or answer, and no other', () => {
      const train = [
        { texts: ['How do agents learn?', `In short, ${thirteen}.`], passage: passage('train passage') },
      ];
      const test = [
        { texts: [`Explain why ${thirteen}`, 'Because.'], passage: passage('test passage one') },
        {
          texts: ['How do agents learn?', 'By trial and error, step by step.'],
          passage: passage('test passage two'),
        },
      ];
      const result = decontaminate(
        train,
        test,
        (row) => row.texts,
        (row) => row.passage,
      );
      expect(result).toEqual({ test: [test[1]], sharedText: 1, sharedPassage: 0 });
    });

    it('drops a test row whose source passage overlaps a train passage (the same text under two links)', () => {
      const shared = `${thirteen} and then it explores a little less`;
      const train = [{ texts: ['q1', 'a1'], passage: `Intro. ${shared}` }];
      const test = [
        { texts: ['q2', 'a2'], passage: `${shared}. Outro.` },
        {
          texts: ['q3', 'a3'],
          passage: 'A different article about quantization with GPTQ and its group size.',
        },
      ];
      const result = decontaminate(
        train,
        test,
        (row) => row.texts,
        (row) => row.passage,
      );
      expect(result).toEqual({ test: [test[1]], sharedText: 0, sharedPassage: 1 });
    });

    it('counts 13-word runs after normalisation, and nothing in texts shorter than 13 words', () => {
      expect(wordNgrams(`${thirteen.toUpperCase()}!`)).toEqual(new Set([thirteen]));
      expect(wordNgrams('only a few words here')).toEqual(new Set());
    });
  });
});
