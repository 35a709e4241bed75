import { randomUUID } from 'node:crypto';
import type { RequestTrace, TraceStep } from '../ports/request-trace.js';

/** Collects the steps of one RAG request as they run, with their timings, into a RequestTrace. */
export class TraceRecorder {
  readonly traceId: string;
  readonly principal: string | undefined;
  readonly flags = new Set<string>();
  readonly models: Record<string, string> = {};
  private readonly steps: TraceStep[] = [];
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly origin: number;

  constructor(
    readonly query: string,
    options: { traceId?: string; now?: () => number; principal?: string } = {},
  ) {
    this.traceId = options.traceId ?? randomUUID();
    this.principal = options.principal;
    this.now = options.now ?? (() => performance.now());
    this.startedAt = Date.now();
    this.origin = this.now();
  }

  /** Runs one step and records how long it took, what it was given and what it produced. */
  async step<T>(
    name: string,
    input: Record<string, unknown>,
    run: () => Promise<T>,
    describe: (result: T) => Record<string, unknown> = () => ({}),
  ): Promise<T> {
    const start = this.now();
    const step: TraceStep = { name, startedAt: this.startedAt + (start - this.origin), durationMs: 0, input };
    this.steps.push(step);
    try {
      const result = await run();
      step.output = describe(result);
      return result;
    } catch (error) {
      step.output = { error: error instanceof Error ? error.message : String(error) };
      throw error;
    } finally {
      step.durationMs = round(this.now() - start);
    }
  }

  /** Records a step whose timing was measured elsewhere (e.g. a streamed generation). */
  record(step: Omit<TraceStep, 'startedAt'>): void {
    this.steps.push({ ...step, startedAt: this.startedAt + (this.now() - this.origin - step.durationMs) });
  }

  /** Milliseconds per step name (summed when a step ran more than once) and in all. */
  timings(): Record<string, number> {
    const timings: Record<string, number> = {};
    for (const step of this.steps) timings[step.name] = round((timings[step.name] ?? 0) + step.durationMs);
    timings.total = round(this.now() - this.origin);
    return timings;
  }

  finish(outcome: { answer?: string; error?: string }): RequestTrace {
    return {
      traceId: this.traceId,
      ...(this.principal ? { principal: this.principal } : {}),
      startedAt: this.startedAt,
      durationMs: round(this.now() - this.origin),
      query: this.query,
      ...(outcome.answer !== undefined ? { answer: outcome.answer } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      flags: [...this.flags],
      models: { ...this.models },
      steps: this.steps.map((step) => ({ ...step })),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
