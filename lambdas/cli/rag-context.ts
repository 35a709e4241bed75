import { OpikTraceSink } from '../adapters/monitoring/opik-sink.js';
import { openWarehouse } from '../adapters/warehouse/index.js';
import type { FeatureStore } from '../features/feature-store.js';
import { openFeatureServices } from '../features/services.js';
import type { Embedder } from '../ports/embedder.js';
import type { RequestTrace, TraceSink } from '../ports/request-trace.js';
import type { Warehouse } from '../ports/warehouse.js';
import { openRagService } from '../rag/open-service.js';
import type { RagService } from '../rag/service.js';
import type { Settings } from '../settings/index.js';
import { CachedAuthorDirectory } from '../warehouse/cached-author-directory.js';
import { cliSettings, type GlobalOptions } from './context.js';

/** Opik, when configured, beside the local sinks. */
export async function configuredSinks(settings: Settings, local: readonly TraceSink[]): Promise<TraceSink[]> {
  if (!settings.opik) return [...local];
  const opik = await OpikTraceSink.create({
    ...settings.opik,
    ...(settings.secrets.OPIK_API_KEY ? { apiKey: settings.secrets.OPIK_API_KEY } : {}),
  });
  return [...local, opik];
}

/** What a command running the twin may share with other work of the same process. */
export interface RagContext {
  settings: Settings;
  warehouse: Warehouse;
  /** The authors as the service reads them, kept a while: invalidate it after a run adds authors. */
  authors: CachedAuthorDirectory;
  /** The embedder and the feature store the service reads (one connection sees every write). */
  featureServices: { embedder: Embedder; features: FeatureStore };
}

/** Runs `work` with the RAG service over the local warehouse and feature store; always closes them. */
export async function withRagService<T>(
  globals: GlobalOptions,
  localSinks: readonly TraceSink[],
  work: (service: RagService, context: RagContext) => Promise<T>,
): Promise<T> {
  const settings = await cliSettings(globals);
  const warehouse = await openWarehouse(settings);
  try {
    const featureServices = await openFeatureServices(settings);
    try {
      const sinks = await configuredSinks(settings, localSinks);
      const authors = new CachedAuthorDirectory(warehouse);
      const rag = await openRagService(settings, {
        authors,
        sinks,
        featureServices,
        onSinkError: (error) => {
          process.stderr.write(
            `twin: a trace was not recorded (${error instanceof Error ? error.message : String(error)})\n`,
          );
        },
      });
      try {
        return await work(rag.service, { settings, warehouse, authors, featureServices });
      } finally {
        await rag.close();
      }
    } finally {
      await featureServices.close();
    }
  } finally {
    await warehouse.close();
  }
}

/** One line per request on stderr, for `twin serve`. */
export const summaryLine = (trace: RequestTrace): string => {
  const outcome = trace.error
    ? `failed: ${trace.error}`
    : trace.answer === undefined
      ? 'retrieval only'
      : 'answered';
  const flags = trace.flags.length > 0 ? ` [${trace.flags.join('; ')}]` : '';
  return `${new Date(trace.startedAt).toISOString()} ${trace.traceId} ${String(Math.round(trace.durationMs))} ms ${outcome}${flags}`;
};
