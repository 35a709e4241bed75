import { createHash } from 'node:crypto';
import { InvalidInputError } from '../domain/index.js';
import { normalize } from './curation.js';

export const TEST_FRACTION = { instruct: 0.1, preference: 0.05 } as const;
export const SPLIT_SEED = 'llm-twin-split-v1';
/** Word n-grams this long shared with the training data mark a test row as contaminated (13: the usual choice). */
export const CONTAMINATION_NGRAM = 13;

export interface GroupSplit<T> {
  train: T[];
  test: T[];
  /** Source groups (documents) on each side, and how many are on both: 0, checked after splitting. */
  groups: { train: number; test: number; shared: number };
}

/**
 * A seeded train/test split by group (the source document): every row of a group lands on the same
 * side, so a test answer never comes from a passage the model was trained on. Groups are ranked by a
 * hash of the seed and their key; the lowest ranked go to test until it holds the fraction of rows
 * (at least one group, never all). The same rows always split the same way, whatever their order.
 * With fewer than two groups there is no honest split, and it refuses.
 */
export function splitByGroup<T>(
  rows: readonly T[],
  testFraction: number,
  groupOf: (row: T) => string,
  seed = SPLIT_SEED,
): GroupSplit<T> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = groupOf(row);
    const members = groups.get(key) ?? [];
    members.push(row);
    groups.set(key, members);
  }
  if (groups.size < 2) {
    throw new InvalidInputError(
      `a train/test split needs rows from at least 2 source documents, and these come from ${String(groups.size)}; ` +
        'add documents (twin etl, twin features) or drop --limit',
      'documents',
    );
  }
  const rank = (key: string) => createHash('sha256').update(seed).update('\n').update(key).digest('hex');
  const ranked = [...groups.keys()].sort((a, b) => rank(a).localeCompare(rank(b)));
  const target = Math.max(1, Math.round(rows.length * testFraction));
  const testGroups = new Set<string>();
  let testRows = 0;
  for (const key of ranked.slice(0, -1)) {
    if (testRows >= target) break;
    testGroups.add(key);
    testRows += groups.get(key)?.length ?? 0;
  }
  const train = rows.filter((row) => !testGroups.has(groupOf(row)));
  const test = rows.filter((row) => testGroups.has(groupOf(row)));
  const trainGroups = new Set(train.map(groupOf));
  return {
    train,
    test,
    groups: {
      train: trainGroups.size,
      test: testGroups.size,
      shared: [...testGroups].filter((key) => trainGroups.has(key)).length,
    },
  };
}

/** The text's word n-grams after normalisation (none for a text shorter than n words). */
export function wordNgrams(text: string, n = CONTAMINATION_NGRAM): Set<string> {
  const words = normalize(text).split(' ').filter(Boolean);
  const grams = new Set<string>();
  for (let i = 0; i + n <= words.length; i++) grams.add(words.slice(i, i + n).join(' '));
  return grams;
}

export interface Decontamination<T> {
  test: T[];
  /** Test rows dropped for sharing a long n-gram of an instruction or answer with a train row. */
  sharedText: number;
  /** Test rows dropped because their source passage overlaps a train row's (the same text elsewhere). */
  sharedPassage: number;
}

/**
 * Drops the test rows the model could have seen in training, independently of deduplication (which
 * compares instructions only, by near-duplicate similarity): a test row whose instruction or answers
 * share a 13-word sequence with any train row's, or whose source passage shares one with a train
 * row's passage (an article cross-posted under two links, an extract boundary).
 */
export function decontaminate<T>(
  train: readonly T[],
  test: readonly T[],
  textsOf: (row: T) => readonly string[],
  passageOf: (row: T) => string,
): Decontamination<T> {
  const trainText = new Set<string>();
  for (const row of train)
    for (const text of textsOf(row)) for (const gram of wordNgrams(text)) trainText.add(gram);
  const trainPassages = new Set<string>();
  for (const passage of new Set(train.map(passageOf)))
    for (const gram of wordNgrams(passage)) trainPassages.add(gram);
  const overlaps = (text: string, grams: ReadonlySet<string>) =>
    [...wordNgrams(text)].some((gram) => grams.has(gram));

  const result: Decontamination<T> = { test: [], sharedText: 0, sharedPassage: 0 };
  for (const row of test) {
    if (textsOf(row).some((text) => overlaps(text, trainText))) result.sharedText += 1;
    else if (overlaps(passageOf(row), trainPassages)) result.sharedPassage += 1;
    else result.test.push(row);
  }
  return result;
}
