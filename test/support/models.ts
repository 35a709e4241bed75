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
