import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { RagStack } from '../../lib/rag-stack.js';
import { WebStack } from '../../lib/web-stack.js';
import { CONTENT_SECURITY_POLICY } from '../../lambdas/web-app/security-headers.js';
import { awsSolutionsFindings } from '../support/nag.js';

const ETL_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:llm-twin-test-etl';

function synth(auth: 'api-key' | 'iam' | 'cognito' = 'api-key') {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
  const rag = new RagStack(app, 'Rag', {
    stage: 'test',
    secrets: foundation.secrets,
    alerts: foundation.alerts.topic,
    generator: { kind: 'openai' },
    auth,
    workspace: {
      artifacts: foundation.artifacts.bucket,
      etlWorkflow: sfn.StateMachine.fromStateMachineArn(foundation, 'Etl', ETL_ARN),
    },
  });
  const web = new WebStack(app, 'Web', {
    stage: 'test',
    api: rag.rag.api,
    uploads: foundation.artifacts.bucket,
    ...(rag.rag.users ? { users: rag.rag.users } : {}),
  });
  return { rag, web, ragTemplate: Template.fromStack(rag), webTemplate: Template.fromStack(web) };
}

describe('the workspace routes on the twin API', () => {
  const { rag, ragTemplate } = synth();

  it('adds the seven routes with the same API key requirement as POST /rag and the conversations', () => {
    const methods = Object.values(ragTemplate.findResources('AWS::ApiGateway::Method')) as {
      Properties: { HttpMethod: string; ApiKeyRequired?: boolean };
    }[];
    const protectedMethods = methods.filter((method) => method.Properties.HttpMethod !== 'OPTIONS');
    // The workspace's seven, POST /rag, and the conversations' GET, GET and DELETE.
    expect(protectedMethods.map((method) => method.Properties.HttpMethod).sort()).toEqual([
      'DELETE',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'POST',
      'POST',
      'POST',
      'PUT',
    ]);
    expect(protectedMethods.every((method) => method.Properties.ApiKeyRequired === true)).toBe(true);
    for (const path of ['authors', 'collection-runs', '{id}', 'stats', 'exports', 'me']) {
      ragTemplate.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: path });
    }
  });

  it('lets its function start and describe runs of the ETL workflow only, and touch author-configs/ only', () => {
    const policies = JSON.stringify(ragTemplate.findResources('AWS::IAM::Policy'));
    ragTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'states:StartExecution', Resource: ETL_ARN }),
          Match.objectLike({
            Action: 'states:DescribeExecution',
            Resource: Match.objectLike({
              'Fn::Join': Match.arrayWith([Match.arrayWith([':execution:llm-twin-test-etl:*'])]),
            }),
          }),
        ]),
      },
    });
    expect(policies).toContain('/author-configs/*');
    expect(policies).not.toMatch(/"states:\*"|"s3:\*"/u);
    // It signs upload policies for exports/ and may put nothing anywhere else.
    const puts = Object.values(ragTemplate.findResources('AWS::IAM::Policy'))
      .flatMap(
        (policy) =>
          (
            policy as {
              Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
            }
          ).Properties.PolicyDocument.Statement,
      )
      .filter((statement) => JSON.stringify(statement.Action).includes('s3:PutObject'));
    expect(puts.map((statement) => JSON.stringify(statement.Resource)).join(' ')).toMatch(/exports\/\*/u);
    ragTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ETL_STATE_MACHINE_ARN: ETL_ARN, ARTIFACT_BUCKET: Match.anyValue() }),
      },
    });
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(rag)).toEqual([]);
  });

  it('uses IAM auth for the workspace routes when the API does', () => {
    const { ragTemplate: iam } = synth('iam');
    const methods = Object.values(iam.findResources('AWS::ApiGateway::Method')) as {
      Properties: { HttpMethod: string; AuthorizationType?: string };
    }[];
    const protectedMethods = methods.filter((method) => method.Properties.HttpMethod !== 'OPTIONS');
    expect(protectedMethods.every((method) => method.Properties.AuthorizationType === 'AWS_IAM')).toBe(true);
  });
});

describe('signing people in with Cognito (-c auth=cognito)', () => {
  const { rag, web, ragTemplate, webTemplate } = synth('cognito');

  it('keeps an invite-only user pool with optional authenticator-app MFA and a strict password policy', () => {
    ragTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
    ragTemplate.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  });

  it('guards every route with the user pool authorizer instead of API keys', () => {
    ragTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
    });
    const methods = Object.values(ragTemplate.findResources('AWS::ApiGateway::Method')) as {
      Properties: { HttpMethod: string; AuthorizationType?: string; ApiKeyRequired?: boolean };
    }[];
    const guarded = methods.filter((method) => method.Properties.HttpMethod !== 'OPTIONS');
    expect(guarded).toHaveLength(11); // POST /rag, the seven workspace routes, the three of conversations
    for (const method of guarded) {
      expect(method.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(method.Properties.ApiKeyRequired).not.toBe(true);
    }
    ragTemplate.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  it('gives the web app a public PKCE client returning to the app, and tells the app about it', () => {
    webTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      CallbackURLs: [Match.objectLike({ 'Fn::Join': Match.anyValue() })],
    });
    expect(JSON.stringify(webTemplate.findResources('Custom::CDKBucketDeployment'))).toContain('config.json');
  });

  it('passes the AWS Solutions checks in both stacks', () => {
    expect(awsSolutionsFindings(rag)).toEqual([]);
    expect(awsSolutionsFindings(web)).toEqual([]);
  });
});

describe('WebStack', () => {
  const { web, webTemplate } = synth();

  it('serves the app from a private bucket through CloudFront origin access control', () => {
    webTemplate.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    webTemplate.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      }),
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'files/' }),
    });
    webTemplate.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' } }),
        ]),
      },
    });
    webTemplate.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
  });

  it('sends the API paths to API Gateway uncached, with every viewer header but Host', () => {
    const distribution = Object.values(webTemplate.findResources('AWS::CloudFront::Distribution'))[0] as {
      Properties: {
        DistributionConfig: {
          CacheBehaviors: {
            PathPattern: string;
            CachePolicyId: string;
            OriginRequestPolicyId: string;
            AllowedMethods: string[];
          }[];
        };
      };
    };
    const behaviors = distribution.Properties.DistributionConfig.CacheBehaviors;
    expect(behaviors.map((behavior) => behavior.PathPattern)).toEqual([
      '/rag',
      '/conversations',
      '/conversations/*',
      '/authors',
      '/collection-runs',
      '/collection-runs/*',
      '/stats',
      '/exports',
      '/me',
    ]);
    for (const behavior of behaviors) {
      expect(behavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
      expect(behavior.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
      expect(behavior.AllowedMethods).toContain('PUT');
    }
  });

  it('adds the security headers to every reply', () => {
    webTemplate.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: {
            ContentSecurityPolicy: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
            Override: true,
          },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentTypeOptions: { Override: true },
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31_536_000 }),
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
        }),
      }),
    });
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|unsafe/u);
    // On AWS the page may also call the artifact bucket (uploads), and nothing else.
    const policy = JSON.stringify(webTemplate.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
    expect(policy).toMatch(
      /connect-src 'self' https:\/\/",\{"Fn::ImportValue":"[^"]*ArtifactsBucket[^"]*RegionalDomainName[^"]*"\},"; img-src/u,
    );
  });

  it('deploys hashed files cached for a year and index.html uncached, invalidating it', () => {
    webTemplate.hasResourceProperties('Custom::CDKBucketDeployment', {
      Exclude: ['index.html'],
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    webTemplate.hasResourceProperties('Custom::CDKBucketDeployment', {
      Include: ['index.html', 'config.json'],
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionPaths: ['/', '/index.html', '/config.json'],
    });
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(web)).toEqual([]);
  });
});
