import { readFileSync } from 'node:fs';
import type { Reranker } from '../../ports/reranker.js';
import type { RerankPrecision } from '../../settings/index.js';
import { loadTransformers, modelNotFoundMessage, type ModelLocation } from '../models/transformers-env.js';

interface LogitsTensor {
  data: ArrayLike<number>;
  dims: number[];
  dispose(): void;
}

/** A tokenizer's output for a batch of pairs: input_ids, attention_mask, token_type_ids. */
interface Encoded {
  input_ids: { dims: number[] };
  [name: string]: unknown;
}

type Transformers = Awaited<ReturnType<typeof loadTransformers>>;
type PretrainedTokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type PretrainedModel = Awaited<
  ReturnType<Transformers['AutoModelForSequenceClassification']['from_pretrained']>
>;

/** The ms-marco cross-encoders were trained on pairs of at most 512 tokens. */
const MODEL_MAX_PAIR_TOKENS = 512;

/**
 * Tokens one ONNX run reads, padding included. On a CPU a single pair of a few hundred tokens already
 * keeps the matrix kernels busy, so batching long pairs buys nothing and costs the padding of every
 * shorter one: nine chunk-sized pairs run one by one are about a quarter faster than padded into one
 * batch (README, Performance). Short pairs (posts, code lines) still share a run.
 */
export const DEFAULT_TOKENS_PER_RUN = 512;

export interface CrossEncoderSettings extends ModelLocation {
  modelId: string;
  /** Tokens one run may read, padding included (default DEFAULT_TOKENS_PER_RUN). */
  tokensPerRun?: number;
  /** Default fp32. int8 falls back to fp32 (said in `model`) when the model has no int8 file. */
  precision?: RerankPrecision;
  /** Default (and at most) 512. */
  maxPairTokens?: number;
}

/**
 * The int8 file of a model folder for this CPU, named as in the Hub's sentence-transformers exports
 * (the provisioning step writes the same names): signed weights on arm64 (Graviton Lambda) and on
 * x86-64 with AVX-512 VNNI, whose integer kernels multiply them directly; unsigned on other x86-64,
 * whose AVX2 kernels would saturate on signed ones.
 */
export function int8ModelFile(
  arch: string = process.arch,
  cpuFlags: ReadonlySet<string> = linuxCpuFlags(),
): string {
  if (arch === 'arm64') return 'model_qint8_arm64';
  return cpuFlags.has('avx512_vnni') ? 'model_qint8_avx512_vnni' : 'model_quint8_avx2';
}

/** The CPU's feature flags on Linux (empty elsewhere, which picks the portable file). */
function linuxCpuFlags(): ReadonlySet<string> {
  try {
    const flags = /^flags\s*:(.*)$/mu.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    return new Set(flags.trim().split(/\s+/u));
  } catch {
    return new Set();
  }
}

/**
 * A cross-encoder (default cross-encoder/ms-marco-MiniLM-L-4-v2) run in-process with ONNX Runtime:
 * each (query, passage) pair is read together and gets one logit, squashed to 0-1 by a sigmoid as
 * sentence-transformers does for single-label models. Load once per process.
 */
export class CrossEncoderReranker implements Reranker {
  private constructor(
    /** The model id, with the precision it runs at: `cross-encoder/ms-marco-MiniLM-L-4-v2 (int8)`. */
    readonly model: string,
    readonly precision: RerankPrecision,
    private readonly tokenizer: PretrainedTokenizer,
    private readonly classifier: PretrainedModel,
    private readonly tokensPerRun: number,
    private readonly maxPairTokens: number,
  ) {}

  static async load(settings: CrossEncoderSettings): Promise<CrossEncoderReranker> {
    const transformers = await loadTransformers(settings);
    const precision = settings.precision ?? 'fp32';
    const maxPairTokens = Math.min(settings.maxPairTokens ?? MODEL_MAX_PAIR_TOKENS, MODEL_MAX_PAIR_TOKENS);
    const classifierAt = (file?: string) =>
      transformers.AutoModelForSequenceClassification.from_pretrained(settings.modelId, {
        dtype: 'fp32',
        ...(file ? { model_file_name: file } : {}),
      });
    try {
      const [tokenizer, loaded] = await Promise.all([
        transformers.AutoTokenizer.from_pretrained(settings.modelId),
        precision === 'int8'
          ? classifierAt(int8ModelFile()).then(
              (classifier) => ({ classifier, precision }),
              // A model published without an int8 file still reranks, at full precision.
              async () => ({ classifier: await classifierAt(), precision: 'fp32' as const }),
            )
          : classifierAt().then((classifier) => ({ classifier, precision })),
      ]);
      return new CrossEncoderReranker(
        `${settings.modelId} (${loaded.precision})`,
        loaded.precision,
        tokenizer,
        loaded.classifier,
        settings.tokensPerRun ?? DEFAULT_TOKENS_PER_RUN,
        maxPairTokens,
      );
    } catch (error) {
      throw new Error(modelNotFoundMessage(settings.modelId, settings, error), { cause: error });
    }
  }

  /**
   * Scores every pair, returned in the order given. Pairs are tokenized alone, then run shortest first
   * in batches that stay within the run's token budget: a batch is padded to its longest pair, so only
   * pairs of about the same length share one, and a long pair runs alone on its own encoding.
   */
  async score(query: string, passages: readonly string[]): Promise<number[]> {
    const pairs = passages
      .map((text, index) => {
        const alone = this.encode(query, [text], false);
        return { text, index, alone, tokens: alone.input_ids.dims[1] ?? 0 };
      })
      .sort((a, b) => a.tokens - b.tokens);
    const scores = new Array<number>(passages.length).fill(0);
    for (const batch of runsWithinBudget(pairs, this.tokensPerRun)) {
      const [only] = batch;
      const inputs =
        batch.length === 1 && only
          ? only.alone
          : this.encode(
              query,
              batch.map(({ text }) => text),
              true,
            );
      const batchScores = await this.scoreEncoded(inputs, batch.length);
      batch.forEach(({ index }, position) => (scores[index] = batchScores[position] ?? 0));
    }
    return scores;
  }

  private encode(query: string, passages: readonly string[], padding: boolean): Encoded {
    return this.tokenizer(
      passages.map(() => query),
      { text_pair: [...passages], padding, truncation: true, max_length: this.maxPairTokens },
    );
  }

  private async scoreEncoded(inputs: Encoded, rows: number): Promise<number[]> {
    const { logits } = (await this.classifier(inputs)) as { logits: LogitsTensor };
    const labels = logits.dims[1] ?? 1;
    // A single-label model's logit is the relevance; a two-label one's is the "relevant" column.
    const scores = Array.from({ length: rows }, (_, row) =>
      sigmoid(Number(logits.data[row * labels + labels - 1])),
    );
    logits.dispose();
    return scores;
  }

  async close(): Promise<void> {
    await this.classifier.dispose();
  }
}

/**
 * Splits items sorted by token count (shortest first) into runs whose padded size (items times the
 * longest) stays within the budget; an item over the budget on its own runs alone.
 */
export function runsWithinBudget<T extends { tokens: number }>(sorted: readonly T[], budget: number): T[][] {
  const runs: T[][] = [];
  let current: T[] = [];
  for (const item of sorted) {
    // Sorted, so the item joining a run is its longest and sets its padded width.
    if (current.length > 0 && (current.length + 1) * item.tokens > budget) {
      runs.push(current);
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
