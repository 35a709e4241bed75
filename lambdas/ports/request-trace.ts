/** One step of a RAG request, for monitoring (SYSTEM.md §6). */
export interface TraceStep {
  name: string;
  startedAt: number;
  durationMs: number;
  input?: Record<string, unknown>;
  output?: Record<string, unknown>;
}

/** Everything one RAG request did, from the question to the answer. */
export interface RequestTrace {
  traceId: string;
  /** Who asked (a principal id such as token:alice or api-key:abc), never a secret. */
  principal?: string;
  startedAt: number;
  durationMs: number;
  query: string;
  answer?: string;
  error?: string;
  flags: string[];
  models: Record<string, string>;
  steps: TraceStep[];
}

/** Where finished traces go (the logs always; Opik when configured). Sinks never fail a request. */
export interface TraceSink {
  record(trace: RequestTrace): Promise<void>;
  flush?(): Promise<void>;
}
