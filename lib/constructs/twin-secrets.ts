import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { SECRET_SETTINGS, UNSET_SECRET_VALUE, type SecretSetting } from '../../lambdas/settings/settings.js';

const DESCRIPTIONS: Record<SecretSetting, string> = {
  MONGODB_URI: 'Connection string of the MongoDB warehouse (mongodb+srv://...)',
  QDRANT_URL: 'URL of the Qdrant cluster holding the feature store',
  QDRANT_API_KEY: 'API key of the Qdrant cluster',
  OPENAI_API_KEY: 'API key for the OpenAI-compatible LLM API',
  HF_TOKEN: 'Hugging Face access token (gated base models, pushing datasets and models)',
  OPIK_API_KEY: 'API key of Opik (Comet), where RAG request traces go when monitoring is on',
  LINKEDIN_USERNAME: 'LinkedIn login used by the LinkedIn crawler',
  LINKEDIN_PASSWORD: 'LinkedIn password used by the LinkedIn crawler',
};

export interface TwinSecretsProps {
  /** Keep the secrets (and the values set in them) when the stack is deleted. Default: false. */
  readonly keep?: boolean;
}

/**
 * One Secrets Manager secret per secret setting. The stack creates them holding UNSET_SECRET_VALUE, a
 * placeholder that every reader takes as "not set" (a function that needs it fails at start-up naming
 * the secret and the command that sets it); the values are set outside the code (`aws secretsmanager
 * put-secret-value`), never in a template or an environment variable. Their names are CloudFormation's,
 * so a stack deleted and deployed again never meets a name a kept (or recently deleted) secret holds;
 * the stack's outputs name each one. Functions receive only the ARNs, plus read access to what they need.
 */
export class TwinSecrets extends Construct {
  readonly secrets: Record<SecretSetting, secretsmanager.Secret>;

  constructor(scope: Construct, id: string, props: TwinSecretsProps = {}) {
    super(scope, id);
    const entries = SECRET_SETTINGS.map((name) => {
      const secret = new secretsmanager.Secret(this, name, {
        description: `${DESCRIPTIONS[name]} (${name})`,
        // Not a secret: the marker of a secret nobody has set yet.
        secretStringValue: SecretValue.unsafePlainText(UNSET_SECRET_VALUE),
        removalPolicy: props.keep ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      NagSuppressions.addResourceSuppressions(secret, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'The value is a credential issued by a third party (MongoDB Atlas, Qdrant, OpenAI, Hugging Face, ' +
            'LinkedIn) that Secrets Manager cannot rotate; the owner rotates it at the provider.',
        },
      ]);
      return [name, secret] as const;
    });
    this.secrets = Object.fromEntries(entries) as Record<SecretSetting, secretsmanager.Secret>;
  }

  /** Environment variables pointing a function at the given secrets (`<NAME>_SECRET_ARN`). */
  environmentFor(names: readonly SecretSetting[]): Record<string, string> {
    return Object.fromEntries(names.map((name) => [`${name}_SECRET_ARN`, this.secrets[name].secretArn]));
  }

  /** Lets `grantee` read exactly these secrets. */
  grantRead(grantee: iam.IGrantable, names: readonly SecretSetting[]): void {
    for (const name of names) this.secrets[name].grantRead(grantee);
  }
}
