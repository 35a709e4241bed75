import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../domain/index.js';
import type { CrawlEnvironment, Crawler } from '../collection/crawlers/types.js';
import type { CrawlerKind } from '../collection/links.js';
import { exportOutcome, importUploadedExport } from '../collection/exports/uploaded.js';
import { crawlLinks } from '../collection/pipeline.js';
import type { CollectionRun, CollectionRuns, RunRequest } from '../ports/collection-runs.js';
import type { ExportRequest, ExportUploads } from '../ports/export-uploads.js';
import { RunInProgressError } from '../ports/collection-runs.js';
import type { Warehouse } from '../ports/warehouse.js';

/** Finished runs kept for status queries; older ones are forgotten. */
const RUNS_KEPT = 50;

export interface LocalRunDependencies {
  warehouse: Warehouse;
  /** One crawl environment (one browser) per run, closed when the run ends. */
  openEnvironment: () => CrawlEnvironment & { close(): Promise<void> };
  /** Brings the author's features up to date after the crawl; returns the chunks embedded. */
  featurize?: (authorId: string) => Promise<number>;
  concurrency: number;
  perLinkTimeoutMs: number;
  crawlers?: Partial<Record<CrawlerKind, Crawler>>;
  /** Uploaded platform exports, for runs that import one. */
  uploads?: ExportUploads;
  /** Told of a run that failed as a whole (a bug or a broken store, not a failing link). */
  onError?: (error: unknown) => void;
}

/**
 * Collection runs on this machine, for `twin serve`: the ETL pipeline then the feature pipeline for
 * the author, in the background, with each link's outcome visible as soon as it is known. One run
 * per author at a time; run state lives as long as the process.
 */
export class LocalCollectionRuns implements CollectionRuns {
  private readonly runs = new Map<string, CollectionRun>();
  private readonly finishing = new Set<Promise<void>>();

  constructor(private readonly dependencies: LocalRunDependencies) {}

  start(request: RunRequest): Promise<CollectionRun> {
    const busy = [...this.runs.values()].find(
      (run) => run.state === 'running' && run.author.toLowerCase() === request.author.toLowerCase(),
    );
    if (busy) return Promise.reject(new RunInProgressError(busy.id));
    const links = 'links' in request ? request.links : [];
    const run: CollectionRun = {
      id: randomUUID(),
      author: request.author,
      state: 'running',
      step: 'export' in request ? 'importing' : 'collecting',
      startedAt: new Date().toISOString(),
      links: links.map((input) => ({ input, outcome: 'pending', documents: 0 })),
    };
    this.runs.set(run.id, run);
    this.forgetOldRuns();
    const work =
      'export' in request
        ? this.importExport(run, request.export)
        : this.execute(run, { author: request.author, links });
    const execution = work.finally(() => this.finishing.delete(execution));
    this.finishing.add(execution);
    return Promise.resolve(structuredClone(run));
  }

  get(id: string): Promise<CollectionRun | undefined> {
    const run = this.runs.get(id);
    return Promise.resolve(run && structuredClone(run));
  }

  /** Waits for the runs in progress (before the stores they write to are closed). */
  async settle(): Promise<void> {
    await Promise.all([...this.finishing]);
  }

  /** A run that imports an uploaded export, then featurises what was new. */
  private importExport(run: CollectionRun, request: ExportRequest): Promise<void> {
    const { warehouse, featurize, uploads } = this.dependencies;
    return this.track(run, async () => {
      if (!uploads) throw new Error('this server takes no uploaded exports');
      const report = await importUploadedExport(warehouse, uploads, run.author, request);
      run.export = exportOutcome(report);
      if (featurize && report.inserted > 0) {
        run.step = 'featurising';
        run.chunks = await featurize(report.author.id);
      }
    });
  }

  private execute(run: CollectionRun, config: { author: string; links: readonly string[] }): Promise<void> {
    const { warehouse, featurize, crawlers } = this.dependencies;
    const environment = this.dependencies.openEnvironment();
    const work = async () => {
      const report = await crawlLinks(warehouse, environment, config.author, config.links, {
        concurrency: this.dependencies.concurrency,
        perLinkTimeoutMs: this.dependencies.perLinkTimeoutMs,
        ...(crawlers ? { crawlers } : {}),
        onLinkDone: (index, result) => {
          run.links[index] = {
            input: result.input,
            outcome: result.outcome,
            documents: result.documents,
            ...(result.reason ? { reason: result.reason } : {}),
            ...(result.hint ? { hint: result.hint } : {}),
            ...(result.detail ? { detail: result.detail } : {}),
          };
        },
      });
      const inserted = report.results.some((result) => result.outcome === 'inserted');
      if (featurize && inserted) {
        run.step = 'featurising';
        run.chunks = await featurize(report.author.id);
      }
      if (report.results.every((result) => result.outcome === 'failed' || result.outcome === 'blocked')) {
        run.state = 'failed';
        run.error = 'none of the links could be collected; see each link';
      }
    };
    return this.track(run, work, () => environment.close());
  }

  /**
   * Runs a run's work and records how it ended: succeeded unless the work says otherwise, failed
   * with the reason when it throws. A bug or a broken store is reported; bad input is the user's.
   */
  private async track(run: CollectionRun, work: () => Promise<void>, cleanUp?: () => Promise<void>) {
    try {
      await work();
      if (run.state === 'running') run.state = 'succeeded';
    } catch (error) {
      run.state = 'failed';
      run.error = error instanceof Error ? error.message : String(error);
      if (!(error instanceof InvalidInputError)) this.dependencies.onError?.(error);
    } finally {
      run.step = 'done';
      run.finishedAt = new Date().toISOString();
      await cleanUp?.();
    }
  }

  private forgetOldRuns(): void {
    const finished = [...this.runs.values()].filter((run) => run.state !== 'running');
    for (const run of finished.slice(0, Math.max(0, finished.length - RUNS_KEPT))) this.runs.delete(run.id);
  }
}
