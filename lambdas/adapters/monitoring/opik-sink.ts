import type { Opik } from 'opik';
import type { RequestTrace, TraceSink } from '../../ports/request-trace.js';

export interface OpikSinkOptions {
  apiKey?: string;
  url?: string;
  workspace?: string;
  projectName: string;
}

const LLM_STEPS = new Set(['self_query', 'query_expansion', 'generation']);

/**
 * RAG traces to Opik (Comet's LLM tracing), one trace per request with a span per step. The SDK
 * batches in the background; each trace is flushed before the request ends, because a Lambda
 * container may be frozen right after.
 */
export class OpikTraceSink implements TraceSink {
  private constructor(private readonly client: Opik) {}

  static async create(options: OpikSinkOptions): Promise<OpikTraceSink> {
    const { Opik: OpikClient, setLoggerLevel } = await import('opik');
    // The SDK announces every flush at INFO; in a Lambda's log that is noise.
    setLoggerLevel('WARN');
    return new OpikTraceSink(
      new OpikClient({
        projectName: options.projectName,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
        ...(options.url ? { apiUrl: options.url } : {}),
        ...(options.workspace ? { workspaceName: options.workspace } : {}),
      }),
    );
  }

  async record(trace: RequestTrace): Promise<void> {
    // The request is over: every span is created with its real start and end, and never "ended" now.
    const opikTrace = this.client.trace({
      name: 'rag',
      startTime: new Date(trace.startedAt),
      endTime: new Date(trace.startedAt + trace.durationMs),
      input: { query: trace.query },
      output: trace.error ? { error: trace.error } : { answer: trace.answer ?? null },
      metadata: {
        trace_id: trace.traceId,
        models: trace.models,
        flags: trace.flags,
        duration_ms: trace.durationMs,
      },
      tags: trace.flags.includes('possible-prompt-injection') ? ['flagged'] : [],
    });
    for (const step of trace.steps) {
      opikTrace.span({
        name: step.name,
        type: LLM_STEPS.has(step.name) ? 'llm' : 'general',
        startTime: new Date(step.startedAt),
        endTime: new Date(step.startedAt + step.durationMs),
        input: step.input ?? {},
        output: step.output ?? {},
      });
    }
    await this.client.flush();
  }

  flush(): Promise<void> {
    return this.client.flush();
  }
}
