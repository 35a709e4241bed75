import { Command, Option } from 'commander';
import { InvalidInputError, RETRIEVAL_MODES, type RetrievalMode } from '../domain/index.js';
import { OPERATOR } from '../access/principal.js';
import { openConversationStore } from '../adapters/conversations/index.js';
import type { RequestTrace } from '../ports/request-trace.js';
import { Conversations } from '../rag/conversations.js';
import type { RagAnswer, RagRequest, Source } from '../rag/service.js';
import { IncompleteResultError, type GlobalOptions } from './context.js';
import { withRagService } from './rag-context.js';

interface AskOptions {
  author?: string;
  k?: string;
  expand: boolean;
  rerank: boolean;
  mode?: RetrievalMode;
  retrieveOnly?: boolean;
  json?: boolean;
  trace?: boolean;
  conversation?: string;
}

/** Exit code when no model wrote an answer (sources only) without --retrieve-only. */
export const EXIT_NO_ANSWER = 3;

export const GENERATION_HINT =
  'No generation model is configured, so only the sources are shown. To get answers offline, run ' +
  '`npx twin models pull --generator` (a local model, about 1 GB); or set OPENAI_API_KEY (and ' +
  'OPENAI_BASE_URL for another OpenAI-compatible server, TWIN_GENERATOR_MODEL for the model), or ' +
  'TWIN_SAGEMAKER_ENDPOINT for the twin on SageMaker. Pass --retrieve-only to ask for sources on purpose.';

export function askCommand(globals: () => GlobalOptions): Command {
  return new Command('ask')
    .description('ask your twin to write something: the answer, streamed, and the sources it used')
    .argument('<query>', 'what to write, e.g. "Write a LinkedIn post about RAG evaluation"')
    .option('--author <name>', 'whose voice and writing to use ("First Last"); default: found in the query')
    .option('-k <n>', 'how many chunks of context (default TWIN_RAG_K)')
    .option('--no-expand', 'search the query as written, without rewrites')
    .option('--no-rerank', 'keep the search order (no cross-encoder)')
    .addOption(
      new Option(
        '--mode <mode>',
        'search by meaning and keywords fused (hybrid), or one alone (default TWIN_RAG_MODE)',
      ).choices(RETRIEVAL_MODES),
    )
    .option('--retrieve-only', 'only find the sources; do not generate')
    .option('--json', 'print the whole reply as JSON (no streaming)')
    .option('--trace', 'print the request trace (steps, timings, chunk ids) to stderr')
    .option(
      '--conversation <id>',
      'continue this conversation (the id an earlier ask printed): "shorter", "now as a LinkedIn post"',
    )
    .action(async (query: string, options: AskOptions) => {
      const asked = askRequest(query, options);
      const traces: RequestTrace[] = [];
      const sinks = options.trace
        ? [{ record: (trace: RequestTrace) => Promise.resolve(void traces.push(trace)) }]
        : [];
      const reply = await withRagService(globals(), sinks, async (service, { settings }) => {
        // Every answered ask is a turn of a conversation (a new one unless --conversation names one).
        const conversations = new Conversations(
          await openConversationStore(settings),
          settings.conversations,
          settings.retrieval.maxQueryChars,
        );
        const prepared = await conversations.prepare(OPERATOR.id, asked, options.conversation);
        let answer: RagAnswer | undefined;
        if (options.json) answer = await service.answer(prepared.request);
        else {
          let streamed = false;
          for await (const event of service.stream(prepared.request)) {
            if (event.type === 'token') {
              streamed = true;
              process.stdout.write(event.data.text);
            } else if (event.type === 'done') answer = event.data;
          }
          if (streamed) process.stdout.write('\n\n');
        }
        if (!answer) return undefined;
        return { ...answer, conversation: await conversations.record(OPERATOR.id, prepared, answer) };
      });
      for (const trace of traces) process.stderr.write(`${JSON.stringify(trace, null, 2)}\n`);
      if (!reply) return;
      if (options.json) console.log(JSON.stringify(reply, null, 2));
      else {
        console.log(formatSources(reply));
        const kept = reply.conversation;
        if (kept.saved && kept.id) {
          process.stderr.write(
            `Conversation ${kept.id} (turn ${String((kept.turn ?? 0) + 1)}): continue with twin ask --conversation ${kept.id} "..."\n`,
          );
        } else if (kept.reason && reply.answer !== null) {
          process.stderr.write(`This turn was not kept: ${kept.reason}\n`);
        }
      }
      if (reply.answer === null && !options.retrieveOnly) {
        throw new IncompleteResultError(GENERATION_HINT, EXIT_NO_ANSWER);
      }
    });
}

function askRequest(query: string, options: AskOptions): RagRequest {
  const k = options.k === undefined ? undefined : Number(options.k);
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > 50)) {
    throw new InvalidInputError('-k must be a whole number from 1 to 50', 'k');
  }
  return {
    query,
    expand: options.expand,
    rerank: options.rerank,
    ...(k !== undefined ? { k } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.author ? { author: options.author } : {}),
    ...(options.retrieveOnly ? { retrieveOnly: true } : {}),
  };
}

export function formatSources(reply: RagAnswer): string {
  const author = reply.author.name ? `${reply.author.name} (${reply.author.source})` : 'all authors';
  const lines = [`Sources (${author}; ${String(reply.queries.length)} queries; trace ${reply.trace_id}):`];
  if (reply.sources.length === 0) lines.push('  nothing found: run `twin features` first, or check --author');
  for (const source of reply.sources) lines.push(formatSource(source));
  for (const flag of reply.flags) lines.push(`  note: ${flag}`);
  return lines.join('\n');
}

function formatSource(source: Source): string {
  const excerpt = source.excerpt.length > 160 ? `${source.excerpt.slice(0, 160)}…` : source.excerpt;
  return `  [${String(source.rank)}] ${source.score.toFixed(3)} ${source.title} · ${source.platform} · ${source.author}\n      ${source.link ?? source.chunk_id}\n      ${excerpt}`;
}
