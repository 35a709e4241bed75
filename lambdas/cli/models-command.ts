import { Command } from 'commander';
import { OnnxEmbedder } from '../adapters/embedder/onnx.js';
import { CrossEncoderReranker } from '../adapters/reranker/cross-encoder.js';
import { crossEncoderSettings } from '../rag/open-service.js';
import { cliSettings, type GlobalOptions } from './context.js';
import { modelsListCommand } from './training-commands.js';

export function modelsCommand(globals: () => GlobalOptions): Command {
  const models = new Command('models').description(
    'the models: ONNX ones run in-process (pull), and the trained twins in the registry (list)',
  );
  models.addCommand(modelsListCommand(globals), { isDefault: true });
  models
    .command('pull')
    .description(
      'make sure the embedding model and the reranker are in the local model folder, downloading them from the Hugging Face Hub if needed',
    )
    .option('--embedding-only', 'only the embedding model (the feature pipeline needs no reranker)')
    .action(async (options: { embeddingOnly?: boolean }) => {
      const settings = await cliSettings(globals());
      const { modelId, modelsDir } = settings.embedding;
      process.stderr.write(`Loading ${modelId} (model folder ${modelsDir})\n`);
      const embedder = await OnnxEmbedder.load(settings.embedding);
      const [probe] = await embedder.embed(['ready']);
      await embedder.close();
      console.log(
        `${modelId}: ${String(embedder.model.size)} dimensions, ${String(probe?.length)}-value test vector, in ${modelsDir}`,
      );
      if (options.embeddingOnly) return;

      const rerankModelId = settings.retrieval.rerankModelId;
      process.stderr.write(`Loading ${rerankModelId} (model folder ${modelsDir})\n`);
      const reranker = await CrossEncoderReranker.load(crossEncoderSettings(settings));
      const [relevant, unrelated] = await reranker.score('what is a vector database?', [
        'A vector database stores embeddings and finds the nearest ones to a query.',
        'The recipe needs two eggs and a cup of flour.',
      ]);
      await reranker.close();
      console.log(
        `${reranker.model}: scores ${String(relevant?.toFixed(3))} (relevant) vs ${String(unrelated?.toFixed(3))} (unrelated), in ${modelsDir}`,
      );
    });
  return models;
}
