/* Free of imports but a type from a sibling port: the web app type-checks against this file too. */
import type { ExportRequest } from './export-uploads.js';

export type RunState = 'running' | 'succeeded' | 'failed';

/**
 * One link of a run: `pending` until its crawl has finished; `blocked` when a bot wall answered
 * instead of the page (nothing stored), with a hint naming the export or feed to use instead.
 */
export interface RunLink {
  input: string;
  outcome: 'pending' | 'inserted' | 'skipped' | 'blocked' | 'failed';
  documents: number;
  reason?: string;
  hint?: string;
  /** What a link with many documents held (a feed's items), in words. */
  detail?: string;
}

/** A collection run as the web app shows it. */
export interface CollectionRun {
  /** Opaque, URL-safe. */
  id: string;
  author: string;
  state: RunState;
  /** What the run is doing now, in words ("collecting", "featurising", "done"). */
  step: string;
  startedAt: string;
  finishedAt?: string;
  links: RunLink[];
  /** Chunks embedded for the new documents, where the run featurises them itself. */
  chunks?: number;
  /** For a run that imported a platform export: what it held. */
  export?: ExportOutcome;
  error?: string;
}

/** What an imported platform export held (twin etl --export prints the same). */
export interface ExportOutcome {
  platform: string;
  found: number;
  inserted: number;
  alreadyThere: number;
  skipped: Record<string, number>;
  /** Rows and files that could not be read; the rest was imported. */
  problems: { file: string; line?: number; reason: string }[];
}

/** What a run collects: an author's saved links, or a platform export they uploaded. */
export type RunRequest =
  { author: string; links: readonly string[] } | { author: string; export: ExportRequest };

/**
 * Starts collection runs and reports on them: the local pipeline in-process, or the ETL workflow on
 * Step Functions. A run crawls an author's links, loads what is new and brings the features up to date.
 */
export interface CollectionRuns {
  start(request: RunRequest): Promise<CollectionRun>;
  /** Undefined when no run has this id. */
  get(id: string): Promise<CollectionRun | undefined>;
}

/** A run for this author is still going: answered 409, naming the run to watch instead. */
export class RunInProgressError extends Error {
  constructor(readonly runId: string) {
    super(`a collection run for this author is already going (run ${runId}); wait for it to finish`);
    this.name = 'RunInProgressError';
  }
}
