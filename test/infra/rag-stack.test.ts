import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { RagStack, type RagStackProps } from '../../lib/rag-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

interface Resource {
  Properties?: Record<string, unknown>;
}

function synth(props: Partial<RagStackProps> = {}): { stack: RagStack; template: Template } {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
  const stack = new RagStack(app, 'Rag', {
    stage: 'test',
    secrets: foundation.secrets,
    alerts: foundation.alerts.topic,
    generator: { kind: 'sagemaker', endpointName: 'llm-twin-test' },
    ...props,
  });
  return { stack, template: Template.fromStack(stack) };
}

describe('RagStack', () => {
  const { stack, template } = synth();

  it('serves POST /rag through a streaming Lambda proxy integration that needs an API key', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
      AuthorizationType: 'NONE',
      RequestValidatorId: Match.anyValue(),
      Integration: Match.objectLike({
        Type: 'AWS_PROXY',
        ResponseTransferMode: 'STREAM',
        Uri: Match.objectLike({
          'Fn::Join': Match.arrayWith([
            Match.arrayWith([Match.stringLikeRegexp('response-streaming-invocations')]),
          ]),
        }),
      }),
    });
  });

  it('throttles the stage and each key, with a daily quota', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'test',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10, MetricsEnabled: true }),
      ]),
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 5, BurstLimit: 10 },
      Quota: { Limit: 5000, Period: 'DAY' },
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('runs the RAG function from an image with both models, holding secret ARNs only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: Match.absent(),
      Environment: {
        Variables: Match.objectLike({
          TWIN_GENERATOR: 'sagemaker',
          TWIN_SAGEMAKER_ENDPOINT: 'llm-twin-test',
          TWIN_EMBEDDING_MODEL_ID: 'sentence-transformers/all-MiniLM-L6-v2',
          TWIN_RERANK_MODEL_ID: 'cross-encoder/ms-marco-MiniLM-L-4-v2',
          OPENAI_API_KEY_SECRET_ARN: Match.anyValue(),
          MONGODB_URI_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
    const functions = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(functions).not.toMatch(/"(MONGODB_URI|OPENAI_API_KEY|QDRANT_API_KEY)"/u);
    // The reranker runs at the product's default precision unless the stage asks for another.
    expect(functions).not.toContain('TWIN_RERANK_PRECISION');
  });

  it("runs the reranker at the stage's precision when it names one", () => {
    const { template: int8 } = synth({ rerankPrecision: 'int8' });
    int8.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Environment: { Variables: Match.objectLike({ TWIN_RERANK_PRECISION: 'int8' }) },
    });
  });

  it('may invoke the one twin endpoint and nothing else on SageMaker', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const statements = policies.flatMap(
      (policy) => (policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    const sagemaker = statements.filter((statement) =>
      JSON.stringify(statement.Action).includes('sagemaker:'),
    );
    expect(sagemaker).toHaveLength(1);
    expect(sagemaker[0]?.Action).toEqual([
      'sagemaker:InvokeEndpoint',
      'sagemaker:InvokeEndpointWithResponseStream',
    ]);
    expect(JSON.stringify(sagemaker[0]?.Resource)).toContain(':endpoint/llm-twin-test');
    for (const statement of statements) {
      if (statement.Resource === '*')
        expect(statement.Action).toEqual(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
    }
  });

  it('alarms on the 5xx rate, p95 latency and function errors, to the alerts topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'llm-twin-test-rag-5xx-rate',
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' }),
      ]),
      AlarmActions: [Match.anyValue()],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'llm-twin-test-rag-p95-latency',
      MetricName: 'Latency',
      ExtendedStatistic: 'p95',
      Threshold: 10_000,
      AlarmActions: [Match.anyValue()],
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    for (const alarm of alarms)
      expect(JSON.stringify(alarm.Properties?.AlarmActions)).toContain('AlertsTopic');
  });

  it('has a dashboard with the per-step latencies', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);
    for (const step of ['self_query', 'query_expansion', 'search', 'rerank', 'generation']) {
      expect(body).toContain(step);
    }
  });

  it('keeps conversations in an encrypted, on-demand table with point-in-time recovery and TTL, read and written by the function alone', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAtEpoch', Enabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byOwner' })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ CONVERSATIONS_TABLE: Match.anyValue() }),
      },
    });
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
    );
    const dynamo = statements
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => action.startsWith('dynamodb:'));
    expect([...new Set(dynamo)].sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it("serves the caller's conversations: GET /conversations, GET and DELETE /conversations/{id}, with the API's auth", () => {
    const methods = (Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[]).map(
      (method) => `${String(method.Properties?.HttpMethod)} ${String(method.Properties?.ApiKeyRequired)}`,
    );
    expect(methods.filter((method) => method === 'GET true')).toHaveLength(2);
    expect(methods).toContain('DELETE true');
    template.resourceCountIs('AWS::ApiGateway::Resource', 3);
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('can use IAM auth and CORS instead', () => {
    const { stack: iamStack, template: iam } = synth({
      auth: 'iam',
      corsOrigins: ['https://twin.example.com'],
      generator: { kind: 'openai', model: 'gpt-4o-mini' },
    });
    iam.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
    });
    iam.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS' });
    iam.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    iam.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TWIN_GENERATOR: 'openai',
          TWIN_CORS_ORIGINS: 'https://twin.example.com',
        }),
      },
    });
    expect(JSON.stringify(iam.findResources('AWS::IAM::Policy'))).not.toContain('sagemaker:');
    expect(awsSolutionsFindings(iamStack)).toEqual([]);
  });
});
