import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { SECRET_SETTINGS } from '../../lambdas/settings/settings.js';
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

  it('creates one secret per secret setting, named by stage, with no value in the template', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', SECRET_SETTINGS.length);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'llm-twin/test/mongodb-uri',
      GenerateSecretString: {},
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'llm-twin/test/linkedin-password',
    });
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    for (const secret of secrets) expect(secret).not.toHaveProperty('Properties.SecretString');
  });

  it('points functions at secrets by ARN and grants read on exactly those', () => {
    const env = stack.secrets.environmentFor(['MONGODB_URI', 'OPENAI_API_KEY']);
    expect(Object.keys(env)).toEqual(['MONGODB_URI_SECRET_ARN', 'OPENAI_API_KEY_SECRET_ARN']);
  });

  it('passes the cdk-nag AwsSolutions rules, with every suppression justified in code', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
