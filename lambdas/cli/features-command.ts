import { Command, Option } from 'commander';
import { CATEGORIES, InvalidInputError, type Category } from '../domain/index.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { authorIdsByName, openFeatureServices } from '../features/services.js';
import { asOnlyWriter, withWarehouse, type GlobalOptions } from './context.js';
import { formatFeatureCounts, formatFeatureRun } from './format.js';
import { progressBar } from './progress-bar.js';

interface FeaturesOptions {
  authors?: string[];
  categories?: Category[];
  json?: boolean;
  rebuild?: boolean;
}

export function featuresCommand(globals: () => GlobalOptions): Command {
  return new Command('features')
    .description(
      'clean, chunk and embed warehouse documents into the feature store (only what changed since the last run)',
    )
    .option('--authors <names...>', 'only these authors (full names, as in the warehouse)')
    .addOption(new Option('--categories <categories...>', 'only these categories').choices(CATEGORIES))
    .option('--json', 'print the run summary as JSON')
    .option(
      '--rebuild',
      'delete the feature collections first and featurise everything again (needed once for Qdrant collections made before keyword search)',
    )
    .action(async (options: FeaturesOptions) => {
      if (options.rebuild && (options.authors || options.categories)) {
        throw new InvalidInputError(
          '--rebuild recreates every author and category; run it without --authors and --categories',
          'rebuild',
        );
      }
      await withWarehouse(globals(), (warehouse, settings) =>
        asOnlyWriter(settings, 'twin features', async () => {
          const authorIds = options.authors ? await authorIdsByName(warehouse, options.authors) : undefined;
          process.stderr.write(`Loading embedding model ${settings.embedding.modelId}\n`);
          const services = await openFeatureServices(settings);
          try {
            if (options.rebuild) {
              process.stderr.write('Deleting the feature collections for a full rebuild\n');
              await services.features.dropCollections();
            }
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
            if (summary.missingLexicalIndex.length > 0) {
              process.stderr.write(
                `twin: ${summary.missingLexicalIndex.map((category) => `embedded_${category}`).join(', ')} ` +
                  'predate keyword search and cannot be indexed in place; hybrid and keyword search fall back to ' +
                  'dense search there. Run `twin features --rebuild` once to recreate them.\n',
              );
            }
          } finally {
            await services.close();
          }
        }),
      );
    });
}
