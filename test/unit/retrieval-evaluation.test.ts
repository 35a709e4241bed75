import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScoredChunk } from '../../lambdas/domain/index.js';
import { scoredChunk } from '../support/documents.js';
import {
  evidenceShare,
  readGoldenSet,
  scoreQuestion,
  trigrams,
  type GoldenQuestion,
} from '../../lambdas/evaluation/retrieval.js';

const question: GoldenQuestion = {
  id: 'q1',
  query: 'How do I pick epsilon?',
  author_full_name: 'Maxime Labonne',
  mentions_author: false,
  relevant_links: ['https://a.example/right', 'https://a.example/copy'],
  evidence: 'We can **decrease the value of epsilon** at the end of each episode.',
  kind: 'howto',
};

const chunk = (link: string, content: string, score: number): ScoredChunk =>
  scoredChunk({ link, content, score });

describe('retrieval evaluation metrics', () => {
  it('ranks documents by their best chunk and finds the first relevant rank', () => {
    const result = scoreQuestion(
      question,
      [
        chunk('https://a.example/wrong', 'unrelated', 0.9),
        chunk('https://a.example/wrong', 'unrelated again', 0.85),
        chunk(
          'https://a.example/right',
          'We can decrease the value of epsilon at the end of each episode',
          0.8,
        ),
        chunk('https://a.example/other', 'x', 0.7),
        chunk('https://a.example/copy', 'copy', 0.6),
      ],
      false,
    );
    expect(result.rankedLinks).toEqual([
      'https://a.example/wrong',
      'https://a.example/right',
      'https://a.example/other',
      'https://a.example/copy',
    ]);
    expect(result.firstRelevantRank).toBe(2);
    expect(result.recall).toEqual({ 3: 0.5, 9: 1 });
    expect(result.evidenceHit).toEqual({ 3: true, 9: true });
  });

  it('counts the evidence as held only by a relevant chunk with most of its words, compared after cleaning', () => {
    const evidence = trigrams(question.evidence);
    expect(evidenceShare(evidence, 'we can DECREASE the value of epsilon at the end of each episode!')).toBe(
      1,
    );
    expect(evidenceShare(evidence, 'we can decrease the value')).toBeLessThan(0.5);
    const elsewhere = scoreQuestion(
      question,
      [chunk('https://a.example/wrong', question.evidence, 1)],
      false,
    );
    expect(elsewhere.evidenceHit[3]).toBe(false);
    expect(elsewhere.firstRelevantRank).toBeNull();
  });

  it('reads a JSON Lines question set, naming the line and field of a bad row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twin-golden-'));
    try {
      const good = join(dir, 'good.jsonl');
      await writeFile(good, `${JSON.stringify(question)}\n\n${JSON.stringify({ ...question, id: 'q2' })}\n`);
      expect((await readGoldenSet(good)).map((row) => row.id)).toEqual(['q1', 'q2']);

      const bad = join(dir, 'bad.jsonl');
      await writeFile(
        bad,
        `${JSON.stringify(question)}\n${JSON.stringify({ ...question, relevant_links: [] })}\n`,
      );
      await expect(readGoldenSet(bad)).rejects.toThrow(/bad\.jsonl:2: relevant_links/u);
      await writeFile(bad, '{not json\n');
      await expect(readGoldenSet(bad)).rejects.toThrow(/bad\.jsonl:1: not valid JSON/u);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
