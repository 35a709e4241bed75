import type { Embedder } from '../ports/embedder.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import { JUDGE_REFERENCES, judgeAuthorship } from './authorship-judge.js';
import { notWriting } from '../rag/writing-check.js';
import { bootstrapInterval, bootstrapStatistic, mean, round } from './bootstrap.js';
import { copiedShare, groundedness } from './groundedness.js';
import { rocAuc, type StyleModel } from './stylometry.js';
import { prosePassages, type HeldOutRequest, type WritingSet } from './writing-set.js';

/** Every interval of the report is a bootstrap 90% interval over requests. */
export const INTERVAL_LEVEL = 0.9;

/** A system under test: a model, with retrieval or without, answering held-out writing requests. */
export interface WritingSystem {
  name: string;
  /** The model, as traces name it. */
  model: string;
  rag: boolean;
  answer(request: HeldOutRequest): Promise<SystemAnswer>;
}

export interface SystemAnswer {
  /** The answer as served (after the answer guard and its one retry); '' when the model wrote nothing. */
  text: string;
  flags: string[];
  /** The retrieved text the prompt carried (RAG systems). */
  sources: string[];
  seconds: number;
}

/** A model's negative log-likelihood (nats) of one held-out passage, over `tokens` tokens. */
export interface HeldOutLikelihood {
  /** Every system of the model shares it (the passage is read without retrieval). */
  systems: readonly string[];
  author: string;
  nll: number;
  tokens: number;
}

export interface WritingAnswer extends SystemAnswer {
  system: string;
  author: string;
  articleId: string;
  query: string;
}

/** A figure with its bootstrap 90% interval over requests. */
export interface Estimate {
  mean: number;
  interval: [number, number];
}

export interface FidelityRow {
  author: string;
  /** A system's name, or a control: the author's own held-out text, or the other author's. */
  system: string;
  kind: 'ceiling' | 'control' | 'system';
  requests: number;
  /** Character n-gram cosine with the author's profile (higher: closer). */
  styleCosine: Estimate;
  /** Burrows' Delta to the author (lower: closer). */
  delta: Estimate;
  /** Share attributed to this author by the nearest-profile classifier. */
  attribution: Estimate;
  /** AUC of telling the author's held-out passages from these texts (0.5: cannot tell). */
  verificationAuc?: Estimate;
  /** Share of answer sentences supported by the retrieved sources (RAG systems). */
  groundedness?: Estimate;
  /** Share of answer word 8-grams pasted verbatim from the sources (RAG systems). */
  copied?: Estimate;
  /**
   * With an LLM judge: how often it took the system's answer for the author's held-out passage, asked
   * both ways round with five of the author's passages to compare (0.5: indistinguishable), and how
   * many verdicts could not be read.
   */
  judgedAsAuthor?: Estimate & { missing: number };
  /** Perplexity of the author's held-out passages under the system's model (lower: the model expects their words). */
  perplexity?: Estimate;
  /** Answers still not writing after the guard's retry (counted as failures, never dropped). */
  notWriting: number;
  /** Answers the guard had written again. */
  rewritten: number;
  /** Median seconds per answer. */
  secondsPerAnswer?: number;
}

export interface SanityCheck {
  name: string;
  passed: boolean;
  detail: string;
}

/** Answers every request with every system, in order (one model at a time keeps both cores to it). */
export async function answerRequests(
  set: WritingSet,
  systems: readonly WritingSystem[],
  onAnswer: (done: number, total: number) => void = () => undefined,
): Promise<WritingAnswer[]> {
  const answers: WritingAnswer[] = [];
  const total = set.requests.length * systems.length;
  for (const system of systems) {
    for (const request of set.requests) {
      const answer = await system.answer(request);
      answers.push({
        ...answer,
        system: system.name,
        author: request.author,
        articleId: request.article.id,
        query: request.query,
      });
      onAnswer(answers.length, total);
    }
  }
  return answers;
}

const estimate = (values: readonly number[]): Estimate => ({
  mean: round(mean(values)),
  interval: bootstrapInterval(values, INTERVAL_LEVEL),
});

/** AUC of the author's passages (positives) against texts (negatives), paired by request when resampled. */
function verification(positives: readonly number[], negatives: readonly number[]): Estimate {
  const paired = Math.min(positives.length, negatives.length);
  return {
    mean: round(rocAuc(positives, negatives)),
    interval: bootstrapStatistic(
      paired,
      (indices) =>
        rocAuc(
          indices.map((index) => positives[index] ?? 0),
          indices.map((index) => negatives[index] ?? 0),
        ),
      INTERVAL_LEVEL,
    ),
  };
}

/** The judge's picks over a system's answers; unreadable verdicts are counted apart, never as a pick. */
async function judged(
  judge: JsonChatModel,
  references: readonly string[],
  pairs: readonly (readonly [authorText: string, systemText: string])[],
): Promise<Estimate & { missing: number }> {
  const picks: number[] = [];
  for (const [authorText, systemText] of pairs) {
    const pick = await judgeAuthorship(judge, references, authorText, systemText);
    if (pick !== undefined) picks.push(pick);
  }
  return { ...estimate(picks), missing: pairs.length - picks.length };
}

/** Perplexity over passages (exp of total nats over total tokens), with its interval over passages. */
function perplexityOf(read: readonly HeldOutLikelihood[]): Estimate {
  const over = (indices: readonly number[]) => {
    let nll = 0;
    let tokens = 0;
    for (const index of indices) {
      nll += read[index]?.nll ?? 0;
      tokens += read[index]?.tokens ?? 0;
    }
    return tokens === 0 ? 0 : Math.exp(nll / tokens);
  };
  return {
    mean: round(over(read.map((_, index) => index))),
    interval: bootstrapStatistic(read.length, over, INTERVAL_LEVEL),
  };
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return round(
    sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2,
  );
}

/**
 * The table: per author, the ceiling (their own held-out text), the control (the other authors'
 * held-out text, scored against this author), and each system's answers to this author's requests.
 */
export async function scoreWriting(
  set: WritingSet,
  answers: readonly WritingAnswer[],
  style: StyleModel,
  embedder: Embedder,
  likelihoods: readonly HeldOutLikelihood[] = [],
  judge?: JsonChatModel,
): Promise<FidelityRow[]> {
  const referenceOf = new Map(set.requests.map((request) => [request.article.id, request.reference]));
  const rows: FidelityRow[] = [];
  const systems = [...new Set(answers.map((answer) => answer.system))];
  for (const author of set.authors) {
    const own = set.requests.filter((request) => request.author === author);
    const ownCosines = own.map((request) => style.score(request.reference, author).cosine);
    const textsRow = (
      system: string,
      kind: FidelityRow['kind'],
      texts: readonly string[],
    ): Omit<FidelityRow, 'notWriting' | 'rewritten'> => {
      const scores = texts.map((text) => style.score(text, author));
      return {
        author,
        system,
        kind,
        requests: texts.length,
        styleCosine: estimate(scores.map((score) => score.cosine)),
        delta: estimate(scores.map((score) => score.delta)),
        attribution: estimate(texts.map((text) => (style.attribute(text) === author ? 1 : 0))),
        ...(kind === 'ceiling'
          ? {}
          : {
              verificationAuc: verification(
                ownCosines,
                scores.map((score) => score.cosine),
              ),
            }),
      };
    };
    rows.push({
      ...textsRow(
        "author's held-out text",
        'ceiling',
        own.map((request) => request.reference),
      ),
      notWriting: 0,
      rewritten: 0,
    });
    const others = set.requests.filter((request) => request.author !== author);
    rows.push({
      ...textsRow(
        "other author's held-out text",
        'control',
        others.map((request) => request.reference),
      ),
      notWriting: 0,
      rewritten: 0,
    });
    for (const system of systems) {
      const mine = answers.filter((answer) => answer.system === system && answer.author === author);
      const rag = mine.some((answer) => answer.sources.length > 0);
      const grounded = rag
        ? await Promise.all(mine.map((answer) => groundedness(embedder, answer.text, answer.sources)))
        : undefined;
      const seconds = median(mine.map((answer) => answer.seconds));
      const read = likelihoods.filter((entry) => entry.author === author && entry.systems.includes(system));
      rows.push({
        ...textsRow(
          system,
          'system',
          mine.map((answer) => answer.text),
        ),
        ...(grounded ? { groundedness: estimate(grounded) } : {}),
        ...(rag ? { copied: estimate(mine.map((answer) => copiedShare(answer.text, answer.sources))) } : {}),
        ...(read.length > 0 ? { perplexity: perplexityOf(read) } : {}),
        ...(judge
          ? {
              judgedAsAuthor: await judged(
                judge,
                set.profilePassages
                  .filter((passage) => passage.author === author)
                  .slice(0, JUDGE_REFERENCES)
                  .map((passage) => passage.text),
                mine.map((answer) => [referenceOf.get(answer.articleId) ?? '', answer.text] as const),
              ),
            }
          : {}),
        notWriting: mine.filter((answer) => notWriting(answer.text) !== undefined).length,
        rewritten: mine.filter((answer) => answer.flags.some((flag) => flag.startsWith('answer-rewritten')))
          .length,
        ...(seconds !== undefined ? { secondsPerAnswer: seconds } : {}),
      });
    }
  }
  return rows;
}

/**
 * Checks that the measures can be trusted on this corpus before any system is judged by them, on every
 * prose passage of the held-out articles (more than the one per request the table scores): the
 * classifier attributes the held-out articles, whole and passage by passage, to their authors at 0.9
 * or more; and for each author the style cosine ranks their own held-out passages above the other
 * authors' and above generic text (the answers of `generic`, a stock model without retrieval). How the
 * other authors' text and generic text compare is reported, not required: it depends on how close the
 * author writes to a model's default prose.
 */
export function sanityChecks(
  set: WritingSet,
  answers: readonly WritingAnswer[],
  style: StyleModel,
  generic: string | undefined,
): SanityCheck[] {
  const checks: SanityCheck[] = [];
  const attributed = (texts: { author: string; text: string }[]) =>
    texts.filter((entry) => style.attribute(entry.text) === entry.author).length;
  const passagesOf = (request: HeldOutRequest) => prosePassages(request.article.content);
  const articles = set.requests.map((request) => ({
    author: request.author,
    text: passagesOf(request).join('\n\n'),
  }));
  const passages = set.requests.flatMap((request) =>
    passagesOf(request).map((text) => ({ author: request.author, text })),
  );
  for (const [name, texts] of [
    ['held-out articles attributed to their author', articles],
    ['held-out passages attributed to their author', passages],
  ] as const) {
    const right = attributed(texts);
    const share = texts.length === 0 ? 0 : right / texts.length;
    checks.push({
      name,
      passed: share >= 0.9,
      detail: `${String(right)} of ${String(texts.length)} (${share.toFixed(2)}; at least 0.90 needed)`,
    });
  }
  for (const author of set.authors) {
    const cosines = (texts: readonly string[]) => mean(texts.map((text) => style.score(text, author).cosine));
    const own = cosines(passages.filter((entry) => entry.author === author).map((entry) => entry.text));
    const other = cosines(passages.filter((entry) => entry.author !== author).map((entry) => entry.text));
    const stockAnswers = answers.filter((answer) => answer.system === generic && answer.author === author);
    const stock = stockAnswers.length === 0 ? undefined : cosines(stockAnswers.map((answer) => answer.text));
    checks.push({
      name: `${author}: own held-out text > other authors' (style cosine)`,
      passed: own > other,
      detail: `${fixed(own)} > ${fixed(other)}`,
    });
    if (stock !== undefined) {
      checks.push({
        name: `${author}: own held-out text > generic text (style cosine)`,
        passed: own > stock,
        detail: `${fixed(own)} > ${fixed(stock)} (${generic ?? ''}); other authors' ${other > stock ? 'above' : 'below'} generic`,
      });
    }
  }
  return checks;
}

const fixed = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(3));

function cell(value: Estimate | undefined, digits = 2): string {
  if (!value) return '—';
  const [low, high] = value.interval;
  return `${value.mean.toFixed(digits)} [${low.toFixed(digits)}, ${high.toFixed(digits)}]`;
}

/** The table for a terminal: one block per author (the judge's column only when there was a judge). */
export function formatFidelity(rows: readonly FidelityRow[], checks: readonly SanityCheck[]): string {
  const columns: { title: string; value: (row: FidelityRow) => string }[] = [
    { title: 'system', value: (row) => row.system },
    { title: 'n', value: (row) => String(row.requests) },
    { title: 'style cosine ↑', value: (row) => cell(row.styleCosine) },
    { title: "Burrows' Δ ↓", value: (row) => cell(row.delta) },
    { title: 'attribution ↑', value: (row) => cell(row.attribution) },
    { title: 'verif. AUC →0.5', value: (row) => cell(row.verificationAuc) },
    { title: 'grounded', value: (row) => cell(row.groundedness) },
    { title: 'copied', value: (row) => cell(row.copied) },
    { title: 'perplexity ↓', value: (row) => cell(row.perplexity, 1) },
    ...(rows.some((row) => row.judgedAsAuthor)
      ? [{ title: 'judged author →0.5', value: (row: FidelityRow) => cell(row.judgedAsAuthor) }]
      : []),
    {
      title: 'not writing',
      value: (row) =>
        row.kind === 'system'
          ? `${String(row.notWriting)}${row.rewritten ? ` (${String(row.rewritten)} rewritten)` : ''}`
          : '—',
    },
    {
      title: 's/answer',
      value: (row) => (row.secondsPerAnswer === undefined ? '—' : row.secondsPerAnswer.toFixed(1)),
    },
  ];
  const header = columns.map((column) => column.title);
  const lines: string[] = [];
  for (const author of [...new Set(rows.map((row) => row.author))]) {
    const body = rows
      .filter((row) => row.author === author)
      .map((row) => columns.map((column) => column.value(row)));
    const widths = header.map((title, column) =>
      Math.max(title.length, ...body.map((line) => (line[column] ?? '').length)),
    );
    const format = (line: readonly string[]) =>
      line.map((value, column) => value.padEnd(widths[column] ?? 0)).join('  ');
    lines.push(author, format(header), ...body.map(format), '');
  }
  lines.push('Sanity before trust:');
  for (const check of checks)
    lines.push(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  lines.push('', 'Means with bootstrap 90% intervals over requests.');
  return lines.join('\n');
}
