import { Command } from 'commander';
import { InvalidInputError } from '../domain/index.js';
import type { RequestTrace } from '../ports/request-trace.js';
import { RagHttpApi } from '../rag/http-api.js';
import { startLocalServer } from '../rag/local-server.js';
import type { GlobalOptions } from './context.js';
import { summaryLine, withRagService } from './rag-context.js';

interface ServeOptions {
  host: string;
  port: string;
  corsOrigin?: string[];
}

export function serveCommand(globals: () => GlobalOptions): Command {
  return new Command('serve')
    .description("serve the twin's HTTP API (POST /rag, as on AWS) on this machine until Ctrl-C")
    .option('--host <host>', 'address to listen on (keep 127.0.0.1 unless you mean to share it)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option(
      '--cors-origin <origin...>',
      'browser origins allowed to call the API (default TWIN_CORS_ORIGINS)',
    )
    .action(async (options: ServeOptions) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new InvalidInputError('--port must be a whole number from 0 to 65535', 'port');
      }
      const log = {
        record: (trace: RequestTrace) =>
          Promise.resolve(void process.stderr.write(`${summaryLine(trace)}\n`)),
      };
      await withRagService(globals(), [log], async (service, settings) => {
        const api = new RagHttpApi(() => Promise.resolve(service), {
          corsOrigins: options.corsOrigin ?? settings.corsOrigins,
          onError: (error) => {
            process.stderr.write(
              `twin serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
            );
          },
        });
        const server = await startLocalServer((request) => api.handle(request), { host: options.host, port });
        const generation = service.generates
          ? 'answers and sources'
          : 'sources only (no generation model configured)';
        console.log(`Twin API on ${server.url}/rag (${generation}). Ctrl-C to stop.`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      });
    });
}
