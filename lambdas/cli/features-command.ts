import { Command, Option } from 'commander';
import { CATEGORIES, type Category } from '../domain/index.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { authorIdsByName, openFeatureServices } from '../features/services.js';
import { withWarehouse, type GlobalOptions } from './context.js';
import { formatFeatureCounts, formatFeatureRun } from './format.js';
import { progressBar } from './progress-bar.js';

interface FeaturesOptions {
  authors?: string[];
  categories?: Category[];
  json?: boolean;
}

export function featuresCommand(globals: () => GlobalOptions): Command {
  return new Command('features')
    .description(
      'clean, chunk and embed warehouse documents into the feature store (only what changed since the last run)',
    )
    .option('--authors <names...>', 'only these authors (full names, as in the warehouse)')
    .addOption(new Option('--categories <categories...>', 'only these categories').choices(CATEGORIES))
    .option('--json', 'print the run summary as JSON')
    .action(async (options: FeaturesOptions) => {
      await withWarehouse(globals(), async (warehouse, settings) => {
        const authorIds = options.authors ? await authorIdsByName(warehouse, options.authors) : undefined;
        process.stderr.write(`Loading embedding model ${settings.embedding.modelId}\n`);
        const services = await openFeatureServices(settings);
        try {
          const summary = await runFeaturePipeline(
            { warehouse, ...services },
            {
              ...(authorIds ? { authorIds } : {}),
              ...(options.categories ? { categories: options.categories } : {}),
            },
            progressBar(),
          );
          const counts = await services.features.counts();
          const where = settings.vectorStore.kind === 'embedded' ? settings.vectorStore.dir : 'Qdrant';
          console.log(
            options.json
              ? JSON.stringify({ ...summary, featureStore: counts }, null, 2)
              : `${formatFeatureRun(summary)}\n${formatFeatureCounts(counts, where)}`,
          );
        } finally {
          await services.close();
        }
      });
    });
}
