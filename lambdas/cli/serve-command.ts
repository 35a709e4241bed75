import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { FolderArtifactStore } from '../adapters/artifacts/folder.js';
import { openCrawlEnvironment } from '../collection/environment.js';
import { InvalidInputError } from '../domain/index.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { startLocalServer } from '../http/local-server.js';
import type { RequestTrace } from '../ports/request-trace.js';
import { openConversationStore } from '../adapters/conversations/index.js';
import { Conversations } from '../rag/conversations.js';
import { RagHttpApi } from '../rag/http-api.js';
import { bundleWebApp } from '../web-app/bundle.js';
import { isApiPath, localApp } from '../web-app/local-app.js';
import { isLoopbackHost } from '../http/local-guard.js';
import { AuthorLinksRepository } from '../workspace/author-links.js';
import { AccessControl } from '../access/policy-store.js';
import { LocalExportUploads } from '../adapters/uploads/local.js';
import { WorkspaceHttpApi } from '../workspace/http-api.js';
import { LocalCollectionRuns } from '../workspace/local-runs.js';
import { workspaceStats } from '../workspace/stats.js';
import { readLatestWritingEvaluation } from '../workspace/writing-evaluation.js';
import { asOnlyWriter, type GlobalOptions } from './context.js';
import { summaryLine, withRagService } from './rag-context.js';

interface ServeOptions {
  host: string;
  port: string;
  corsOrigin?: string[];
  authorsDir: string;
  allowLoopback?: boolean;
  token?: string;
}

/** A link that takes longer is reported failed; the same limit as `twin etl`. */
const PER_LINK_TIMEOUT_MS = 180_000;

export function serveCommand(globals: () => GlobalOptions): Command {
  return new Command('serve')
    .description(
      "serve the web app and the twin's HTTP API (POST /rag and the workspace API, as on AWS) until Ctrl-C",
    )
    .option('--host <host>', 'address to listen on (keep 127.0.0.1 unless you mean to share it)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option(
      '--cors-origin <origin...>',
      'other browser origins allowed to call the API (default TWIN_CORS_ORIGINS)',
    )
    .option('--authors-dir <dir>', "the authors' link lists the web app edits", 'configs/authors')
    .option(
      '--token <token>',
      'require this token (Authorization: Bearer, or x-api-key) on every API request; required with a --host other than loopback (default TWIN_SERVE_TOKEN)',
    )
    .option(
      '--allow-loopback',
      'collection runs may crawl sites on this machine (127.0.0.0/8, ::1): for local fixtures only',
    )
    .action(async (options: ServeOptions) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new InvalidInputError('--port must be a whole number from 0 to 65535', 'port');
      }
      const token = options.token ?? process.env.TWIN_SERVE_TOKEN;
      if (!isLoopbackHost(options.host) && (token === undefined || token.length < 16)) {
        throw new InvalidInputError(
          `listening on ${options.host} lets other machines reach your twin and its data: set --token (or TWIN_SERVE_TOKEN) to a secret of at least 16 characters, or keep --host 127.0.0.1`,
          'token',
        );
      }
      const assets = bundleWebApp();
      const log = {
        record: (trace: RequestTrace) =>
          Promise.resolve(void process.stderr.write(`${summaryLine(trace)}\n`)),
      };
      const reportError = (error: unknown) => {
        process.stderr.write(
          `twin serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      };
      await withRagService(
        globals(),
        [log],
        async (service, { settings, warehouse, authors, featureServices }) => {
          const corsOrigins = options.corsOrigin ?? settings.corsOrigins;
          // Who may use which twins: twin access grant|revoke|token, read again every 30 s.
          const access = new AccessControl(new FolderArtifactStore(settings.artifactsDir));
          const uploads = new LocalExportUploads(join(settings.dataDir, 'uploads'));
          const runs = new LocalCollectionRuns({
            uploads,
            warehouse,
            openEnvironment: () =>
              openCrawlEnvironment(
                settings,
                options.allowLoopback ? { network: { allowLoopback: true } } : {},
              ),
            featurize: async (authorId) => {
              const summary = await asOnlyWriter(settings, 'twin serve (a collection run)', () =>
                runFeaturePipeline({ warehouse, ...featureServices }, { authorIds: [authorId] }),
              );
              // The run may have added its author: name matching sees it on the next request.
              authors.invalidate();
              return Object.values(summary.categories).reduce((sum, category) => sum + category.chunks, 0);
            },
            concurrency: settings.crawl.concurrency,
            perLinkTimeoutMs: PER_LINK_TIMEOUT_MS,
            onError: reportError,
          });
          const workspace = {
            links: new AuthorLinksRepository(new FolderArtifactStore(resolve(options.authorsDir))),
            runs,
            stats: () => workspaceStats(warehouse, featureServices.features),
            writingEvaluation: () => readLatestWritingEvaluation(settings.dataDir),
            uploads,
            receiver: uploads,
          };
          // Conversations: the SQLite file in the data folder (TWIN_CONVERSATION_TTL_DAYS, _MAX_TURNS).
          const conversations = new Conversations(
            await openConversationStore(settings),
            settings.conversations,
            settings.retrieval.maxQueryChars,
            reportError,
          );
          const app = localApp({
            rag: new RagHttpApi(() => Promise.resolve(service), {
              corsOrigins,
              access,
              conversations,
              onError: reportError,
            }),
            workspace: new WorkspaceHttpApi(() => Promise.resolve(workspace), {
              corsOrigins,
              access,
              onError: reportError,
            }),
            assets,
          });
          const server = await startLocalServer(app, {
            host: options.host,
            port,
            corsOrigins,
            isPublic: (path) => !isApiPath(path),
            principals: (presented) => access.principalOfToken(presented),
            ...(token ? { token } : {}),
          });
          const generation = service.generates
            ? 'answers and sources'
            : 'sources only (no generation model configured)';
          console.log(
            `LLM Twin on ${server.url}/ : the web app, and the API at ${server.url}/rag (${generation}).`,
          );
          console.log('Ctrl-C to stop.');
          await new Promise<void>((done) => {
            process.once('SIGINT', done);
            process.once('SIGTERM', done);
          });
          await server.close();
          await runs.settle();
        },
      );
    });
}
