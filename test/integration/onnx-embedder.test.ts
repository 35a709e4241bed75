import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxEmbedder } from '../../lambdas/adapters/embedder/onnx.js';
import { embeddingModelAvailable, realEmbedder, TEST_EMBEDDING } from '../support/models.js';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);

describe.runIf(embeddingModelAvailable())('the ONNX embedder running all-MiniLM-L6-v2', () => {
  let embedder: OnnxEmbedder;
  beforeAll(async () => {
    embedder = await realEmbedder();
  });

  it('describes its model: 384 dimensions, 256 input tokens', () => {
    expect(embedder.model).toEqual({
      id: 'sentence-transformers/all-MiniLM-L6-v2',
      size: 384,
      maxInputLength: 256,
    });
  });

  it('reproduces the published sentence-transformers embedding of the model card example', async () => {
    const [vector] = await embedder.embed(['This is an example sentence']);
    // First values printed by sentence-transformers for this sentence with this model.
    expect(vector?.slice(0, 3).map((value) => Number(value.toFixed(4)))).toEqual([0.0677, 0.0635, 0.0487]);
  });

  it('returns unit vectors, closer for texts that mean the same', async () => {
    const [question, paraphrase, unrelated] = await embedder.embed([
      'How do I fine-tune a language model on my own articles?',
      'Fine-tuning a large language model on articles I wrote',
      'The recipe needs two eggs and a cup of flour',
    ]);
    if (!question || !paraphrase || !unrelated) throw new Error('missing vectors');
    expect(Math.hypot(...question)).toBeCloseTo(1, 5);
    expect(cosine(question, paraphrase)).toBeGreaterThan(cosine(question, unrelated) + 0.3);
  });

  it('gives the same vector for a text alone or padded in a batch, in the caller order', async () => {
    const short = 'Vector databases';
    const long =
      'A much longer sentence about retrieval augmented generation, chunking and embeddings. '.repeat(5);
    const [alone] = await embedder.embed([short]);
    const batch = await embedder.embed([long, short, long]);
    batch[1]?.forEach((value, i) => expect(value).toBeCloseTo(alone?.[i] ?? NaN, 5));
    expect(batch[0]).toEqual(batch[2]);
  });

  it('truncates inputs longer than the model reads instead of failing', async () => {
    const [vector] = await embedder.embed(['word '.repeat(2000)]);
    expect(vector).toHaveLength(384);
  });

  it('says where it looked when the model is missing and downloads are off', async () => {
    await expect(OnnxEmbedder.load({ ...TEST_EMBEDDING, modelId: 'nobody/no-such-model' })).rejects.toThrow(
      /nobody\/no-such-model is not in the local model folder .*TWIN_ALLOW_MODEL_DOWNLOAD=false/u,
    );
  });
});
