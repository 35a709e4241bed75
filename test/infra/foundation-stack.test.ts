import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { SECRET_SETTINGS, UNSET_SECRET_VALUE } from '../../lambdas/settings/settings.js';
import { awsSolutionsFindings } from '../support/nag.js';

describe('FoundationStack', () => {
  let stack: FoundationStack;
  let template: Template;

  beforeAll(() => {
    stack = new FoundationStack(new App(), 'Foundation', { stage: 'test' });
    template = Template.fromStack(stack);
  });

  it('keeps artifacts in an encrypted, versioned, private bucket that logs its access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'artifacts/' },
    });
  });

  it('refuses plain-HTTP access to both buckets', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('keeps the buckets when the stack is deleted', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const bucket of Object.values(buckets)) expect(bucket).toMatchObject({ DeletionPolicy: 'Retain' });
  });

  it('creates one secret per secret setting, holding the not-set marker and named by CloudFormation', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', SECRET_SETTINGS.length);
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret')) as {
      Properties: Record<string, unknown>;
      DeletionPolicy?: string;
    }[];
    for (const secret of secrets) {
      // Never a generated value that a job would use as a token, and no fixed name to collide with.
      expect(secret.Properties.SecretString).toBe(UNSET_SECRET_VALUE);
      expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
      expect(secret.Properties).not.toHaveProperty('Name');
      expect(secret.DeletionPolicy).toBe('Retain');
    }
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('\\(MONGODB_URI\\)$'),
    });
  });

  it('deletes the secrets with a disposable stage (keepData: false)', () => {
    const dev = Template.fromStack(new FoundationStack(new App(), 'Dev', { stage: 'dev', keepData: false }));
    for (const secret of Object.values(dev.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret).toMatchObject({ DeletionPolicy: 'Delete' });
    }
  });

  it('runs the warehouse import on the latest Node.js runtime with the MongoDB URI only as a secret ARN', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          TWIN_WAREHOUSE: 'mongodb',
          MONGODB_URI_SECRET_ARN: { Ref: Match.stringLikeRegexp('SecretsMONGODBURI') },
          ARTIFACT_BUCKET: { Ref: Match.stringLikeRegexp('ArtifactsBucket') },
        }),
      },
    });
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    for (const fn of functions) expect(JSON.stringify(fn)).not.toMatch(/"MONGODB_URI"|mongodb:\/\//);
  });

  it('lets the import read only the exports prefix and only the MongoDB URI secret', () => {
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties
      .PolicyDocument.Statement;
    const text = JSON.stringify(statements);
    expect(text).toContain('/warehouse-exports/*');
    expect(text).not.toMatch(/"s3:(Put|Delete)/);
    const secretStatements = statements.filter((s) =>
      JSON.stringify(s).includes('secretsmanager:GetSecretValue'),
    );
    expect(secretStatements).toHaveLength(1);
    expect(JSON.stringify(secretStatements)).toMatch(/SecretsMONGODBURI/);
    expect(JSON.stringify(secretStatements)).not.toMatch(/OPENAI|QDRANT|LINKEDIN|HFTOKEN/);
  });

  it('passes the cdk-nag AwsSolutions rules, with every suppression justified in code', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
