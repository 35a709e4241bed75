import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { S3RunClaims } from '../../lambdas/adapters/runs/s3-run-claims.js';
import { StepFunctionsCollectionRuns } from '../../lambdas/adapters/runs/step-functions.js';
import { LocalExportUploads } from '../../lambdas/adapters/uploads/local.js';
import { S3ExportUploads } from '../../lambdas/adapters/uploads/s3.js';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import { DEFAULT_GIT } from '../../lambdas/collection/environment.js';
import { DEFAULT_LIMITS } from '../../lambdas/collection/http-fetch.js';
import { createCrawlHandler } from '../../lambdas/handlers/crawl.js';
import { startLocalServer, type LocalServer } from '../../lambdas/http/local-server.js';
import type { CollectionRun, CollectionRuns } from '../../lambdas/ports/collection-runs.js';
import { MAX_EXPORT_UPLOAD_BYTES, type UploadTicket } from '../../lambdas/ports/export-uploads.js';
import { AuthorLinksRepository } from '../../lambdas/workspace/author-links.js';
import { WorkspaceHttpApi, type WorkspaceServices } from '../../lambdas/workspace/http-api.js';
import { LocalCollectionRuns } from '../../lambdas/workspace/local-runs.js';
import { startS3Simulator, startStepFunctionsSimulator } from '../support/aws-simulators.js';
import { mediumExportEntries } from '../support/platform-exports.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';
import { embeddedWarehouses, type WarehouseFixture } from '../support/warehouses.js';
import { zipArchive } from '../support/zip-archives.js';

const network = { allowLoopback: true };
const noStats = () => Promise.resolve({ authors: [] });

/** The web app's three steps, as its code does them: a ticket, the multipart upload, the run. */
function browser(server: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server}${path}`, {
      method,
      headers: { 'content-type': 'application/json', origin: server },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const upload = async (ticket: UploadTicket, archive: Buffer, fields: Record<string, string> = {}) => {
    const form = new FormData();
    for (const [name, value] of Object.entries({ ...ticket.fields, ...fields })) form.append(name, value);
    form.append('file', new Blob([archive], { type: 'application/zip' }), 'export.zip');
    const url = ticket.url.startsWith('/') ? `${server}${ticket.url}` : ticket.url;
    const response = await fetch(url, { method: 'POST', body: form, headers: { origin: server } });
    return { status: response.status, text: await response.text() };
  };
  const finished = async (id: string): Promise<CollectionRun> => {
    for (;;) {
      const run = (await call('GET', `/collection-runs/${id}`)).json as CollectionRun;
      if (run.state !== 'running') return run;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { call, upload, finished };
}

async function serve(services: WorkspaceServices): Promise<LocalServer> {
  const api = new WorkspaceHttpApi(() => Promise.resolve(services));
  return startLocalServer((request) => api.handle(request), { host: '127.0.0.1', port: 0, corsOrigins: [] });
}

describe('uploading an export from the web app to twin serve', () => {
  let dir: string;
  let fixture: WarehouseFixture;
  let runs: LocalCollectionRuns;
  let uploads: LocalExportUploads;
  let server: LocalServer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-uploads-'));
    fixture = await embeddedWarehouses.create();
    uploads = new LocalExportUploads(join(dir, 'uploads'));
    runs = new LocalCollectionRuns({
      warehouse: fixture.warehouse,
      openEnvironment: () => {
        throw new Error('an export run crawls nothing');
      },
      uploads,
      concurrency: 1,
      perLinkTimeoutMs: 1_000,
    });
    const links = new AuthorLinksRepository(new FolderArtifactStore(join(dir, 'authors')));
    server = await serve({ links, runs, stats: noStats, uploads, receiver: uploads });
  });
  afterEach(async () => {
    await runs.settle();
    await server.close();
    await fixture.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the upload under a ticket, imports it in a run with the report, and keeps no copy', async () => {
    const web = browser(server.url);
    const ticket = await web.call('POST', '/exports');
    expect(ticket).toMatchObject({
      status: 201,
      json: { url: '/exports/uploads', maxBytes: MAX_EXPORT_UPLOAD_BYTES },
    });
    const { key } = ticket.json as UploadTicket;
    expect(key).toMatch(/^exports\/[0-9a-f-]{36}\.zip$/u);

    expect(await web.upload(ticket.json as UploadTicket, zipArchive(mediumExportEntries()))).toEqual({
      status: 204,
      text: '',
    });
    // A ticket is good for one upload.
    expect((await web.upload(ticket.json as UploadTicket, zipArchive(mediumExportEntries()))).status).toBe(
      403,
    );

    const started = await web.call('POST', '/collection-runs', { author: 'Paul Iusztin', export: { key } });
    expect(started).toMatchObject({ status: 202, json: { state: 'running', step: 'importing', links: [] } });
    const done = await web.finished((started.json as CollectionRun).id);
    expect(done).toMatchObject({
      state: 'succeeded',
      export: {
        platform: 'medium',
        found: 2,
        inserted: 2,
        alreadyThere: 0,
        skipped: { draft: 1 },
        problems: [],
      },
    });
    expect((await fixture.warehouse.stats()).categories.articles.byAuthor).toEqual({ 'Paul Iusztin': 2 });
    expect(await readdir(join(dir, 'uploads', 'exports'))).toEqual([]);
  });

  it('refuses a hostile archive in the run, stores nothing and drops the upload', async () => {
    const web = browser(server.url);
    const ticket = (await web.call('POST', '/exports')).json as UploadTicket;
    const bomb = zipArchive([
      ...mediumExportEntries(),
      { name: 'medium-export/posts/bomb.html', data: Buffer.alloc(8 << 20) },
    ]);
    expect((await web.upload(ticket, bomb)).status).toBe(204);
    const started = await web.call('POST', '/collection-runs', {
      author: 'Paul Iusztin',
      export: { key: ticket.key },
    });
    const done = await web.finished((started.json as CollectionRun).id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/zip bomb/u);
    expect((await fixture.warehouse.stats()).users).toBe(0);
    expect(await readdir(join(dir, 'uploads', 'exports'))).toEqual([]);
  });

  it('answers a forged key, a key nobody uploaded, a foreign page and an oversized file plainly', async () => {
    const web = browser(server.url);
    const ticket = (await web.call('POST', '/exports')).json as UploadTicket;
    expect(
      (await web.upload(ticket, Buffer.from('x'), { key: 'exports/../../warehouse.sqlite' })).status,
    ).toBe(403);
    expect(
      (
        await web.call('POST', '/collection-runs', {
          author: 'Paul Iusztin',
          export: { key: '../warehouse.sqlite' },
        })
      ).json,
    ).toMatchObject({ field: 'export.key' });
    const unused = await web.call('POST', '/collection-runs', {
      author: 'Paul Iusztin',
      export: { key: ticket.key },
    });
    expect((await web.finished((unused.json as CollectionRun).id)).error).toMatch(
      /nothing was uploaded as exports\//u,
    );

    const form = new FormData();
    form.append('key', ticket.key);
    form.append('file', new Blob([Buffer.from('PK')]), 'export.zip');
    const foreign = await fetch(`${server.url}/exports/uploads`, {
      method: 'POST',
      body: form,
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);

    const huge = await web.upload(ticket, Buffer.alloc(MAX_EXPORT_UPLOAD_BYTES + 100 * 1024));
    expect(huge.status).toBe(413);
  });
});

describe('uploading an export on AWS: presigned POST to S3, imported by the ETL workflow', () => {
  const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:llm-twin-dev-etl';
  let s3: Awaited<ReturnType<typeof startS3Simulator>>;
  let fixture: WarehouseFixture;

  beforeAll(async () => {
    s3 = await startS3Simulator();
    fixture = await embeddedWarehouses.create();
  });
  afterAll(async () => {
    await s3.close();
    await fixture.dispose();
  });

  it('the browser posts the archive to the bucket under the signed policy; the run imports and removes it', async () => {
    const uploads = new S3ExportUploads(s3.client, 'artifacts');
    const environment = {
      network,
      limits: DEFAULT_LIMITS,
      browser: new BrowserSession({
        executablePath: '/nonexistent/chromium',
        network,
        navigationTimeoutMs: 1_000,
      }),
      git: DEFAULT_GIT,
    };
    const crawl = createCrawlHandler(() =>
      Promise.resolve({ warehouse: fixture.warehouse, environment, uploads }),
    );
    const call = (input: unknown) => crawl(input) as never;
    const sfn = await startStepFunctionsSimulator(
      MACHINE,
      loadDefinition('etl.asl.json', {
        CrawlFunctionArn: FAKE_FUNCTION_ARN,
        FeatureWorkflowArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:features',
        ArtifactBucket: 'artifacts',
      }),
      { ImportExport: call, StartFeaturePipeline: () => ({}) },
      s3.client,
    );
    const runs: CollectionRuns = new StepFunctionsCollectionRuns(
      sfn.client,
      MACHINE,
      new S3RunClaims(s3.client, 'artifacts'),
    );
    const server = await serve({
      links: new AuthorLinksRepository(
        new FolderArtifactStore(await mkdtemp(join(tmpdir(), 'twin-authors-'))),
      ),
      runs,
      stats: noStats,
      uploads,
    });
    let key: string;
    try {
      const web = browser(server.url);
      const ticket = (await web.call('POST', '/exports')).json as UploadTicket;
      key = ticket.key;
      expect(ticket.url).toBe(`${s3.url}/artifacts`);
      expect(Object.keys(ticket.fields).sort()).toEqual(
        [
          'Content-Type',
          'Policy',
          'X-Amz-Algorithm',
          'X-Amz-Credential',
          'X-Amz-Date',
          'X-Amz-Signature',
          'bucket',
          'key',
        ].sort(),
      );
      // The signed policy is the only authority: another key is refused by S3 itself.
      const forged = await web.upload(ticket, zipArchive(mediumExportEntries()), {
        key: 'author-configs/evil.yaml',
      });
      expect(forged.status).toBe(403);
      expect(await web.upload(ticket, zipArchive(mediumExportEntries()))).toEqual({ status: 204, text: '' });
      expect([...s3.objects.keys()].filter((name) => name.includes('exports/'))).toEqual([
        `artifacts/${key}`,
      ]);
    } finally {
      await server.close();
    }
    const run = await runs.start({ author: 'Paul Iusztin', export: { key } });
    await sfn.settled();
    expect(await runs.get(run.id)).toMatchObject({
      state: 'succeeded',
      export: { platform: 'medium', found: 2, inserted: 2, skipped: { draft: 1 } },
    });
    expect(s3.objects.has(`artifacts/${key}`)).toBe(false);
    expect((await fixture.warehouse.stats()).categories.articles.total).toBe(2);
    await sfn.close();
  });
});
