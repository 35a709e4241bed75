import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rocAuc, StyleModel } from '../../lambdas/evaluation/stylometry.js';
import {
  buildWritingSet,
  MIN_PROFILE_ARTICLES,
  prosePassages,
  topicOf,
  type WritingArticle,
} from '../../lambdas/evaluation/writing-set.js';
import { REFERENCE_WAREHOUSE_DIR, REPO_ROOT, referenceCorpusAvailable } from '../support/environment.js';

interface Golden {
  passages: { author: string; text: string }[];
  texts: string[];
  expected: { scores: Record<string, { cosine: number; delta: number }>; attributed: string | null }[];
}

describe('stylometry', () => {
  it('computes the golden numbers the SageMaker job is pinned to (sagemaker/tests/test_stylometry.py)', () => {
    const golden = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'stylometry-golden.json'), 'utf8'),
    ) as Golden;
    const model = StyleModel.fit(golden.passages);
    golden.texts.forEach((text, index) => {
      const expected = golden.expected[index];
      expect(model.attribute(text) ?? null).toBe(expected?.attributed);
      for (const [author, score] of Object.entries(expected?.scores ?? {})) {
        expect(model.score(text, author).cosine).toBeCloseTo(score.cosine, 9);
        expect(model.score(text, author).delta).toBeCloseTo(score.delta, 9);
      }
    });
  });

  it('scores an empty text as sharing nothing with any author, and attributes it to none', () => {
    const model = StyleModel.fit([
      { author: 'A', text: 'short words here and there' },
      { author: 'B', text: 'other words here and there' },
    ]);
    expect(model.score('', 'A').cosine).toBe(0);
    expect(model.attribute('')).toBeUndefined();
  });

  it('reads the verification AUC as the chance a real passage outscores an output (0.5: indistinguishable)', () => {
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.5, 0.5], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0.1], [0.9])).toBe(0);
  });
});

describe('the held-out writing set', () => {
  const article = (id: string, author: string, paragraphs: number): WritingArticle => ({
    id,
    author,
    title: `${author} - Notes ${id}`,
    content: [
      'Menu\n\n* Home\n* About',
      ...Array.from(
        { length: paragraphs },
        (_, index) =>
          `Paragraph ${String(index)} of ${id} explains one idea in plain words, with enough of them to count as prose that a reader would recognise as the author writing at length.`,
      ),
    ].join('\n\n'),
  });

  it('keeps prose paragraphs, drops menus, and cuts passages at about 150 words', () => {
    const passages = prosePassages(article('x', 'A', 12).content);
    expect(passages.length).toBeGreaterThan(1);
    expect(passages.every((passage) => !passage.includes('Menu'))).toBe(true);
    expect(passages[0]?.split(/\s+/u)).toHaveLength(150);
  });

  it('takes author names and newsletter tags out of the topic', () => {
    expect(topicOf({ title: 'Maxime Labonne - Fine-tune Llama 3.1', author: 'Maxime Labonne' })).toBe(
      'Fine-tune Llama 3.1',
    );
    expect(
      topicOf({ title: '4-bit Quantization with GPTQ - Maxime Labonne', author: 'Maxime Labonne' }),
    ).toBe('4-bit Quantization with GPTQ');
    expect(topicOf({ title: 'DML: Top 6 ML Platform Features', author: 'Paul Iusztin' })).toBe(
      'Top 6 ML Platform Features',
    );
  });

  it('holds out the same articles whatever order they come in, and never profiles them', () => {
    const articles = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].flatMap((id) => [
      article(`${id}1`, 'A', 6),
      article(`${id}2`, 'B', 6),
    ]);
    const first = buildWritingSet(articles, 2);
    const again = buildWritingSet([...articles].reverse(), 2);
    expect([...again.heldOutIds].sort()).toEqual([...first.heldOutIds].sort());
    expect(first.requests).toHaveLength(4);
    const heldOutText = first.requests.map((request) => request.reference);
    expect(first.profilePassages.some((passage) => heldOutText.includes(passage.text))).toBe(false);
  });

  it('refuses an author with too few articles, naming the counts', () => {
    const articles = [
      ...Array.from({ length: 9 }, (_, index) => article(`a${String(index)}`, 'A', 6)),
      ...Array.from({ length: 4 }, (_, index) => article(`b${String(index)}`, 'B', 6)),
    ];
    expect(() => buildWritingSet(articles, 3)).toThrow(
      `B has 4 articles with prose; holding out 3 and keeping ${String(MIN_PROFILE_ARTICLES)} for the profile needs ${String(3 + MIN_PROFILE_ARTICLES)}`,
    );
  });
});

describe.runIf(referenceCorpusAvailable())('stylometry on the reference corpus', () => {
  it("attributes every held-out article's passages to its author from the other articles' profiles", () => {
    const raw = JSON.parse(readFileSync(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'), 'utf8')) as {
      _id: string;
      author_full_name: string;
      content: { Title: string; Content: string };
    }[];
    const set = buildWritingSet(
      raw.map((row) => ({
        id: row._id,
        author: row.author_full_name,
        title: row.content.Title,
        content: row.content.Content,
      })),
      8,
    );
    const model = StyleModel.fit(set.profilePassages);
    const passages = set.requests.flatMap((request) =>
      prosePassages(request.article.content).map((text) => ({ author: request.author, text })),
    );
    const right = passages.filter((passage) => model.attribute(passage.text) === passage.author).length;
    expect(right / passages.length).toBeGreaterThanOrEqual(0.9);
  });
});
