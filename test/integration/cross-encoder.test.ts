import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrossEncoderReranker, int8ModelFile } from '../../lambdas/adapters/reranker/cross-encoder.js';
import {
  STAND_IN_CROSS_ENCODER_ID,
  standInCrossEncoderAvailable,
  TEST_MODELS_DIR,
} from '../support/models.js';

// These tests run the adapter on a real ONNX cross-encoder graph whose classifier head is random (the
// real ms-marco weights cannot be fetched here), so they pin mechanics, not relevance.
describe.runIf(standInCrossEncoderAvailable())('the cross-encoder reranker (on a stand-in model)', () => {
  let reranker: CrossEncoderReranker;
  let int8: CrossEncoderReranker;
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
    });
    int8 = await CrossEncoderReranker.load({
      modelId: STAND_IN_CROSS_ENCODER_ID,
      modelsDir: TEST_MODELS_DIR,
      allowDownload: false,
      precision: 'int8',
    });
  });

  it('runs full precision by default, the int8 file when asked, and says which', () => {
    expect(int8.precision).toBe('int8');
    expect(int8.model).toBe(`${STAND_IN_CROSS_ENCODER_ID} (int8)`);
    expect(reranker.model).toBe(`${STAND_IN_CROSS_ENCODER_ID} (fp32)`);
  });

  it('scores close to the full-precision model: near-ties may swap, nothing else moves', async () => {
    const [exact, quantised] = await Promise.all([
      reranker.score(query, passages),
      int8.score(query, passages),
    ]);
    const rankOf = (scores: number[]) => {
      const order = scores.map((_, index) => index).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
      return scores.map((_, index) => order.indexOf(index));
    };
    const [a, b] = [rankOf(exact), rankOf(quantised)];
    // Every passage within one place of its full-precision rank, and every score within 0.05.
    a.forEach((rank, index) => expect(Math.abs(rank - (b[index] ?? 0))).toBeLessThanOrEqual(1));
    quantised.forEach((score, index) => expect(Math.abs(score - (exact[index] ?? 0))).toBeLessThan(0.05));
  });

  it('falls back to full precision for a model published without an int8 file', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'twin-fp32-only-'));
    try {
      const source = join(TEST_MODELS_DIR, STAND_IN_CROSS_ENCODER_ID);
      const copy = join(folder, STAND_IN_CROSS_ENCODER_ID);
      await mkdir(join(copy, 'onnx'), { recursive: true });
      for (const file of await readdir(source))
        if (file !== 'onnx') await symlink(join(source, file), join(copy, file));
      await symlink(join(source, 'onnx', 'model.onnx'), join(copy, 'onnx', 'model.onnx'));
      const fallback = await CrossEncoderReranker.load({
        modelId: STAND_IN_CROSS_ENCODER_ID,
        modelsDir: folder,
        allowDownload: false,
        precision: 'int8',
      });
      expect(fallback.model).toBe(`${STAND_IN_CROSS_ENCODER_ID} (fp32)`);
      expect(await fallback.score(query, passages)).toEqual(await reranker.score(query, passages));
      expect(int8ModelFile('arm64')).toBe('model_qint8_arm64');
      expect(int8ModelFile('x64', new Set(['avx2']))).toBe('model_quint8_avx2');
      expect(int8ModelFile('x64', new Set(['avx2', 'avx512_vnni']))).toBe('model_qint8_avx512_vnni');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('reads only the first tokens of a long pair when capped', async () => {
    const capped = await CrossEncoderReranker.load({
      modelId: STAND_IN_CROSS_ENCODER_ID,
      modelsDir: TEST_MODELS_DIR,
      allowDownload: false,
      maxPairTokens: 32,
    });
    const long = `${passages[0] ?? ''} ${'More words that come after the cap. '.repeat(20)}`;
    const other = `${passages[0] ?? ''} ${'Different words after the cap entirely. '.repeat(20)}`;
    const [first, second] = await capped.score(query, [long, other]);
    expect(first).toBeCloseTo(second ?? Number.NaN, 6);
    const [uncappedFirst, uncappedSecond] = await reranker.score(query, [long, other]);
    expect(Math.abs((uncappedFirst ?? 0) - (uncappedSecond ?? 0))).toBeGreaterThan(1e-4);
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

  it('scores a passage the same alone or padded in a batch with longer ones (fp32)', async () => {
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
      }),
    ).rejects.toThrow(
      'model cross-encoder/ms-marco-MiniLM-L-4-v2 is not in the local model folder (expected /nonexistent/models/cross-encoder/ms-marco-MiniLM-L-4-v2/onnx/model.onnx) and downloads are off (TWIN_ALLOW_MODEL_DOWNLOAD=false)',
    );
  });
});
