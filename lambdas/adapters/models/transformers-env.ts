import { join } from 'node:path';
import type { EmbeddingSettings } from '../../settings/index.js';

export type ModelLocation = Pick<EmbeddingSettings, 'modelsDir' | 'allowDownload'>;

/**
 * Loads @huggingface/transformers configured for where our models live: the local model folder first,
 * then (when allowed) the Hugging Face Hub, with downloads cached inside that same folder. The library's
 * settings are process-wide, so every model of a process shares one location.
 */
export async function loadTransformers(location: ModelLocation) {
  const transformers = await import('@huggingface/transformers');
  const { env } = transformers;
  env.localModelPath = location.modelsDir.endsWith('/') ? location.modelsDir : `${location.modelsDir}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = location.allowDownload;
  env.cacheDir = join(location.modelsDir, '.hub-cache');
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
