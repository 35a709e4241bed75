import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REFERENCE_WAREHOUSE_DIR, referenceCorpusAvailable } from '../support/environment.js';
import { CHROMIUM_PATH, chromiumAvailable } from '../support/chromium.js';
import { startFixtureSites } from '../support/fixture-sites.js';
import { startHubServer } from '../support/hub-server.js';
import { startLlmServer } from '../support/llm-server.js';
import { runTwin } from '../support/twin-cli.js';
import { startTwinServe } from '../support/twin-serve.js';
import { embeddingModelAvailable, TEST_MODELS_DIR } from '../support/models.js';
import { mediumExportEntries } from '../support/platform-exports.js';
import { zipArchive } from '../support/zip-archives.js';

const twin = runTwin;

/** A small warehouse export: both reference users and each author's two shortest articles. */
async function writeSmallExport(dataDir: string): Promise<string> {
  const exportDir = join(dataDir, 'small-export');
  await mkdir(exportDir);
  const articles = JSON.parse(
    await readFile(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'), 'utf8'),
  ) as {
    author_full_name: string;
    content: { Content?: string };
  }[];
  articles.sort((a, b) => (a.content.Content?.length ?? 0) - (b.content.Content?.length ?? 0));
  const small = ['Paul Iusztin', 'Maxime Labonne'].flatMap((name) =>
    articles.filter((article) => article.author_full_name === name).slice(0, 2),
  );
  await writeFile(join(exportDir, 'ArticleDocument.json'), JSON.stringify(small));
  await copyFile(join(REFERENCE_WAREHOUSE_DIR, 'UserDocument.json'), join(exportDir, 'UserDocument.json'));
  return exportDir;
}

describe('the twin CLI', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'twin-cli-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it.runIf(referenceCorpusAvailable())(
    'imports an export, prints the stats, and exports it again',
    async () => {
      const env = { TWIN_DATA_DIR: dataDir };
      const imported = await twin(['warehouse', 'import', REFERENCE_WAREHOUSE_DIR], env);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain('articles: 76 inserted, 0 already there');
      expect(imported.stdout).toMatch(/Paul Iusztin: 50/);
      expect(imported.stderr).toMatch(/articles .* 76\/76/);

      const stats = await twin(['warehouse', 'stats', '--json'], env);
      expect(JSON.parse(stats.stdout)).toMatchObject({ users: 2, categories: { articles: { total: 76 } } });

      const out = join(dataDir, 'export');
      expect((await twin(['--data-dir', dataDir, 'warehouse', 'export', out], {})).code).toBe(0);
      expect((await readdir(out)).sort()).toEqual([
        'ArticleDocument.json',
        'PostDocument.json',
        'RepositoryDocument.json',
        'UserDocument.json',
      ]);
    },
    60_000,
  );

  it.runIf(referenceCorpusAvailable() && embeddingModelAvailable())(
    'featurises imported articles, then finds nothing to redo on a second run',
    async () => {
      const exportDir = await writeSmallExport(dataDir);
      const env = {
        TWIN_DATA_DIR: dataDir,
        TWIN_MODELS_DIR: TEST_MODELS_DIR,
        TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
      };
      expect((await twin(['warehouse', 'import', exportDir], env)).code).toBe(0);

      const first = await twin(['features'], env);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(
        /articles: 4 documents, 4 processed into \d+ embedded chunks, 0 unchanged/,
      );
      expect(first.stdout).toMatch(/articles: 4 cleaned documents, \d+ embedded chunks/);
      expect(first.stderr).toMatch(/features .* 4\/4/);

      const second = await twin(['features', '--authors', 'Maxime Labonne'], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(
        'articles: 2 documents, 0 processed into 0 embedded chunks, 2 unchanged',
      );

      const search = await twin(
        ['search', 'fine-tuning language models', '-k', '2', '--author', 'Maxime Labonne'],
        env,
      );
      expect(search.code).toBe(0);
      expect(search.stdout).toMatch(/^1\. 0\.\d{3} {2}Maxime Labonne · /mu);
      expect(search.stdout).toMatch(/^2\. /mu);
      expect(search.stdout).not.toMatch(/^3\. /mu);

      // The cleaned snapshot feeds dataset generation; the LLM is a deterministic local server.
      const llm = await startLlmServer();
      try {
        const withLlm = { ...env, OPENAI_BASE_URL: `${llm.url}/v1`, OPENAI_API_KEY: 'test-key' };
        const dataset = await twin(['dataset', 'instruct', '--limit', '10'], withLlm);
        expect(dataset.code).toBe(0);
        const version = /instruct dataset ([0-9a-f]{16}) written: (.*)$/mu.exec(dataset.stdout);
        expect(version).not.toBeNull();
        expect(dataset.stdout).toContain('10 requests to gpt-4o-mini, 0 malformed replies, 0 failed');
        expect((await readdir(version?.[2] ?? '')).sort()).toEqual([
          'manifest.json',
          'test.jsonl',
          'train.jsonl',
        ]);
        const again = await twin(['dataset', 'instruct', '--limit', '10'], withLlm);
        expect(again.stdout).toContain(
          `instruct dataset ${version?.[1] ?? ''} already existed (same inputs, same version)`,
        );
        // Published to (an imitation of) the Hugging Face Hub without generating again.
        const hub = await startHubServer({ token: 'hf_cli_test_token' });
        try {
          const pushEnv = { ...env, HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_cli_test_token' };
          const pushArgs = ['dataset', 'instruct', '--version', version?.[1] ?? '', '--push', 'ada/twin'];
          const pushed = await twin(pushArgs, pushEnv);
          expect(pushed.code).toBe(0);
          expect(pushed.stdout).toContain(
            `published instruct dataset ${version?.[1] ?? ''} to ${hub.url}/datasets/ada/twin`,
          );
          expect((await twin(pushArgs, pushEnv)).stdout).toContain('is already on');
          expect(llm.requests).toBe(20);
          const noToken = await twin(pushArgs, env);
          expect(noToken.code).toBe(2);
          expect(noToken.stderr).toContain('publishing to the Hub needs HF_TOKEN');
        } finally {
          await hub.close();
        }
        // A provider that refuses the key: the run stops at once, exits non-zero and writes nothing.
        const refusing = await startLlmServer({ fault: () => 'unauthorized' });
        try {
          const artifactsBefore = await readdir(join(dataDir, 'artifacts', 'datasets', 'instruct'));
          const refused = await twin(['dataset', 'instruct'], {
            ...withLlm,
            OPENAI_BASE_URL: `${refusing.url}/v1`,
          });
          expect(refused.code).toBe(1);
          expect(refused.stderr).toMatch(/HTTP 401.*check OPENAI_API_KEY/u);
          expect(refusing.requests).toBeLessThanOrEqual(4);
          expect(await readdir(join(dataDir, 'artifacts', 'datasets', 'instruct'))).toEqual(artifactsBefore);
        } finally {
          await refusing.close();
        }
        // No key and no local model in the model folder: nothing can write the examples.
        const noLlm = await twin(['dataset', 'preference'], {
          ...env,
          TWIN_MODELS_DIR: join(dataDir, 'no-models'),
        });
        expect(noLlm.code).toBe(2);
        expect(noLlm.stderr).toContain('dataset generation needs an LLM');
        expect(noLlm.stderr).toContain('twin models pull --generator');
      } finally {
        await llm.close();
      }

      const unknown = await twin(['features', '--authors', 'Ada Lovelace'], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown author "Ada Lovelace"; the warehouse has ');
      expect(unknown.stderr).toMatch(/Maxime Labonne/);
    },
    90_000,
  );

  it.runIf(referenceCorpusAvailable() && embeddingModelAvailable())(
    'twin serve, left running, retrieves what twin features writes meanwhile in another process',
    async () => {
      const env = {
        TWIN_DATA_DIR: dataDir,
        TWIN_MODELS_DIR: TEST_MODELS_DIR,
        TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
      };
      expect((await twin(['warehouse', 'import', await writeSmallExport(dataDir)], env)).code).toBe(0);
      expect((await twin(['features', '--authors', 'Paul Iusztin'], env)).code).toBe(0);

      const serve = await startTwinServe([], env);
      const authorsOfSources = async (author?: string) => {
        const response = await fetch(`${serve.url}/rag`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: 'fine-tuning language models',
            retrieve_only: true,
            expand: false,
            rerank: false,
            ...(author ? { author } : {}),
          }),
        });
        expect(response.status).toBe(200);
        const { sources } = (await response.json()) as { sources: { author: string }[] };
        return new Set(sources.map((source) => source.author));
      };
      try {
        expect(await authorsOfSources()).toEqual(new Set(['Paul Iusztin']));

        expect((await twin(['features', '--authors', 'Maxime Labonne'], env)).code).toBe(0);

        expect(await authorsOfSources('Maxime Labonne')).toEqual(new Set(['Maxime Labonne']));
        expect(await authorsOfSources()).toEqual(new Set(['Paul Iusztin', 'Maxime Labonne']));
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    },
    90_000,
  );

  it.runIf(chromiumAvailable())(
    'collects links from fixture sites with twin etl, then skips them on a second run',
    async () => {
      const sites = await startFixtureSites();
      try {
        const env = { TWIN_DATA_DIR: dataDir, TWIN_CHROMIUM_PATH: CHROMIUM_PATH };
        const links = [
          `${sites.url}/p/first-post?utm_source=x`,
          `${sites.url}/app/rendered`,
          `${sites.url}/files/paper.pdf`,
        ];
        const first = await twin(['etl', '--allow-loopback', '--author', 'Ada Lovelace', ...links], env);
        expect(first.code).toBe(0);
        expect(first.stdout).toContain('ETL for Ada Lovelace: 2 inserted, 0 already there, 1 failed');
        expect(first.stdout).toContain('127.0.0.1: 2/3 successful');
        expect(first.stdout).toContain('not an article page: application/pdf');
        expect(first.stderr).toMatch(/links .* 3\/3/u);

        const config = join(dataDir, 'ada.yaml');
        await writeFile(
          config,
          `author: Ada Lovelace\nlinks:\n  - ${sites.url}/p/first-post\n  - ${sites.url}/app/rendered\n`,
        );
        const second = await twin(['etl', '--allow-loopback', '--config', config], env);
        expect(second.stdout).toContain('ETL for Ada Lovelace: 0 inserted, 2 already there, 0 failed');

        const guarded = await twin(['etl', '--author', 'Ada Lovelace', `${sites.url}/p/another`], env);
        expect(guarded.code).toBe(1);
        expect(guarded.stdout).toContain('refused 127.0.0.1: it resolves to 127.0.0.1 (loopback)');
        expect(guarded.stderr).toContain('twin: none of the 1 links could be collected');
      } finally {
        await sites.close();
      }
    },
    90_000,
  );

  it('says exactly how to start training, evaluation and the model list on AWS when this machine cannot', async () => {
    const noAws = {
      TWIN_DATA_DIR: dataDir,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: 'llm-twin-test-no-such-profile',
      AWS_CONFIG_FILE: join(dataDir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-credentials'),
    };
    const train = await twin(['train', '--smoke', '--instruct', 'abcd1234'], noAws);
    expect(train.code).toBe(0);
    expect(train.stdout).toContain('TWIN_TRAINING_WORKFLOW_ARN is not set');
    expect(train.stdout).toContain(
      `aws stepfunctions start-execution --state-machine-arn <TrainingWorkflowArn`,
    );
    expect(train.stdout).toContain(`--input '{"instructVersion":"abcd1234","smoke":true}'`);

    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:twin-training';
    const configured = await twin(['train'], { ...noAws, TWIN_TRAINING_WORKFLOW_ARN: arn });
    expect(configured.stdout).toContain('no AWS credentials were found');
    expect(configured.stdout).toContain(`--state-machine-arn ${arn} --input '{"smoke":false}'`);

    const evaluate = await twin(['evaluate', '--model', 's3://twin/models/x/output/model.tar.gz'], noAws);
    expect(evaluate.stdout).toContain('"evaluate":{"modelS3Uri":"s3://twin/models/x/output/model.tar.gz"');

    const models = await twin(['models'], noAws);
    expect(models.stdout).toContain(
      'aws sagemaker list-model-packages --model-package-group-name llm-twin-dev',
    );

    const bad = await twin(['train', '--instruct', 'latest'], noAws);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('instructVersion: must be a dataset version (hexadecimal)');
    expect((await twin(['evaluate', '--model', 'my-model'], noAws)).code).toBe(2);
  }, 60_000);

  it('names the file and field of a bad author config', async () => {
    const config = join(dataDir, 'bad.yaml');
    await writeFile(config, 'author: Ada Lovelace\nlinks: []\n');
    const result = await twin(['etl', '--config', config], { TWIN_DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${config}: links: must list at least one link`);
  });

  it('fails with exit code 2 and a one-line reason for a folder that does not exist', async () => {
    const result = await twin(['warehouse', 'import', join(dataDir, 'nope')], { TWIN_DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^twin: .*nope is not a folder; pass a warehouse export folder or its URL\n$/m,
    );
    expect(result.stderr).not.toMatch(/\s+at /); // no stack trace
  });

  it('names the bad variable when the configuration is invalid', async () => {
    const result = await twin(['warehouse', 'stats'], { TWIN_DATA_DIR: dataDir, TWIN_WAREHOUSE: 'redis' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TWIN_WAREHOUSE: must be "embedded" (local default) or "mongodb"');
  });

  it('explains its subcommands', async () => {
    const help = await twin(['warehouse', '--help'], {});
    expect(help.code).toBe(0);
    for (const command of ['import', 'export', 'stats']) expect(help.stdout).toContain(command);
    expect((await twin(['--help'], {})).stdout).toContain('features');
  });
});

describe('twin etl --export', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-export-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a Medium export, says what it skipped, and adds nothing the second time', async () => {
    const env = { TWIN_DATA_DIR: join(dir, 'data') };
    const archive = join(dir, 'medium-export.zip');
    await writeFile(archive, zipArchive(mediumExportEntries()));
    const first = await twin(['etl', '--export', archive, '--author', 'Paul Iusztin'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('medium export for Paul Iusztin: 2 found, 2 inserted, 0 already there');
    expect(first.stdout).toContain('skipped: 1 draft');
    const second = await twin(['etl', '--export', archive, '--author', 'Paul Iusztin'], env);
    expect(second.stdout).toContain('2 found, 0 inserted, 2 already there');
  });

  it('refuses a hostile archive with the reason and exit code 2, and stores nothing', async () => {
    const env = { TWIN_DATA_DIR: join(dir, 'data') };
    const archive = join(dir, 'evil.zip');
    await writeFile(archive, zipArchive([...mediumExportEntries(), { name: '../escape.html', data: 'x' }]));
    const refused = await twin(['etl', '--export', archive, '--author', 'Paul Iusztin'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^twin: the archive is malformed or unsafe: invalid relative path: \.\.\/escape\.html/mu,
    );
    const stats = await twin(['warehouse', 'stats', '--json'], env);
    expect(JSON.parse(stats.stdout)).toMatchObject({ users: 0 });
  });
});

describe('twin access', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-access-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('grants, lists, issues a token shown once, and revokes', async () => {
    const env = { TWIN_DATA_DIR: dir };
    expect((await twin(['access', 'list'], env)).stdout).toMatch(
      /No access policy: every caller may use every twin/u,
    );
    const granted = await twin(['access', 'grant', 'token:alice', 'Ada Lovelace', 'Alan Turing'], env);
    expect(granted.stdout).toContain('token:alice may now use: Ada Lovelace, Alan Turing');
    const issued = await twin(['access', 'token', 'token:alice'], env);
    const token = issued.stdout.trim();
    expect(token).toMatch(/^twin_[\w-]{32}$/u);
    const file = await readFile(join(dir, 'artifacts', 'access', 'policy.yaml'), 'utf8');
    expect(file).not.toContain(token);
    expect((await twin(['access', 'list'], env)).stdout).toContain(
      'token:alice: Ada Lovelace, Alan Turing [has a token]',
    );
    expect((await twin(['access', 'revoke', 'token:alice', 'Alan Turing'], env)).stdout).toContain(
      'token:alice may now use: Ada Lovelace',
    );
    const bad = await twin(['access', 'grant', 'alice', 'Ada Lovelace'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"alice" is not a principal/u);
  });
});
