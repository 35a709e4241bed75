import type { Reranker } from '../../ports/reranker.js';
import { loadTransformers, modelNotFoundMessage, type ModelLocation } from '../models/transformers-env.js';

interface LogitsTensor {
  data: ArrayLike<number>;
  dims: number[];
  dispose(): void;
}

type Transformers = Awaited<ReturnType<typeof loadTransformers>>;
type PretrainedTokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type PretrainedModel = Awaited<
  ReturnType<Transformers['AutoModelForSequenceClassification']['from_pretrained']>
>;

/** The ms-marco cross-encoders were trained on pairs of at most 512 tokens. */
const MAX_PAIR_TOKENS = 512;

export interface CrossEncoderSettings extends ModelLocation {
  modelId: string;
  batchSize: number;
}

/**
 * A cross-encoder (default cross-encoder/ms-marco-MiniLM-L-4-v2) run in-process with ONNX Runtime:
 * each (query, passage) pair is read together and gets one logit, squashed to 0-1 by a sigmoid as
 * sentence-transformers does for single-label models. Load once per process.
 */
export class CrossEncoderReranker implements Reranker {
  private constructor(
    readonly model: string,
    private readonly tokenizer: PretrainedTokenizer,
    private readonly classifier: PretrainedModel,
    private readonly batchSize: number,
  ) {}

  static async load(settings: CrossEncoderSettings): Promise<CrossEncoderReranker> {
    const transformers = await loadTransformers(settings);
    try {
      const tokenizer = await transformers.AutoTokenizer.from_pretrained(settings.modelId);
      const classifier = await transformers.AutoModelForSequenceClassification.from_pretrained(
        settings.modelId,
        { dtype: 'fp32' },
      );
      return new CrossEncoderReranker(settings.modelId, tokenizer, classifier, settings.batchSize);
    } catch (error) {
      throw new Error(modelNotFoundMessage(settings.modelId, settings, error), { cause: error });
    }
  }

  async score(query: string, passages: readonly string[]): Promise<number[]> {
    const scores: number[] = [];
    for (let start = 0; start < passages.length; start += this.batchSize) {
      const batch = passages.slice(start, start + this.batchSize);
      scores.push(...(await this.scoreBatch(query, batch)));
    }
    return scores;
  }

  private async scoreBatch(query: string, passages: readonly string[]): Promise<number[]> {
    const inputs = this.tokenizer(
      passages.map(() => query),
      { text_pair: [...passages], padding: true, truncation: true, max_length: MAX_PAIR_TOKENS },
    );
    const { logits } = (await this.classifier(inputs)) as { logits: LogitsTensor };
    const labels = logits.dims[1] ?? 1;
    // A single-label model's logit is the relevance; a two-label one's is the "relevant" column.
    const scores = passages.map((_, row) => sigmoid(Number(logits.data[row * labels + labels - 1])));
    logits.dispose();
    return scores;
  }

  async close(): Promise<void> {
    await this.classifier.dispose();
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
