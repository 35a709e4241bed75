import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { OnnxEmbedder } from '../adapters/embedder/onnx.js';
import { downloadGguf } from '../adapters/llm/llama-cpp/gguf-download.js';
import { LocalLlm } from '../adapters/llm/llama-cpp/local-llm.js';
import { InvalidInputError } from '../domain/index.js';
import { DEFAULT_LOCAL_GENERATOR, localModelFile, type LocalModelFile } from '../settings/local-model.js';
import type { Settings } from '../settings/index.js';
import { CrossEncoderReranker } from '../adapters/reranker/cross-encoder.js';
import { crossEncoderSettings } from '../rag/open-service.js';
import { cliSettings, type GlobalOptions } from './context.js';
import { modelsListCommand } from './training-commands.js';
import { useBase, useTwin } from '../training/local-twin/registry.js';

export function modelsCommand(globals: () => GlobalOptions): Command {
  const models = new Command('models').description(
    'the models: ONNX ones run in-process (pull), and the trained twins in the registry (list)',
  );
  models.addCommand(modelsListCommand(globals), { isDefault: true });
  models
    .command('use')
    .description(
      'answer with a local twin (`twin ask`, `serve`, streaming, conversations, the web app), or with the stock model again (base)',
    )
    .argument('<version>', 'a version from `twin models`, or base')
    .action(async (version: string) => {
      const settings = await cliSettings(globals());
      if (version === 'base') {
        await useBase(settings.dataDir);
        console.log('The stock model answers again.');
        return;
      }
      const active = await useTwin(settings.dataDir, version);
      console.log(
        `Twin ${active.version} answers now: ${active.base.file} with its adapter (checked: sha256 of both). \`twin models use base\` goes back.`,
      );
    });
  models
    .command('pull')
    .description(
      'make sure the embedding model and the reranker are in the local model folder, downloading them from the Hugging Face Hub if needed',
    )
    .option('--embedding-only', 'only the embedding model (the feature pipeline needs no reranker)')
    .option(
      '--generator',
      `only the local generator: the GGUF model TWIN_GENERATOR_GGUF names as hf:owner/repo/file, else ${DEFAULT_LOCAL_GENERATOR}`,
    )
    .action(async (options: { embeddingOnly?: boolean; generator?: boolean }) => {
      const settings = await cliSettings(globals());
      if (options.generator) {
        await pullGenerator(settings);
        return;
      }
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

/** The GGUF model `models pull --generator` fetches: the Hub model configured, else the default. */
function generatorToPull(settings: Settings): LocalModelFile & { sha256?: string } {
  const generator = settings.generator;
  if (generator.kind === 'local' && generator.hub) return generator;
  return localModelFile(DEFAULT_LOCAL_GENERATOR, settings.embedding.modelsDir);
}

/** Downloads the local generator when it is not there yet, then loads it and measures its speed. */
async function pullGenerator(settings: Settings): Promise<void> {
  const model = generatorToPull(settings);
  if (!existsSync(model.file)) {
    const { hub } = model;
    if (!hub) throw new InvalidInputError(`no GGUF model at ${model.file}`, 'TWIN_GENERATOR_GGUF');
    if (!settings.embedding.allowDownload) {
      throw new InvalidInputError(
        `${model.file} is not there and TWIN_ALLOW_MODEL_DOWNLOAD=false; put the file there or allow the download`,
        'TWIN_ALLOW_MODEL_DOWNLOAD',
      );
    }
    process.stderr.write(`Downloading ${hub.repo}/${hub.path} from ${settings.hubUrl}\n`);
    let shown = -1;
    await downloadGguf({
      hubUrl: settings.hubUrl,
      ...hub,
      file: model.file,
      ...(model.sha256 ? { sha256: model.sha256 } : {}),
      ...(settings.secrets.HF_TOKEN ? { token: settings.secrets.HF_TOKEN } : {}),
      onProgress: (received, total) => {
        const percent = Number.isFinite(total) ? Math.floor((received / total) * 10) * 10 : -1;
        if (percent === shown) return;
        shown = percent;
        process.stderr.write(
          `  ${megabytes(received)} of ${Number.isFinite(total) ? megabytes(total) : '?'}\n`,
        );
      },
    });
  }
  process.stderr.write(`Loading ${model.file}\n`);
  const llm = await LocalLlm.load({ file: model.file, contextSize: 2048, sequences: 1 });
  try {
    const started = performance.now();
    const probe = await llm.complete(
      { system: '', user: 'Write one sentence about retrieval-augmented generation.' },
      {
        maxTokens: 48,
        temperature: 0,
        topP: 1,
        repetitionPenalty: 1.1,
        signal: AbortSignal.timeout(120_000),
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const size = megabytes((await stat(model.file)).size);
    console.log(
      `${llm.name}: ${size}, ${String(probe.completionTokens)} tokens in ${seconds.toFixed(1)} s with the prompt (${(probe.completionTokens / seconds).toFixed(1)} tokens/s), in ${model.file}`,
    );
    console.log(`Use it with TWIN_GENERATOR=local (the default when no cloud model is configured).`);
  } finally {
    await llm.close();
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
