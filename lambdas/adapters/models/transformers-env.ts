import { join } from 'node:path';
import type { EmbeddingSettings } from '../../settings/index.js';

export type ModelLocation = Pick<EmbeddingSettings, 'modelsDir' | 'allowDownload'>;

/**
 * Loads @huggingface/transformers configured for where our models live: the local model folder first,
 * then (when allowed) the Hugging Face Hub. Downloads are cached in the model folder itself, in the same
 * <model id>/... layout, so a model fetched once is found locally from then on (and can be copied to an
 * air-gapped machine or baked into a Lambda image). The library's settings are process-wide.
 */
export async function loadTransformers(location: ModelLocation) {
  const transformers = await import('@huggingface/transformers');
  const { env } = transformers;
  env.localModelPath = location.modelsDir.endsWith('/') ? location.modelsDir : `${location.modelsDir}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = location.allowDownload;
  env.cacheDir = location.modelsDir;
  return transformers;
}

/** A clear message for the most common failure: the model is neither in the folder nor downloadable. */
export function modelNotFoundMessage(modelId: string, location: ModelLocation, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const where = join(location.modelsDir, modelId, 'onnx', 'model.onnx');
  return location.allowDownload
    ? `cannot load model ${modelId} (${reason}); check the connection to the Hugging Face Hub or put the files at ${where}`
    : `model ${modelId} is not in the local model folder (expected ${where}) and downloads are off (TWIN_ALLOW_MODEL_DOWNLOAD=false)`;
}
