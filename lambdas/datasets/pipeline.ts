import { createHash } from 'node:crypto';
import type { Category } from '../domain/index.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { DatasetSettings } from '../settings/index.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import { acceptableChosen, deduplicate, occursIn, usableInstruction } from './curation.js';
import { EXTRACT_CATEGORIES, extractsOf, type Extract } from './extracts.js';
import {
  generateSamples,
  promptVersionOf,
  type GenerationMethod,
  type GenerationReport,
  type InstructSample,
  type PreferenceSample,
} from './generation.js';
import { PROMPT_VERSION, type DatasetKind } from './prompts.js';
import { checkGeneration, checkSize } from './quality.js';
import { CONTAMINATION_NGRAM, SPLIT_SEED, TEST_FRACTION, decontaminate, splitByGroup } from './splits.js';

type Counts = Partial<Record<Category, number>>;

export interface DatasetManifest {
  kind: DatasetKind;
  version: string;
  createdAt: string;
  format: { columns: string[]; files: { train: string; test: string } };
  sources: { documentId: string; contentHash: string; category: Category; authorFullName: string }[];
  generation: {
    model: string;
    promptVersion: string;
    temperature: number;
    maxTokens: number;
    requests: number;
    malformed: number;
    failed: number;
    usage: { promptTokens: number; completionTokens: number };
    estimatedCostUsd: number;
  };
  settings: {
    dedupThreshold: number;
    testFraction: number;
    splitSeed: string;
    contaminationNgram: number;
    maxFailureRate: number;
    minSamples: number;
    limit?: number;
  };
  /** Rows per category after each step, in order. */
  counts: { stage: string; byCategory: Counts; total: number }[];
  splits: {
    train: number;
    test: number;
    /** Source documents on each side; `sharedDocuments` is checked after splitting and is always 0. */
    documents: { train: number; test: number };
    sharedDocuments: number;
    /** Test rows dropped by decontamination, in all and by reason. */
    decontaminated: number;
    decontamination: { sharedText: number; sharedPassage: number };
  };
}

export interface DatasetResult {
  manifest: DatasetManifest;
  /** Where the artifact is, and whether it was already there (same inputs, same version). */
  prefix: string;
  reused: boolean;
}

export interface DatasetOptions {
  authorIds?: readonly string[];
  /** Use only the first N extracts (smoke runs, cost control). */
  limit?: number;
  /** Documents never to learn from: the writing evaluation's held-out articles. */
  excludeDocumentIds?: ReadonlySet<string>;
  /** How examples are made (default: the book's generation by a capable LLM). */
  method?: GenerationMethod;
}

type Row = InstructSample | PreferenceSample;

function countByCategory(rows: readonly { category: Category }[]): { byCategory: Counts; total: number } {
  const byCategory: Counts = {};
  for (const row of rows) byCategory[row.category] = (byCategory[row.category] ?? 0) + 1;
  return { byCategory, total: rows.length };
}

export type DatasetSource = DatasetManifest['sources'][number];

export interface DatasetInputs {
  extracts: Extract[];
  sources: DatasetSource[];
}

/** The extracts a dataset is generated from: the cleaned articles and posts of the selected authors. */
export async function collectExtracts(
  features: FeatureStore,
  options: DatasetOptions = {},
): Promise<DatasetInputs> {
  const filter = options.authorIds ? { authorIds: options.authorIds } : {};
  const sources: DatasetSource[] = [];
  let extracts: Extract[] = [];
  for (const category of EXTRACT_CATEGORIES) {
    const documents = [];
    for await (const document of features.cleanedDocuments(category, filter)) documents.push(document);
    documents.sort((a, b) => a.documentId.localeCompare(b.documentId));
    for (const document of documents) {
      if (options.excludeDocumentIds?.has(document.documentId)) continue;
      const own = extractsOf(document);
      if (own.length === 0) continue;
      sources.push({
        documentId: document.documentId,
        contentHash: document.contentHash,
        category,
        authorFullName: document.authorFullName,
      });
      extracts.push(...own);
    }
  }
  if (options.limit !== undefined) extracts = extracts.slice(0, options.limit);
  if (extracts.length === 0) {
    throw new Error(
      'no cleaned articles or posts to learn from: run `twin features` first (or check --authors)',
    );
  }
  const used = new Set(extracts.map((extract) => extract.documentId));
  return { extracts, sources: sources.filter((source) => used.has(source.documentId)) };
}

/**
 * Builds a versioned training dataset from the cleaned snapshot: extracts → LLM generation (failing
 * when too many requests fail) → curation (preference filters, verbatim check, exact and
 * near-duplicate removal) → seeded split by source document → decontamination → a minimum size →
 * JSONL + manifest in the artifact store. The version is a hash of the data and its
 * lineage: running again on the same inputs finds the existing artifact instead of writing a copy.
 */
export async function buildDataset(
  kind: DatasetKind,
  dependencies: { features: FeatureStore; model: JsonChatModel; artifacts: ArtifactStore },
  settings: DatasetSettings,
  options: DatasetOptions = {},
  onProgress: ProgressListener = ignoreProgress,
): Promise<DatasetResult> {
  const inputs = await collectExtracts(dependencies.features, options);
  const generated = await generateSamples(
    kind,
    dependencies.model,
    inputs.extracts,
    settings.concurrency,
    onProgress,
    options.method,
  );
  return finishDataset(kind, inputs, generated, {
    model: dependencies.model.model,
    promptVersion: promptVersionOf(options.method ?? 'generated'),
    settings,
    artifacts: dependencies.artifacts,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  });
}

/** Curates, splits and stores generated samples (the last step of a local run and of the AWS workflow). */
export async function finishDataset<K extends DatasetKind>(
  kind: K,
  inputs: DatasetInputs,
  generated: GenerationReport<K>,
  context: {
    model: string;
    settings: DatasetSettings;
    artifacts: ArtifactStore;
    limit?: number;
    /** Which prompts made the samples (default: the book's generation prompts). */
    promptVersion?: string;
  },
): Promise<DatasetResult> {
  const { settings, artifacts } = context;
  checkGeneration(generated, settings.maxFailureRate);
  const extractsById = new Map(inputs.extracts.map((extract) => [extract.id, extract]));
  const extractText = (row: Row) => extractsById.get(row.extractId)?.text ?? '';
  const counts: DatasetManifest['counts'] = [{ stage: 'extracts', ...countByCategory(inputs.extracts) }];
  counts.push({ stage: 'generated', ...countByCategory(generated.samples) });

  let rows: Row[] = generated.samples.filter((row) => usableInstruction(row.instruction, extractText(row)));
  counts.push({
    stage: 'instructions that loop, copy their passage, hold a placeholder or are not prose removed',
    ...countByCategory(rows),
  });
  if (kind === 'preference') {
    const preference = rows as PreferenceSample[];
    const filtered = preference.filter((row) => acceptableChosen(row.extractedAnswer));
    counts.push({ stage: 'chosen >= 100 chars, capitalised, full stop', ...countByCategory(filtered) });
    const verbatim = filtered.filter((row) => occursIn(row.extractedAnswer, extractText(row)));
    counts.push({ stage: 'extracted answer found in its extract', ...countByCategory(verbatim) });
    rows = verbatim;
  }
  const deduplicated = deduplicate(rows, (row) => row.instruction, settings.dedupThreshold);
  counts.push({
    stage: 'exact and near-duplicate instructions removed',
    ...countByCategory(deduplicated.kept),
  });

  // By source document: the samples of one passage never straddle the split.
  const split = splitByGroup(
    deduplicated.kept,
    TEST_FRACTION[kind],
    (row) => extractsById.get(row.extractId)?.documentId ?? row.extractId,
  );
  const clean = decontaminate(split.train, split.test, textsOf, extractText);
  counts.push({
    stage: 'test rows sharing text or a passage with train removed',
    ...countByCategory([...split.train, ...clean.test]),
  });
  checkSize({ train: split.train.length, test: clean.test.length }, settings.minSamples);

  const toJson = kind === 'instruct' ? instructRow : preferenceRow;
  const train = jsonl(split.train.map((row) => toJson(row as never)));
  const test = jsonl(clean.test.map((row) => toJson(row as never)));
  const lineage = {
    kind,
    sources: inputs.sources,
    model: context.model,
    promptVersion: context.promptVersion ?? PROMPT_VERSION,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    dedupThreshold: settings.dedupThreshold,
  };
  const version = createHash('sha256')
    .update(JSON.stringify(lineage))
    .update(train)
    .update(test)
    .digest('hex')
    .slice(0, 16);
  const prefix = `datasets/${kind}/${version}`;

  const manifest: DatasetManifest = {
    kind,
    version,
    createdAt: new Date().toISOString(),
    format: {
      columns: kind === 'instruct' ? ['instruction', 'output'] : ['prompt', 'chosen', 'rejected'],
      files: { train: `${prefix}/train.jsonl`, test: `${prefix}/test.jsonl` },
    },
    sources: inputs.sources,
    generation: {
      model: context.model,
      promptVersion: context.promptVersion ?? PROMPT_VERSION,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      requests: generated.requests,
      malformed: generated.malformed,
      failed: generated.failed,
      usage: generated.usage,
      estimatedCostUsd:
        (generated.usage.promptTokens * settings.pricePerMillionInput +
          generated.usage.completionTokens * settings.pricePerMillionOutput) /
        1_000_000,
    },
    settings: {
      dedupThreshold: settings.dedupThreshold,
      testFraction: TEST_FRACTION[kind],
      splitSeed: SPLIT_SEED,
      contaminationNgram: CONTAMINATION_NGRAM,
      maxFailureRate: settings.maxFailureRate,
      minSamples: settings.minSamples,
      ...(context.limit !== undefined ? { limit: context.limit } : {}),
    },
    counts,
    splits: {
      train: split.train.length,
      test: clean.test.length,
      documents: { train: split.groups.train, test: split.groups.test },
      sharedDocuments: split.groups.shared,
      decontaminated: clean.sharedText + clean.sharedPassage,
      decontamination: { sharedText: clean.sharedText, sharedPassage: clean.sharedPassage },
    },
  };

  const manifestKey = `${prefix}/manifest.json`;
  const existing = await artifacts.read(manifestKey);
  if (existing !== undefined)
    return { manifest: JSON.parse(existing) as DatasetManifest, prefix, reused: true };
  await artifacts.write(`${prefix}/train.jsonl`, train);
  await artifacts.write(`${prefix}/test.jsonl`, test);
  // Written last: a manifest means the version is complete.
  await artifacts.write(manifestKey, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, prefix, reused: false };
}

/** The texts of a row the model trains on or is judged by. */
function textsOf(row: Row): string[] {
  return 'answer' in row
    ? [row.instruction, row.answer]
    : [row.instruction, row.generatedAnswer, row.extractedAnswer];
}

function instructRow(row: InstructSample) {
  return { instruction: row.instruction, output: row.answer };
}

function preferenceRow(row: PreferenceSample) {
  return { prompt: row.instruction, chosen: row.extractedAnswer, rejected: row.generatedAnswer };
}

function jsonl(rows: readonly object[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length > 0 ? '\n' : '');
}
