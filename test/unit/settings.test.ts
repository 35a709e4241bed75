import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultDataDir,
  InvalidSettingsError,
  loadSettings,
  loadSettingsWithSecrets,
  secretsManagerFetcher,
  SETTING_NAMES,
  UNSET_SECRET_VALUE,
} from '../../lambdas/settings/index.js';
import { REPO_ROOT } from '../support/environment.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:twin/mongodb-uri-AbCdEf';

function failureOf(env: NodeJS.ProcessEnv): InvalidSettingsError {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof InvalidSettingsError) return error;
    throw error;
  }
  throw new Error('expected the settings to be rejected');
}

describe('settings', () => {
  it('are all documented in .env.example', () => {
    const example = readFileSync(join(REPO_ROOT, '.env.example'), 'utf8');
    const documented = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('defaults to the embedded warehouse in a per-user data folder', () => {
    const settings = loadSettings({ HOME: '/home/ada' });
    expect(settings.warehouse).toEqual({ kind: 'embedded', file: `${settings.dataDir}/warehouse.sqlite` });
    expect(settings.dataDir).toBe(defaultDataDir({ HOME: '/home/ada' }));
    expect(settings.dataDir).not.toBe(process.cwd());
    expect(settings.logLevel).toBe('info');
  });

  it('puts local data where TWIN_DATA_DIR says, resolved to an absolute path', () => {
    expect(loadSettings({ TWIN_DATA_DIR: '/srv/twin' }).dataDir).toBe('/srv/twin');
    expect(loadSettings({ TWIN_DATA_DIR: 'rel/dir' }).dataDir).toBe(`${process.cwd()}/rel/dir`);
  });

  it('follows each platform convention for the default data folder', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/llm-twin');
    expect(defaultDataDir({ LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, 'win32')).toMatch(
      /Local.llm-twin$/,
    );
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/llm-twin$/);
    expect(defaultDataDir({ AWS_LAMBDA_FUNCTION_NAME: 'crawl' }, 'linux')).toBe('/tmp/llm-twin');
  });

  it('names the variable and the allowed values when a value is invalid', () => {
    const error = failureOf({ TWIN_WAREHOUSE: 'postgres', TWIN_LOG_LEVEL: 'loud' });
    expect(error.problems).toEqual([
      'TWIN_WAREHOUSE: must be "embedded" (local default) or "mongodb"',
      'TWIN_LOG_LEVEL: must be one of debug, info, warn, error',
    ]);
    expect(error.field).toBe('TWIN_WAREHOUSE');
  });

  it('takes the hybrid fusion and its weight, and refuses a fusion it does not know or a weight outside 0–1', () => {
    const { retrieval } = loadSettings({ TWIN_RAG_FUSION: 'rrf', TWIN_RAG_FUSION_K: '30' });
    expect(retrieval).toMatchObject({ fusion: 'rrf', fusionK: 30 });
    expect(loadSettings({}).retrieval).toMatchObject({ fusion: 'convex', fusionAlpha: 0.1 });
    const error = failureOf({ TWIN_RAG_FUSION: 'borda', TWIN_RAG_FUSION_ALPHA: '1.5' });
    expect(error.field).toBe('TWIN_RAG_FUSION');
    expect(error.problems[0]).toBe('TWIN_RAG_FUSION: must be one of rrf, convex');
    expect(error.problems[1]).toMatch(/^TWIN_RAG_FUSION_ALPHA: /);
  });

  it('rejects malformed URLs and secret ARNs', () => {
    expect(failureOf({ MONGODB_URI: 'postgres://x' }).problems).toEqual([
      'MONGODB_URI: must start with mongodb:// or mongodb+srv://',
    ]);
    expect(failureOf({ OPENAI_API_KEY_SECRET_ARN: 'my-secret' }).problems).toEqual([
      'OPENAI_API_KEY_SECRET_ARN: must be a Secrets Manager secret ARN',
    ]);
  });

  it('requires a MongoDB URI, directly or by secret, when the MongoDB warehouse is chosen', () => {
    expect(failureOf({ TWIN_WAREHOUSE: 'mongodb' }).message).toMatch(/MONGODB_URI: required/);
    const bySecret = loadSettings({ TWIN_WAREHOUSE: 'mongodb', MONGODB_URI_SECRET_ARN: ARN });
    expect(bySecret.warehouse).toEqual({ kind: 'mongodb', database: 'twin' });
    expect(bySecret.secretArns).toEqual({ MONGODB_URI: ARN });
  });

  it('defaults to the embedded vector store and all-MiniLM-L6-v2 from the Hub, cached in the data folder', () => {
    const settings = loadSettings({ TWIN_DATA_DIR: '/data/twin' });
    expect(settings.vectorStore).toEqual({ kind: 'embedded', dir: '/data/twin/vectors' });
    expect(settings.embedding).toEqual({
      modelId: 'sentence-transformers/all-MiniLM-L6-v2',
      modelsDir: '/data/twin/models',
      allowDownload: true,
      batchSize: 32,
    });
  });

  it('reads the model folder, the download switch and the batch size', () => {
    const settings = loadSettings({
      TWIN_MODELS_DIR: '/models',
      TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
      TWIN_EMBEDDING_BATCH_SIZE: '8',
      TWIN_EMBEDDING_MODEL_ID: 'BAAI/bge-small-en-v1.5',
    });
    expect(settings.embedding).toEqual({
      modelId: 'BAAI/bge-small-en-v1.5',
      modelsDir: '/models',
      allowDownload: false,
      batchSize: 8,
    });
    expect(failureOf({ TWIN_ALLOW_MODEL_DOWNLOAD: 'no' }).problems).toEqual([
      'TWIN_ALLOW_MODEL_DOWNLOAD: must be "true" or "false"',
    ]);
    expect(failureOf({ TWIN_EMBEDDING_BATCH_SIZE: '0' }).problems).toEqual([
      'TWIN_EMBEDDING_BATCH_SIZE: must be a whole number from 1 to 256',
    ]);
    expect(failureOf({ TWIN_EMBEDDING_MODEL_ID: '../etc/passwd' }).problems[0]).toMatch(
      /^TWIN_EMBEDDING_MODEL_ID: /u,
    );
  });

  it('requires a Qdrant URL, directly or by secret, when Qdrant is the vector store', () => {
    expect(failureOf({ TWIN_VECTOR_STORE: 'qdrant' }).problems).toEqual([
      'QDRANT_URL: required when TWIN_VECTOR_STORE=qdrant (or set QDRANT_URL_SECRET_ARN on AWS)',
    ]);
    expect(
      loadSettings({ TWIN_VECTOR_STORE: 'qdrant', QDRANT_URL: 'https://q.example:6333' }).vectorStore,
    ).toEqual({
      kind: 'qdrant',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadSettings({ TWIN_WAREHOUSE: '', TWIN_DATA_DIR: '/d' }).warehouse.kind).toBe('embedded');
  });
});

describe('secrets from Secrets Manager', () => {
  it('fetches each secret given by ARN once, and keeps values given directly', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: 'mongodb://db:27017' });
    const env = { TWIN_WAREHOUSE: 'mongodb', MONGODB_URI_SECRET_ARN: ARN, OPENAI_API_KEY: 'sk-local' };

    const resolved = await loadSettingsWithSecrets(env, secretsManagerFetcher(new SecretsManagerClient({})));

    expect(resolved.secrets).toEqual({ MONGODB_URI: 'mongodb://db:27017', OPENAI_API_KEY: 'sk-local' });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    secretsManager.restore();
  });

  it('says which secret could not be read and why', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '' });
    const env = { MONGODB_URI_SECRET_ARN: ARN };
    await expect(
      loadSettingsWithSecrets(env, secretsManagerFetcher(new SecretsManagerClient({}))),
    ).rejects.toThrow(/could not read MONGODB_URI from Secrets Manager .* has no string value/);
    secretsManager.restore();
  });

  it('validates values read from Secrets Manager like values given directly', async () => {
    const env = { TWIN_WAREHOUSE: 'mongodb', MONGODB_URI_SECRET_ARN: ARN };
    await expect(loadSettingsWithSecrets(env, () => Promise.resolve('localhost:27017'))).rejects.toThrow(
      'MONGODB_URI: must start with mongodb:// or mongodb+srv:// (value read from Secrets Manager)',
    );
  });

  it("takes a secret still holding the stack's placeholder as not set, and names it with the command to set it", async () => {
    const env = { TWIN_WAREHOUSE: 'mongodb', MONGODB_URI_SECRET_ARN: ARN, HF_TOKEN_SECRET_ARN: `${ARN}-hf` };
    const placeholder = () => Promise.resolve(UNSET_SECRET_VALUE);
    await expect(loadSettingsWithSecrets(env, placeholder)).rejects.toThrow(
      `MONGODB_URI: required when TWIN_WAREHOUSE=mongodb (or set MONGODB_URI_SECRET_ARN on AWS); its secret ${ARN} still holds the placeholder the stack created it with: set it with aws secretsmanager put-secret-value --secret-id ${ARN} --secret-string '...'`,
    );
    // An optional secret left unset is absent, never the placeholder.
    const settings = await loadSettingsWithSecrets({ HF_TOKEN_SECRET_ARN: `${ARN}-hf` }, placeholder);
    expect(settings.secrets.HF_TOKEN).toBeUndefined();
  });

  it('does not call Secrets Manager when no secret is given by ARN', async () => {
    const fetch = () => Promise.reject(new Error('must not be called'));
    await expect(loadSettingsWithSecrets({ OPENAI_API_KEY: 'sk' }, fetch)).resolves.toMatchObject({
      secrets: { OPENAI_API_KEY: 'sk' },
    });
  });
});
