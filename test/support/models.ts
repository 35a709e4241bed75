import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OnnxEmbedder } from '../../lambdas/adapters/embedder/onnx.js';
import { DEFAULT_EMBEDDING_MODEL_ID, type EmbeddingSettings } from '../../lambdas/settings/index.js';
import { IN_CI } from './environment.js';

/** Where .ci/provision-models.sh puts the real ONNX models (override with TWIN_MODELS_DIR). */
export const TEST_MODELS_DIR = process.env.TWIN_MODELS_DIR ?? join(homedir(), '.cache', 'llm-twin', 'models');

export const TEST_EMBEDDING: EmbeddingSettings = {
  modelId: DEFAULT_EMBEDDING_MODEL_ID,
  modelsDir: TEST_MODELS_DIR,
  allowDownload: false,
  batchSize: 32,
};

/** True when the real embedding model is on disk; in CI its absence fails the run instead of skipping. */
export function embeddingModelAvailable(): boolean {
  const available = existsSync(join(TEST_MODELS_DIR, DEFAULT_EMBEDDING_MODEL_ID, 'onnx', 'model.onnx'));
  if (!available && IN_CI) {
    throw new Error(
      `embedding model not found in ${TEST_MODELS_DIR}: .ci/run must run .ci/provision-models.sh`,
    );
  }
  return available;
}

let shared: Promise<OnnxEmbedder> | undefined;

/** The real all-MiniLM-L6-v2, loaded once per test worker. */
export function realEmbedder(): Promise<OnnxEmbedder> {
  shared ??= OnnxEmbedder.load(TEST_EMBEDDING);
  return shared;
}

/**
 * A STAND-IN cross-encoder provisioned by .ci/provision-models.sh: the real MiniLM encoder with a random
 * classifier head. Its scores say nothing about relevance; it exercises the reranker adapter only.
 */
export const STAND_IN_CROSS_ENCODER_ID = 'llm-twin-test/stand-in-cross-encoder';

export function standInCrossEncoderAvailable(): boolean {
  const available = existsSync(join(TEST_MODELS_DIR, STAND_IN_CROSS_ENCODER_ID, 'onnx', 'model.onnx'));
  if (!available && IN_CI) {
    throw new Error(`stand-in cross-encoder not found in ${TEST_MODELS_DIR}: run .ci/provision-models.sh`);
  }
  return available;
}

/**
 * The real GGUF model .ci/provision-models.sh provisions for the local generator: Gemma 3 270M, a
 * base model in Q4_K_M. Its answers are weak; every token is real.
 */
export const TEST_GGUF = join(TEST_MODELS_DIR, 'gguf', 'gemma-3-270m-q4_k_m.gguf');
export const TEST_GGUF_SHA256 = 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818';

/** True when the CI's GGUF model is on disk; in CI its absence fails the run instead of skipping. */
export function localModelAvailable(): boolean {
  const available = existsSync(TEST_GGUF);
  if (!available && IN_CI)
    throw new Error(`GGUF model not found at ${TEST_GGUF}: run .ci/provision-models.sh`);
  return available;
}
