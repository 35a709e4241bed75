import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';

/** Where each author's current run is recorded in the artifact bucket. */
export const RUN_CLAIMS_PREFIX = 'collection-runs/authors/';

/** Whether a run still holds its author; `claimedAt` lets a run that is only starting count. */
export type RunIsActive = (runId: string, claimedAt: Date) => Promise<boolean>;

export type ClaimResult = { claimed: true } | { claimed: false; holder: string };

const ClaimSchema = z.object({ runId: z.string().min(1), author: z.string(), claimedAt: z.iso.datetime() });

/** A write that lost a race: S3 answers 412 to a failed condition, 409 to two conditional writes at once. */
function lostRace(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    name === 'PreconditionFailed' ||
    name === 'ConditionalRequestConflict' ||
    $metadata?.httpStatusCode === 412 ||
    $metadata?.httpStatusCode === 409
  );
}

/**
 * One collection run per author, across every caller: each author has one object in the artifact
 * bucket naming the run that holds them, and it is only ever written with S3's conditional writes.
 * The first claim creates it (If-None-Match: *); a later one replaces it (If-Match: the ETag it
 * read) only once the run it names is no longer active, so of two racing claims exactly one wins.
 * Nothing has to release a claim: a finished, failed or timed-out run is simply not active.
 */
export class S3RunClaims {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix = RUN_CLAIMS_PREFIX,
  ) {}

  async claim(author: string, runId: string, isActive: RunIsActive): Promise<ClaimResult> {
    const key = this.keyOf(author);
    const body = JSON.stringify({ runId, author, claimedAt: new Date().toISOString() });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.put(key, body, { IfNoneMatch: '*' })) return { claimed: true };
      const current = await this.read(key);
      if (!current) continue; // deleted in between: try to create it again
      if (current.claim && (await isActive(current.claim.runId, new Date(current.claim.claimedAt))))
        return { claimed: false, holder: current.claim.runId };
      if (await this.put(key, body, { IfMatch: current.etag })) return { claimed: true };
    }
    // Three lost races in a row: someone else is claiming this author right now.
    const holder = (await this.read(key))?.claim?.runId;
    return { claimed: false, holder: holder ?? 'unknown' };
  }

  /** Names are compared as the web app does: trimmed, spaces collapsed, case ignored. */
  private keyOf(author: string): string {
    const normalized = author.trim().replace(/\s+/gu, ' ').toLowerCase();
    return `${this.prefix}${createHash('sha256').update(normalized).digest('hex').slice(0, 32)}.json`;
  }

  private async put(key: string, body: string, condition: { IfNoneMatch: string } | { IfMatch: string }) {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (lostRace(error)) return false;
      throw error;
    }
  }

  private async read(
    key: string,
  ): Promise<{ etag: string; claim?: z.infer<typeof ClaimSchema> } | undefined> {
    let object;
    try {
      object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw error;
    }
    const text = (await object.Body?.transformToString('utf8')) ?? '';
    // A record that does not parse (written by hand, say) holds nobody, and is replaced.
    const parsed = ClaimSchema.safeParse(parseJson(text));
    return { etag: object.ETag ?? '', ...(parsed.success ? { claim: parsed.data } : {}) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
