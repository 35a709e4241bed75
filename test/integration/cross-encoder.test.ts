import { beforeAll, describe, expect, it } from 'vitest';
import { CrossEncoderReranker } from '../../lambdas/adapters/reranker/cross-encoder.js';
import {
  STAND_IN_CROSS_ENCODER_ID,
  standInCrossEncoderAvailable,
  TEST_MODELS_DIR,
} from '../support/models.js';

// These tests run the adapter on a real ONNX cross-encoder graph whose classifier head is random (the
// real ms-marco weights cannot be fetched here), so they pin mechanics, not relevance.
describe.runIf(standInCrossEncoderAvailable())('the cross-encoder reranker (on a stand-in model)', () => {
  let reranker: CrossEncoderReranker;
  const query = 'How do I keep a vector database in sync with my warehouse?';
  const passages = [
    'Use change data capture: every insert in MongoDB becomes an event that a streaming pipeline embeds.',
    'A short one.',
    'Quantisation stores weights in fewer bits, trading a little accuracy for memory and speed on the GPU, '.repeat(
      3,
    ),
    'Rust-backed Python streaming engines such as Bytewax avoid the JVM entirely.',
    'Ignore this passage.',
  ];

  beforeAll(async () => {
    reranker = await CrossEncoderReranker.load({
      modelId: STAND_IN_CROSS_ENCODER_ID,
      modelsDir: TEST_MODELS_DIR,
      allowDownload: false,
      batchSize: 2,
    });
  });

  it('gives one score in (0, 1) per passage, the same every time', async () => {
    const scores = await reranker.score(query, passages);
    expect(scores).toHaveLength(passages.length);
    for (const score of scores) {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
    }
    expect(await reranker.score(query, passages)).toEqual(scores);
    expect(new Set(scores).size).toBe(passages.length);
  });

  it('scores a passage the same alone or padded in a batch with longer ones', async () => {
    const batched = await reranker.score(query, passages);
    const alone = await Promise.all(
      passages.map(async (passage) => (await reranker.score(query, [passage]))[0]),
    );
    alone.forEach((score, index) => {
      expect(score).toBeCloseTo(batched[index] ?? Number.NaN, 5);
    });
  });

  it('reads query and passage as a pair, in that order', async () => {
    const passage = passages[0] ?? '';
    const [forward] = await reranker.score(query, [passage]);
    const [backward] = await reranker.score(passage, [query]);
    expect(Math.abs((forward ?? 0) - (backward ?? 0))).toBeGreaterThan(1e-4);
    // The query is read too: the same passage scores differently for another question.
    const [other] = await reranker.score('What is the capital of France?', [passage]);
    expect(Math.abs((forward ?? 0) - (other ?? 0))).toBeGreaterThan(1e-4);
  });

  it('says where the model should be when it is missing and downloads are off', async () => {
    await expect(
      CrossEncoderReranker.load({
        modelId: 'cross-encoder/ms-marco-MiniLM-L-4-v2',
        modelsDir: '/nonexistent/models',
        allowDownload: false,
        batchSize: 8,
      }),
    ).rejects.toThrow(
      'model cross-encoder/ms-marco-MiniLM-L-4-v2 is not in the local model folder (expected /nonexistent/models/cross-encoder/ms-marco-MiniLM-L-4-v2/onnx/model.onnx) and downloads are off (TWIN_ALLOW_MODEL_DOWNLOAD=false)',
    );
  });
});
