import { Command } from 'commander';
import type { ScoredChunk } from '../domain/index.js';
import { InvalidInputError } from '../domain/index.js';
import { authorIdsByName, openFeatureServices } from '../features/services.js';
import { vectorSearch } from '../rag/vector-search.js';
import { withWarehouse, type GlobalOptions } from './context.js';

interface SearchOptions {
  author?: string;
  k: string;
  json?: boolean;
}

export function searchCommand(globals: () => GlobalOptions): Command {
  return new Command('search')
    .description("search the twin's memory: the chunks of your writing closest to a query (offline, no LLM)")
    .argument('<query>', 'what to look for')
    .option('--author <name>', 'only this author\'s writing ("First Last")')
    .option('-k <n>', 'how many chunks', '9')
    .option('--json', 'print the chunks as JSON')
    .action(async (query: string, options: SearchOptions) => {
      const k = Number(options.k);
      if (!Number.isInteger(k) || k < 1 || k > 100)
        throw new InvalidInputError('-k must be a whole number from 1 to 100', 'k');
      if (query.trim() === '') throw new InvalidInputError('the query is empty', 'query');
      await withWarehouse(globals(), async (warehouse, settings) => {
        // Looking an author up never creates one.
        const [authorId] = options.author ? await authorIdsByName(warehouse, [options.author]) : [];
        const services = await openFeatureServices(settings);
        try {
          const chunks = await vectorSearch(services, { query, k, ...(authorId ? { authorId } : {}) });
          console.log(options.json ? JSON.stringify(chunks, null, 2) : formatChunks(chunks));
        } finally {
          await services.close();
        }
      });
    });
}

function formatChunks(chunks: readonly ScoredChunk[]): string {
  if (chunks.length === 0) return 'Nothing found: run `twin features` first, or check --author.';
  return chunks
    .map((chunk, rank) => {
      const excerpt = chunk.content.length > 240 ? `${chunk.content.slice(0, 240)}…` : chunk.content;
      const source = chunk.link ?? chunk.name ?? chunk.documentId;
      return `${String(rank + 1)}. ${chunk.score.toFixed(3)}  ${chunk.authorFullName} · ${chunk.platform} · ${chunk.category}\n   ${source}\n   ${excerpt}`;
    })
    .join('\n');
}
