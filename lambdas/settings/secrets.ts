import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  InvalidSettingsError,
  loadSettings,
  SECRET_SETTINGS,
  setSecretCommand,
  UNSET_SECRET_VALUE,
  type Settings,
} from './settings.js';

export type SecretFetcher = (arn: string) => Promise<string>;

/**
 * Reads a secret's string value from AWS Secrets Manager. Build one per container, not per request.
 * The SDK is loaded on first use only, so runs without secret ARNs (the laptop CLI) never load it.
 */
export function secretsManagerFetcher(client?: SecretsManagerClient): SecretFetcher {
  let sdk: Promise<typeof import('@aws-sdk/client-secrets-manager')> | undefined;
  return async (arn) => {
    sdk ??= import('@aws-sdk/client-secrets-manager');
    const { GetSecretValueCommand, SecretsManagerClient: Client } = await sdk;
    client ??= new Client({});
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (SecretString === undefined || SecretString.trim() === '') {
      throw new Error(`secret ${arn} has no string value; set it with "aws secretsmanager put-secret-value"`);
    }
    return SecretString;
  };
}

/**
 * Loads the settings and fetches every secret given by ARN (`<NAME>_SECRET_ARN`), concurrently, once
 * per cold start. Fetched values pass the same validation as values given directly; a value given
 * directly wins, so a developer can override one secret locally.
 */
export async function loadSettingsWithSecrets(
  env: NodeJS.ProcessEnv,
  fetchSecret: SecretFetcher = secretsManagerFetcher(),
): Promise<Settings> {
  const declared = loadSettings(env);
  const pending = SECRET_SETTINGS.filter(
    (name) => declared.secrets[name] === undefined && declared.secretArns[name],
  );
  if (pending.length === 0) return declared;

  const fetched = await Promise.all(
    pending.map(async (name) => {
      const arn = declared.secretArns[name] as string;
      try {
        return [name, await fetchSecret(arn)] as const;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`could not read ${name} from Secrets Manager (${arn}): ${reason}`, { cause: error });
      }
    }),
  );
  // A secret still holding the stack's placeholder is not set: the setting is absent, ARN and all, so
  // that a function needing it fails here, naming the secret, instead of using the placeholder.
  const unset = new Set(fetched.filter(([, value]) => value === UNSET_SECRET_VALUE).map(([name]) => name));
  const unsetArns = new Set([...unset].map((name) => `${name}_SECRET_ARN`));
  const withoutUnset = Object.fromEntries(Object.entries(env).filter(([key]) => !unsetArns.has(key)));
  const values = fetched.filter(([name]) => !unset.has(name));
  try {
    return loadSettings({ ...withoutUnset, ...Object.fromEntries(values) });
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    const explained = (problem: string) => {
      const name = pending.find((candidate) => problem.startsWith(`${candidate}:`));
      if (!name) return problem;
      const arn = declared.secretArns[name] ?? '';
      return unset.has(name)
        ? `${problem}; its secret ${arn} still holds the placeholder the stack created it with: set it with ${setSecretCommand(arn)}`
        : `${problem} (value read from Secrets Manager)`;
    };
    throw new InvalidSettingsError(error.problems.map(explained));
  }
}
