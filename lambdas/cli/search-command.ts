import { Command, Option } from 'commander';
import { InvalidInputError, RETRIEVAL_MODES, type RetrievalMode } from '../domain/index.js';
import { authorIdsByName, openFeatureServices } from '../features/services.js';
import { openRetriever } from '../rag/open-service.js';
import type { RankedChunk } from '../rag/retriever.js';
import { TraceRecorder } from '../rag/trace.js';
import { withWarehouse, type GlobalOptions } from './context.js';

interface SearchOptions {
  author?: string;
  k: string;
  mode?: RetrievalMode;
  json?: boolean;
}

export function searchCommand(globals: () => GlobalOptions): Command {
  return new Command('search')
    .description(
      "search the twin's memory: the chunks of your writing that best match a query (offline, no LLM, no reranking)",
    )
    .argument('<query>', 'what to look for')
    .option(
      '--author <name>',
      'only this author\'s writing ("First Last"); default: an author the query names',
    )
    .option('-k <n>', 'how many chunks', '9')
    .addOption(
      new Option(
        '--mode <mode>',
        'hybrid (meaning and keywords), dense or lexical (default TWIN_RAG_MODE)',
      ).choices(RETRIEVAL_MODES),
    )
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
          // The retriever the service runs, without the steps that need a model beyond the embedder.
          const { retriever, defaults } = await openRetriever(settings, {
            authors: warehouse,
            featureServices: services,
            queryModel: null,
            reranker: null,
          });
          const retrieval = await retriever.retrieve(
            query,
            {
              ...defaults,
              k,
              expand: false,
              rerank: false,
              ...(options.mode ? { mode: options.mode } : {}),
              ...(authorId ? { author: authorId } : {}),
            },
            new TraceRecorder(query),
          );
          console.log(
            options.json ? JSON.stringify(retrieval.chunks, null, 2) : formatChunks(retrieval.chunks),
          );
        } finally {
          await services.close();
        }
      });
    });
}

function formatChunks(chunks: readonly RankedChunk[]): string {
  if (chunks.length === 0) return 'Nothing found: run `twin features` first, or check --author.';
  return chunks
    .map((chunk, rank) => {
      const text = chunk.original;
      const excerpt = text.length > 240 ? `${text.slice(0, 240)}…` : text;
      const source = chunk.link ?? chunk.name ?? chunk.documentId;
      return `${String(rank + 1)}. ${chunk.score.toFixed(3)}  ${chunk.authorFullName} · ${chunk.platform} · ${chunk.category}\n   ${source}\n   ${excerpt}`;
    })
    .join('\n');
}
