import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import type { Extract } from '../../lambdas/datasets/extracts.js';
import type { GenerationReport, InstructSample } from '../../lambdas/datasets/generation.js';
import { finishDataset, type DatasetInputs } from '../../lambdas/datasets/pipeline.js';
import { TEST_FRACTION, splitByGroup } from '../../lambdas/datasets/splits.js';
import { TEST_DATASET_SETTINGS } from '../support/dataset-settings.js';

/** Words drawn by a fixed generator, so no two crafted texts look alike by accident. */
const VOCABULARY = (
  'apple river stone cloud engine violet harbor pencil garden rocket silver candle meadow planet ' +
  'bridge lantern orchard falcon marble tunnel copper island jacket kettle ladder mirror needle ' +
  'oyster parrot quartz saddle timber umbrella walnut yogurt zipper anchor bucket cactus dolphin ' +
  'feather glacier hammock igloo jigsaw koala lemon magnet nectar olive pepper quiver raccoon ' +
  'sapphire thistle unicorn velvet willow xylophone yacht zebra acorn basil cobalt dune ember fjord'
).split(' ');
let state = 7;
const word = () => {
  state = (state * 48_271) % 2_147_483_647;
  return VOCABULARY[state % VOCABULARY.length] ?? 'apple';
};
const words = (n: number) => Array.from({ length: n }, word).join(' ');

/** The sentence planted in one answer of every document: 13 words, so it marks contamination. */
const PLANTED = 'the twin learns its voice from every article the author has ever written';
/** The passage all documents but doc-0 carry, as an article cross-posted under many links. */
const CROSS_POSTED = `${words(30)}.`;

function crafted(): { inputs: DatasetInputs; generated: GenerationReport<'instruct'> } {
  const extracts: Extract[] = Array.from({ length: 20 }, (_, doc) => ({
    id: `extract-${String(doc)}`,
    documentId: `doc-${String(doc)}`,
    category: 'articles',
    authorId: 'author',
    authorFullName: 'Ada Lovelace',
    text: doc === 0 ? `${words(30)}.` : CROSS_POSTED,
  }));
  const samples: InstructSample[] = extracts.flatMap((extract) =>
    Array.from({ length: 5 }, (_, i) => ({
      extractId: extract.id,
      category: 'articles' as const,
      instruction: `${words(6)}?`,
      answer: i === 0 ? `${words(3)} ${PLANTED}.` : `${words(8)}.`,
    })),
  );
  return {
    inputs: {
      extracts,
      sources: extracts.map((extract) => ({
        documentId: extract.documentId,
        contentHash: 'h',
        category: 'articles',
        authorFullName: 'Ada Lovelace',
      })),
    },
    generated: {
      samples,
      requests: 20,
      malformed: 0,
      failed: 0,
      failures: [],
      usage: { promptTokens: 0, completionTokens: 0 },
    },
  };
}

describe('decontamination in the dataset pipeline', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-decontamination-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes exactly the test rows that share text or a passage with train, and counts each', async () => {
    const { inputs, generated } = crafted();
    const artifacts = new FolderArtifactStore(join(dir, 'artifacts'));
    // The documents the pipeline's split sends to test (the same seeded function it runs).
    const documentOf = (row: InstructSample) => row.extractId.replace('extract', 'doc');
    const testDocuments = new Set(
      splitByGroup(generated.samples, TEST_FRACTION.instruct, documentOf).test.map(documentOf),
    );
    const crossPostedInTest = [...testDocuments].filter((doc) => doc !== 'doc-0').length;

    const { manifest, prefix } = await finishDataset('instruct', inputs, generated, {
      model: 'crafted',
      settings: TEST_DATASET_SETTINGS,
      artifacts,
    });

    expect(testDocuments.size).toBe(2);
    expect(crossPostedInTest).toBeGreaterThan(0);
    expect(manifest.splits.decontamination).toEqual({
      // One planted answer per test document.
      sharedText: testDocuments.size,
      // The four other rows of each cross-posted test document: their passage is also in train.
      sharedPassage: 4 * crossPostedInTest,
    });
    expect(manifest.splits.decontaminated).toBe(testDocuments.size + 4 * crossPostedInTest);
    expect(manifest.splits.test).toBe(5 * testDocuments.size - manifest.splits.decontaminated);
    expect(manifest.splits.train).toBe(100 - 5 * testDocuments.size);
    const test = (await artifacts.read(`${prefix}/test.jsonl`)) ?? '';
    expect(test).not.toContain(PLANTED);
  });
});
