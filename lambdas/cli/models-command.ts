import { Command } from 'commander';
import { OnnxEmbedder } from '../adapters/embedder/onnx.js';
import { cliSettings, type GlobalOptions } from './context.js';

export function modelsCommand(globals: () => GlobalOptions): Command {
  const models = new Command('models').description('the ONNX models the pipelines run in-process');
  models
    .command('pull')
    .description(
      'make sure the embedding model is in the local model folder, downloading it from the Hugging Face Hub if needed',
    )
    .action(async () => {
      const settings = await cliSettings(globals());
      const { modelId, modelsDir } = settings.embedding;
      process.stderr.write(`Loading ${modelId} (model folder ${modelsDir})\n`);
      const embedder = await OnnxEmbedder.load(settings.embedding);
      const [probe] = await embedder.embed(['ready']);
      await embedder.close();
      console.log(
        `${modelId}: ${String(embedder.model.size)} dimensions, ${String(probe?.length)}-value test vector, in ${modelsDir}`,
      );
    });
  return models;
}
