import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  InvalidInputError,
  describeZodIssues,
  fusionName,
  fusionOf,
  type ScoredChunk,
} from '../domain/index.js';
import { cleanText } from '../features/cleaning.js';
import type { ContextRetriever, RetrievalOptions } from '../rag/retriever.js';
import { TraceRecorder } from '../rag/trace.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';

/**
 * One labelled question of a retrieval evaluation set (JSON Lines). `author_full_name` and
 * `mentions_author` only slice the results: the evaluated retriever never sees them.
 */
export const GoldenQuestionSchema = z.object({
  id: z.string().min(1),
  query: z.string().min(1),
  author_full_name: z.string().min(1),
  mentions_author: z.boolean(),
  relevant_links: z.array(z.string().min(1)).min(1),
  evidence: z.string().min(1),
  kind: z.string().min(1),
});
export type GoldenQuestion = z.infer<typeof GoldenQuestionSchema>;

export async function readGoldenSet(file: string): Promise<GoldenQuestion[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const questions: GoldenQuestion[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new InvalidInputError(`${file}:${String(index + 1)}: not valid JSON`, 'golden');
    }
    const parsed = GoldenQuestionSchema.safeParse(json);
    if (!parsed.success) {
      throw new InvalidInputError(
        `${file}:${String(index + 1)}: ${describeZodIssues(parsed.error).join('; ')}`,
        'golden',
      );
    }
    questions.push(parsed.data);
  });
  if (questions.length === 0) throw new InvalidInputError(`${file} holds no questions`, 'golden');
  return questions;
}

/** Chunks retrieved per question by default: enough documents to rank beyond the largest cutoff. */
export const SEARCH_DEPTH = 50;
export const CUTOFFS = [3, 9] as const;
/** A chunk "contains the evidence" when it holds at least this share of the evidence's word trigrams. */
export const EVIDENCE_THRESHOLD = 0.5;

export interface QuestionResult {
  id: string;
  kind: string;
  /** Whether the retriever filtered by an author (its own decision: self-query or name match). */
  filtered: boolean;
  /** The author it filtered by, when it did. */
  filteredBy?: string;
  /** Links of the ranked documents, best first (deduplicated from the chunk ranking). */
  rankedLinks: string[];
  /** 1-based rank of the first relevant document, or null when none was retrieved. */
  firstRelevantRank: number | null;
  recall: Record<number, number>;
  evidenceHit: Record<number, boolean>;
}

export interface MetricSummary {
  questions: number;
  recall: Record<number, number>;
  hitRate: Record<number, number>;
  mrr: number;
  evidenceHitRate: Record<number, number>;
}

export interface RetrievalEvaluation {
  model: string;
  searchDepth: number;
  /** The retriever settings evaluated, as the service would run them. */
  settings: Omit<RetrievalOptions, 'author'>;
  /** Questions the retriever reranked (0 when no reranker loaded: see flags). */
  reranked: number;
  /** Flags the retriever raised, with how many questions raised each. */
  flags: Record<string, number>;
  /** The retriever's author filter against the labels: questions naming their author, and others. */
  authorDetection: { namingQuestions: number; filteredCorrectly: number; wronglyFiltered: number };
  overall: MetricSummary;
  byKind: Record<string, MetricSummary>;
  byFilter: { withAuthorFilter: MetricSummary; withoutFilter: MetricSummary };
  questions: QuestionResult[];
}

/**
 * The served retriever, evaluated: each question goes through the same ContextRetriever object that
 * POST /rag uses, with the options given (the service's settings unless the caller overrides them):
 * its own author detection, expansion and reranking when they are configured. The labels are used
 * only to score. Documents are ranked by their best chunk.
 */
export async function evaluateRetrieval(
  retriever: ContextRetriever,
  questions: readonly GoldenQuestion[],
  options: Omit<RetrievalOptions, 'author'>,
  details: { model: string },
  onProgress: ProgressListener = ignoreProgress,
): Promise<RetrievalEvaluation> {
  const results: QuestionResult[] = [];
  const flags: Record<string, number> = {};
  let reranked = 0;
  const detection = { namingQuestions: 0, filteredCorrectly: 0, wronglyFiltered: 0 };
  for (const [index, question] of questions.entries()) {
    const trace = new TraceRecorder(question.query);
    const retrieval = await retriever.retrieve(question.query, options, trace);
    for (const flag of trace.flags) flags[flag] = (flags[flag] ?? 0) + 1;
    if (retrieval.reranked) reranked += 1;
    const filteredBy = retrieval.author.authorId ? retrieval.author.authorName : undefined;
    if (question.mentions_author) detection.namingQuestions += 1;
    if (filteredBy !== undefined) {
      if (filteredBy === question.author_full_name) detection.filteredCorrectly += 1;
      else detection.wronglyFiltered += 1;
    }
    results.push({
      ...scoreQuestion(question, retrieval.chunks, filteredBy !== undefined),
      ...(filteredBy ? { filteredBy } : {}),
    });
    onProgress({ stage: 'questions', done: index + 1, total: questions.length });
  }
  const kinds = [...new Set(results.map((result) => result.kind))].sort();
  return {
    model: details.model,
    searchDepth: options.k,
    settings: options,
    reranked,
    flags,
    authorDetection: detection,
    overall: summarize(results),
    byKind: Object.fromEntries(
      kinds.map((kind) => [kind, summarize(results.filter((result) => result.kind === kind))]),
    ),
    byFilter: {
      withAuthorFilter: summarize(results.filter((result) => result.filtered)),
      withoutFilter: summarize(results.filter((result) => !result.filtered)),
    },
    questions: results,
  };
}

export function scoreQuestion(
  question: GoldenQuestion,
  chunks: readonly ScoredChunk[],
  filtered: boolean,
): QuestionResult {
  const relevant = new Set(question.relevant_links);
  const rankedLinks: string[] = [];
  for (const chunk of chunks) {
    const link = chunk.link ?? chunk.documentId;
    if (!rankedLinks.includes(link)) rankedLinks.push(link);
  }
  const firstRelevant = rankedLinks.findIndex((link) => relevant.has(link));
  const evidence = trigrams(question.evidence);
  const holdsEvidence = (chunk: ScoredChunk) => evidenceShare(evidence, chunk.content) >= EVIDENCE_THRESHOLD;
  return {
    id: question.id,
    kind: question.kind,
    filtered,
    rankedLinks: rankedLinks.slice(0, Math.max(...CUTOFFS)),
    firstRelevantRank: firstRelevant === -1 ? null : firstRelevant + 1,
    recall: Object.fromEntries(
      CUTOFFS.map((k) => [
        k,
        rankedLinks.slice(0, k).filter((link) => relevant.has(link)).length / relevant.size,
      ]),
    ),
    evidenceHit: Object.fromEntries(
      CUTOFFS.map((k) => [
        k,
        chunks.slice(0, k).some((chunk) => relevant.has(chunk.link ?? '') && holdsEvidence(chunk)),
      ]),
    ),
  };
}

/** Lower-case words after the project's cleaning, sentence punctuation dropped too (it varies between copies). */
function words(text: string): string[] {
  return cleanText(text)
    .toLowerCase()
    .replace(/[.,!?]/gu, ' ')
    .split(' ')
    .filter(Boolean);
}

/** Word trigrams of a text after the project's own cleaning (single words for very short texts). */
export function trigrams(text: string): Set<string> {
  const tokens = words(text);
  if (tokens.length < 3) return new Set(tokens);
  const grams = new Set<string>();
  for (let i = 0; i + 2 < tokens.length; i++)
    grams.add(`${tokens[i] ?? ''} ${tokens[i + 1] ?? ''} ${tokens[i + 2] ?? ''}`);
  return grams;
}

/** Share of the evidence's trigrams found in the chunk. */
export function evidenceShare(evidence: ReadonlySet<string>, chunkText: string): number {
  if (evidence.size === 0) return 0;
  const chunk = trigrams(chunkText);
  let found = 0;
  for (const gram of evidence) if (chunk.has(gram)) found += 1;
  return found / evidence.size;
}

function summarize(results: readonly QuestionResult[]): MetricSummary {
  const n = results.length;
  const mean = (values: number[]) => (n === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / n);
  const perCutoff = (value: (result: QuestionResult, k: number) => number) =>
    Object.fromEntries(CUTOFFS.map((k) => [k, mean(results.map((result) => value(result, k)))]));
  return {
    questions: n,
    recall: perCutoff((result, k) => result.recall[k] ?? 0),
    hitRate: perCutoff((result, k) => ((result.firstRelevantRank ?? Infinity) <= k ? 1 : 0)),
    mrr: mean(results.map((result) => (result.firstRelevantRank ? 1 / result.firstRelevantRank : 0))),
    evidenceHitRate: perCutoff((result, k) => (result.evidenceHit[k] ? 1 : 0)),
  };
}

export function formatEvaluation(evaluation: RetrievalEvaluation): string {
  const { settings } = evaluation;
  const steps = [
    `${settings.mode} search`,
    settings.mode === 'hybrid' ? `fusion ${fusionName(fusionOf(settings))}` : undefined,
    !settings.expand
      ? 'no expansion'
      : Object.keys(evaluation.flags).some((flag) => flag.startsWith('no query model configured'))
        ? 'no expansion (no query model)'
        : `expansion to ${String(settings.queries)} queries`,
    settings.rerank
      ? `rerank (${String(evaluation.reranked)} of ${String(evaluation.overall.questions)})`
      : 'no rerank',
  ].filter(Boolean);
  const detection = evaluation.authorDetection;
  return [
    `Retrieval evaluation: the served retriever (${steps.join(', ')}), ${evaluation.model}, top ${String(evaluation.searchDepth)} chunks`,
    metricHeader(),
    metricRow('all', evaluation.overall),
    ...Object.entries(evaluation.byKind).map(([kind, metrics]) => metricRow(`kind: ${kind}`, metrics)),
    metricRow('author filter applied', evaluation.byFilter.withAuthorFilter),
    metricRow('no author filter', evaluation.byFilter.withoutFilter),
    `Author detection: ${String(detection.filteredCorrectly)} questions filtered by their own author, ${String(detection.wronglyFiltered)} by another; ${String(detection.namingQuestions)} questions name their author.`,
    ...Object.entries(evaluation.flags).map(([flag, count]) => `Flag on ${String(count)} questions: ${flag}`),
    'R@k: share of relevant documents in the top k; Hit@k: a relevant document in the top k; MRR: mean 1/rank',
    `of the first relevant document; Ev@k: a relevant chunk in the top k holds >= ${String(EVIDENCE_THRESHOLD * 100)}% of the evidence.`,
  ].join('\n');
}

/** Several evaluations of the same questions side by side, one row each. */
export function formatComparison(rows: readonly { name: string; evaluation: RetrievalEvaluation }[]): string {
  return [
    metricHeader('retriever'),
    ...rows.map(({ name, evaluation }) => metricRow(name, evaluation.overall)),
  ].join('\n');
}

const pct = (value: number | undefined) => `${((value ?? 0) * 100).toFixed(1)}%`.padStart(7);

function metricHeader(first = 'slice'): string {
  return `${first.padEnd(24)} ${'n'.padStart(3)} ${'R@3'.padStart(7)} ${'R@9'.padStart(7)} ${'Hit@3'.padStart(7)} ${'MRR'.padStart(6)} ${'Ev@3'.padStart(7)} ${'Ev@9'.padStart(7)}`;
}

function metricRow(name: string, m: MetricSummary): string {
  return `${name.padEnd(24)} ${String(m.questions).padStart(3)} ${pct(m.recall[3])} ${pct(m.recall[9])} ${pct(m.hitRate[3])} ${m.mrr.toFixed(3).padStart(6)} ${pct(m.evidenceHitRate[3])} ${pct(m.evidenceHitRate[9])}`;
}
