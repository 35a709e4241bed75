/**
 * Writes test/fixtures/stylometry-golden.json: the inputs (passages and texts) with the numbers the
 * TypeScript stylometry computes for them. The Python job's tests read the same file and must agree.
 * Run only when the definition of a measure changes on purpose: `npx tsx test/support/write-stylometry-golden.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StyleModel } from '../../lambdas/evaluation/stylometry.js';
import { REPO_ROOT } from './environment.js';

const file = join(REPO_ROOT, 'test', 'fixtures', 'stylometry-golden.json');
const golden = JSON.parse(readFileSync(file, 'utf8')) as {
  about: string;
  passages: { author: string; text: string }[];
  texts: string[];
};
const model = StyleModel.fit(golden.passages);
const expected = golden.texts.map((text) => ({
  scores: Object.fromEntries(model.authors.map((author) => [author, model.score(text, author)])),
  attributed: model.attribute(text) ?? null,
}));
writeFileSync(file, `${JSON.stringify({ ...golden, expected }, null, 2)}\n`);
