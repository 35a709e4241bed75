import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SECRET_SETTINGS, type Settings } from './settings.js';

export type SecretFetcher = (arn: string) => Promise<string>;

/** Reads a secret's string value from AWS Secrets Manager. Build one per container, not per request. */
export function secretsManagerFetcher(client = new SecretsManagerClient({})): SecretFetcher {
  return async (arn) => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (SecretString === undefined || SecretString.trim() === '') {
      throw new Error(`secret ${arn} has no string value; set it with "aws secretsmanager put-secret-value"`);
    }
    return SecretString;
  };
}

/**
 * Fills `settings.secrets` from Secrets Manager for every secret given by ARN. A value given directly
 * wins, so a developer can override one secret locally. Fetches run concurrently, once per cold start.
 */
export async function resolveSecrets(settings: Settings, fetchSecret: SecretFetcher): Promise<Settings> {
  const pending = SECRET_SETTINGS.filter((name) => settings.secrets[name] === undefined && settings.secretArns[name]);
  const values = await Promise.all(
    pending.map(async (name) => {
      const arn = settings.secretArns[name] as string;
      try {
        return [name, await fetchSecret(arn)] as const;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`could not read ${name} from Secrets Manager (${arn}): ${reason}`, { cause: error });
      }
    }),
  );
  return { ...settings, secrets: { ...settings.secrets, ...Object.fromEntries(values) } };
}
