import { z } from 'zod';
import type { ArtifactStore } from '../ports/artifact-store.js';

/**
 * The S3 side of a Step Functions Distributed Map: a planning step writes the items as a JSON array
 * (the Map's ItemReader reads it), and the summary step reads the children's results from the files
 * the Map's ResultWriter leaves (a manifest naming SUCCEEDED, FAILED and PENDING files). Neither list
 * passes through the workflow's payload, which Step Functions caps at 256 KiB.
 */

/** Where workflows keep their item files; the state machines may read under it (their IAM policy). */
export const WORKFLOW_ITEMS_PREFIX = 'workflow-runs/';

/** What a planning step returns: where the items are and how many, never the items themselves. */
export interface MapItems {
  key: string;
  count: number;
}

/** The item file of one execution's fan-out: re-running the execution rewrites the same file. */
export function mapItemsKey(workflow: string, executionName: string, fanOut: string): string {
  return `${WORKFLOW_ITEMS_PREFIX}${workflow}/${executionName}/${fanOut}.json`;
}

export async function writeMapItems(
  store: ArtifactStore,
  key: string,
  items: readonly unknown[],
): Promise<MapItems> {
  await store.write(key, JSON.stringify(items));
  return { key, count: items.length };
}

/** A Distributed Map's output when it has a ResultWriter: the Map Run and where its manifest is. */
export const MapRunOutputSchema = z.object({
  MapRunArn: z.string().min(1),
  ResultWriterDetails: z.object({ Bucket: z.string().min(1), Key: z.string().min(1) }),
});
export type MapRunOutput = z.infer<typeof MapRunOutputSchema>;

const FileList = z.array(z.object({ Key: z.string().min(1) })).default([]);

const ManifestSchema = z.object({
  DestinationBucket: z.string(),
  MapRunArn: z.string(),
  ResultFiles: z.object({ SUCCEEDED: FileList, FAILED: FileList, PENDING: FileList }),
});

/** One child execution as the ResultWriter records it: input and output are JSON strings. */
const ChildRecordSchema = z.object({
  Input: z.string().optional(),
  Output: z.string().optional(),
  Error: z.string().optional(),
  Cause: z.string().optional(),
  Status: z.string(),
});

export interface ChildRun {
  input: unknown;
  output: unknown;
}

export interface FailedChildRun {
  input: unknown;
  error: { Error: string; Cause: string };
}

export interface MapRunResults {
  succeeded: ChildRun[];
  /** Children that failed or never finished (PENDING when the run stopped). */
  failed: FailedChildRun[];
}

function parsedJson(text: string | undefined): unknown {
  return text === undefined || text === '' ? undefined : JSON.parse(text);
}

async function readJson(store: ArtifactStore, key: string): Promise<unknown> {
  const text = await store.read(key);
  if (text === undefined) throw new Error(`${store.location}/${key} does not exist`);
  return JSON.parse(text);
}

/** Every child's input and outcome, read from the files the Map's ResultWriter wrote. */
export async function readMapResults(store: ArtifactStore, run: MapRunOutput): Promise<MapRunResults> {
  const where = `s3://${run.ResultWriterDetails.Bucket}`;
  if (where !== store.location) {
    throw new Error(`the Map's results are in ${where}, but this function reads ${store.location}`);
  }
  const manifest = ManifestSchema.parse(await readJson(store, run.ResultWriterDetails.Key));
  const results: MapRunResults = { succeeded: [], failed: [] };
  const files = [
    ...manifest.ResultFiles.SUCCEEDED,
    ...manifest.ResultFiles.FAILED,
    ...manifest.ResultFiles.PENDING,
  ];
  for (const file of files) {
    const records = z.array(ChildRecordSchema).parse(await readJson(store, file.Key));
    for (const record of records) {
      const input = parsedJson(record.Input);
      if (record.Status === 'SUCCEEDED') {
        results.succeeded.push({ input, output: parsedJson(record.Output) });
      } else {
        results.failed.push({
          input,
          error: {
            Error: record.Error ?? `States.${record.Status}`,
            Cause: record.Cause ?? `the child execution ended ${record.Status}`,
          },
        });
      }
    }
  }
  return results;
}
