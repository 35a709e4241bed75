import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  copiedShare,
  groundedness,
  sentenceSupport,
  SUPPORTED_SIMILARITY,
} from '../../lambdas/evaluation/groundedness.js';
import { REPO_ROOT } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';

const labelled = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'groundedness-labelled.json'), 'utf8'),
) as { sources: string[]; sentences: { text: string; supported: boolean }[] };

describe.runIf(embeddingModelAvailable())('groundedness by similarity with the embedding model', () => {
  it('separates the labelled handful: every supported sentence at or above the threshold, every unsupported one below', async () => {
    const embedder = await realEmbedder();
    for (const sentence of labelled.sentences) {
      const [similarity] = await sentenceSupport(embedder, sentence.text, labelled.sources);
      expect((similarity ?? 0) >= SUPPORTED_SIMILARITY, `${sentence.text} (${String(similarity)})`).toBe(
        sentence.supported,
      );
    }
  });

  it('scores an answer by the share of its sentences the sources support', async () => {
    const embedder = await realEmbedder();
    const supported = labelled.sentences.filter((sentence) => sentence.supported).slice(0, 3);
    const unsupported = labelled.sentences.filter((sentence) => !sentence.supported).slice(0, 1);
    const answer = [...supported, ...unsupported].map((sentence) => sentence.text).join(' ');
    expect(await groundedness(embedder, answer, labelled.sources)).toBe(0.75);
    expect(await groundedness(embedder, '', labelled.sources)).toBe(0);
  });
});

describe('copied share', () => {
  it('counts the word 8-grams pasted from a source, not those written anew', () => {
    const source = labelled.sources[0] ?? '';
    expect(copiedShare(source, [source])).toBe(1);
    expect(copiedShare(labelled.sentences[1]?.text ?? '', [source])).toBe(0);
    expect(copiedShare('too short to judge', [source])).toBe(0);
  });
});
