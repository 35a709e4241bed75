import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractsOf } from '../../lambdas/datasets/extracts.js';
import { buildDataset } from '../../lambdas/datasets/pipeline.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import type { JsonChatModel, JsonShape } from '../../lambdas/ports/json-chat.js';
import { TEST_DATASET_SETTINGS } from '../support/dataset-settings.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { referenceArticles } from '../support/reference-corpus.js';
import { cleanedArticleStores } from '../support/dataset-stores.js';

/**
 * A small local model as dataset writer: it is asked only for the request each extract answers
 * (instruction back-translation) and, for preference data, its own plain answer. This scripted
 * model writes the failures such a model writes, so the curation step shows what it removes.
 */
class ScriptedBacktranslator implements JsonChatModel {
  readonly model = 'local:scripted';
  readonly shapes: (JsonShape | undefined)[] = [];
  private requests = 0;

  completeJson(prompt: string, shape?: JsonShape) {
    this.shapes.push(shape);
    const usage = { promptTokens: 100, completionTokens: 20 };
    if (prompt.includes('Reply with JSON: {"answer"')) {
      return Promise.resolve({
        text: JSON.stringify({ answer: 'A generic answer from a small model.' }),
        usage,
      });
    }
    const passage = /"""\n([\s\S]*?)\n"""/u.exec(prompt)?.[1] ?? '';
    const n = this.requests++;
    const instruction =
      n === 1
        ? 'use the model use the model use the model use the model'
        : n === 2
          ? `Explain ${passage.split(/\s+/u).slice(0, 14).join(' ')}`
          : n === 3
            ? 'Write an article about [topic] for [audience], in the author’s voice'
            : `Explain topic number ${String(n)} of this series, ${['with examples', 'step by step', 'for beginners', 'in depth'][n % 4] ?? ''} and its trade-offs ${'abcdefghijklmnopqrstuvwxyz'[n] ?? ''}`;
    return Promise.resolve({ text: JSON.stringify({ instruction }), usage });
  }
}

describe.runIf(referenceCorpusAvailable())(
  'datasets by instruction back-translation (the local generator)',
  () => {
    const articles = referenceArticles().slice(0, 4);
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'twin-backtranslation-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const stores = () => cleanedArticleStores(dir, articles);

    it('takes the author’s extract as the answer, removes looping, copied and placeholder requests, and keeps held-out articles out', async () => {
      const { vectors, features, artifacts } = await stores();
      const model = new ScriptedBacktranslator();
      const heldOut = articles[0]?.id ?? '';
      const result = await buildDataset('instruct', { features, model, artifacts }, TEST_DATASET_SETTINGS, {
        limit: 12,
        method: 'backtranslated',
        excludeDocumentIds: new Set([heldOut]),
      });
      const { manifest } = result;
      expect(manifest.sources.map((source) => source.documentId)).not.toContain(heldOut);
      expect(manifest.generation.promptVersion).toBe('dataset-backtranslation-v1');
      // Every request was held to the reply's shape by a grammar.
      expect(model.shapes.every((shape) => shape?.type === 'object')).toBe(true);
      const stages = Object.fromEntries(manifest.counts.map((count) => [count.stage, count.total]));
      expect(stages.generated).toBe(12);
      expect(
        stages['instructions that loop, copy their passage, hold a placeholder or are not prose removed'],
      ).toBe(9);

      const extracts = new Set(
        articles
          .slice(1)
          .flatMap((article) => extractsOf(cleanDocument(article, 'v1')).map((extract) => extract.text)),
      );
      const rows = (await readFile(join(dir, 'artifacts', result.prefix, 'train.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { instruction: string; output: string });
      expect(rows.length).toBe(manifest.splits.train);
      for (const row of rows) {
        expect(extracts.has(row.output)).toBe(true);
        expect(row.instruction).not.toMatch(/use the model use the model|\[topic\]/u);
      }
      await vectors.close();
    });

    it('pairs the author’s extract (chosen) with the small model’s own answer (rejected) for preference data', async () => {
      const { vectors, features, artifacts } = await stores();
      const result = await buildDataset(
        'preference',
        { features, model: new ScriptedBacktranslator(), artifacts },
        TEST_DATASET_SETTINGS,
        { limit: 14, method: 'backtranslated' },
      );
      const rows = (await readFile(join(dir, 'artifacts', result.prefix, 'train.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { prompt: string; chosen: string; rejected: string });
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.rejected).toBe('A generic answer from a small model.');
        expect(row.chosen.length).toBeGreaterThan(500);
      }
      await vectors.close();
    });
  },
);
