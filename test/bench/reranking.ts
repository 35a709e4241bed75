/**
 * The reranking part of `npm run bench:rag`, on the whole reference corpus: retrieve plus rerank
 * (hybrid), served exactly as `twin serve` serves it, with the int8 and the fp32 cross-encoder side by
 * side, for one query and for 3-way expansion; and how closely int8 agrees with fp32 on the very
 * candidates each dev question sends to the reranker.
 */
import { CrossEncoderReranker } from '../../lambdas/adapters/reranker/cross-encoder.js';
import type { GoldenQuestion } from '../../lambdas/evaluation/retrieval.js';
import type { FeatureStore } from '../../lambdas/features/feature-store.js';
import type { Embedder } from '../../lambdas/ports/embedder.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import type { Reranker } from '../../lambdas/ports/reranker.js';
import type { RequestTrace } from '../../lambdas/ports/request-trace.js';
import { crossEncoderSettings, openRagService } from '../../lambdas/rag/open-service.js';
import { loadSettings, type RerankPrecision } from '../../lambdas/settings/index.js';
import { startLlmServer } from '../support/llm-server.js';
import { STAND_IN_CROSS_ENCODER_ID } from '../support/models.js';
import { median, percentile } from './stats.js';

interface Stack {
  env: Record<string, string>;
  warehouse: Warehouse;
  services: { embedder: Embedder; features: FeatureStore };
  questions: readonly GoldenQuestion[];
  runs: number;
}

/** Top-k agreement and rank correlation between two score lists over the same candidates. */
function agreement(exact: readonly number[], approximate: readonly number[], k: number) {
  const top = (scores: readonly number[]) =>
    new Set(
      scores
        .map((score, index) => ({ score, index }))
        .sort((a, b) => b.score - a.score)
        .slice(0, k)
        .map(({ index }) => index),
    );
  const [a, b] = [top(exact), top(approximate)];
  const overlap = [...a].filter((index) => b.has(index)).length / Math.min(k, exact.length);
  return { overlap, spearman: spearman(exact, approximate) };
}

function ranks(values: readonly number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const result = new Array<number>(values.length).fill(0);
  order.forEach(({ index }, rank) => (result[index] = rank));
  return result;
}

function spearman(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n < 2) return 1;
  const [ra, rb] = [ranks(a), ranks(b)];
  const sum = ra.reduce((total, rank, index) => total + (rank - (rb[index] ?? 0)) ** 2, 0);
  return 1 - (6 * sum) / (n * (n * n - 1));
}

export async function benchReranking(stack: Stack): Promise<void> {
  const llm = await startLlmServer({ latencyMs: 100 });
  const rows: { name: string; p50: number; p95: number; rerank: number }[] = [];
  const seen: { query: string; passages: string[] }[] = [];
  try {
    for (const expand of [false, true]) {
      for (const precision of ['fp32', 'int8'] as const) {
        const env = {
          ...stack.env,
          OPENAI_BASE_URL: llm.url,
          TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID,
          TWIN_RERANK_PRECISION: precision,
        };
        const settings = loadSettings(env);
        const loaded = await CrossEncoderReranker.load(crossEncoderSettings(settings));
        let capture = false;
        const recording: Reranker = {
          model: loaded.model,
          score: (query, passages) => {
            if (capture) seen.push({ query, passages: [...passages] });
            return loaded.score(query, passages);
          },
        };
        const traces: RequestTrace[] = [];
        const rag = await openRagService(settings, {
          authors: stack.warehouse,
          featureServices: stack.services,
          generator: null,
          reranker: () => Promise.resolve(recording),
          ...(expand ? {} : { queryModel: null }),
          sinks: [{ record: (trace) => Promise.resolve(void traces.push(trace)) }],
        });
        const ask = (query: string) =>
          rag.service.answer({ query, retrieveOnly: true, mode: 'hybrid', expand, rerank: true });
        await ask('warm up');
        const p50s: number[] = [];
        const p95s: number[] = [];
        const reranks: number[] = [];
        for (let run = 0; run < stack.runs; run++) {
          traces.length = 0;
          // The candidates of each question with expansion (up to 20, more than k), once, for the agreement check.
          capture = precision === 'fp32' && expand && run === 0;
          for (const question of stack.questions) await ask(question.query);
          capture = false;
          // Excluding the query model's own time: self-query and expansion run side by side.
          const times = traces.map((trace) => {
            const step = (name: string) => trace.steps.find((found) => found.name === name)?.durationMs ?? 0;
            return trace.durationMs - Math.max(step('self_query'), step('query_expansion'));
          });
          p50s.push(median(times));
          p95s.push(percentile(times, 0.95));
          reranks.push(
            median(
              traces.map((trace) => trace.steps.find((step) => step.name === 'rerank')?.durationMs ?? 0),
            ),
          );
        }
        await rag.close();
        await loaded.close();
        rows.push({
          name: `${expand ? '3-way expansion' : 'one query'}, ${precision}`,
          p50: median(p50s),
          p95: median(p95s),
          rerank: median(reranks),
        });
      }
    }
  } finally {
    await llm.close();
  }

  console.log(
    `Retrieve + rerank (hybrid), whole reference corpus, ${String(stack.questions.length)} dev questions, medians of ${String(stack.runs)} runs; stand-in cross-encoder (MiniLM-L6-sized), the query model's time excluded (ms)`,
  );
  for (const row of rows) {
    const fp32 = rows.find((other) => other.name === row.name.replace('int8', 'fp32'));
    const ratio = fp32 && fp32 !== row ? `  (x${(row.p95 / fp32.p95).toFixed(2)} of fp32's p95)` : '';
    console.log(
      `  ${row.name.padEnd(24)} p50 ${row.p50.toFixed(1)}  p95 ${row.p95.toFixed(1)}  rerank step p50 ${row.rerank.toFixed(1)}${ratio}`,
    );
  }

  const settings = loadSettings({ ...stack.env, TWIN_RERANK_MODEL_ID: STAND_IN_CROSS_ENCODER_ID });
  const load = (precision: RerankPrecision) =>
    CrossEncoderReranker.load({ ...crossEncoderSettings(settings), precision });
  const [exact, quantised] = await Promise.all([load('fp32'), load('int8')]);
  const scored: { overlap: number; spearman: number }[] = [];
  for (const { query, passages } of seen) {
    const [a, b] = [await exact.score(query, passages), await quantised.score(query, passages)];
    scored.push(agreement(a, b, settings.retrieval.k));
  }
  await Promise.all([exact.close(), quantised.close()]);
  const mean = (values: number[]) =>
    values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);
  const overlap = mean(scored.map((row) => row.overlap));
  const correlation = mean(scored.map((row) => row.spearman));
  const passes = overlap >= 0.9 && correlation >= 0.95;
  console.log(
    `int8 against fp32 on the ${String(seen.length)} dev questions' rerank candidates: top-${String(settings.retrieval.k)} overlap ${overlap.toFixed(3)} (min ${Math.min(...scored.map((row) => row.overlap)).toFixed(3)}), Spearman ${correlation.toFixed(3)} (min ${Math.min(...scored.map((row) => row.spearman)).toFixed(3)}): ${passes ? 'int8 meets the bar (overlap >= 0.9, Spearman >= 0.95) to become the default' : 'below the bar (overlap >= 0.9, Spearman >= 0.95): fp32 stays the default'}\n`,
  );
}
