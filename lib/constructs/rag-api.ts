import { Arn, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  DEFAULT_EMBEDDING_MODEL_ID,
  DEFAULT_RERANK_MODEL_ID,
  type RerankPrecision,
  type SecretSetting,
} from '../../lambdas/settings/settings.js';
import { ACCESS_POLICY_KEY } from '../../lambdas/access/policy-store.js';
import { ContainerFunction } from './container-function.js';
import { ConversationTable } from './conversation-table.js';
import { TwinUsers } from './twin-users.js';
import { suppressFunctionBaseline } from './function-suppressions.js';
import type { TwinSecrets } from './twin-secrets.js';

/** The model that writes the answers: the fine-tuned twin on SageMaker, or an OpenAI-compatible API. */
export type TwinGenerator =
  | { kind: 'sagemaker'; endpointName: string; inferenceComponentName?: string }
  | { kind: 'openai'; model?: string; baseUrl?: string };

export interface RagApiProps {
  readonly stage: string;
  readonly secrets: TwinSecrets;
  readonly generator: TwinGenerator;
  /** OpenAI-compatible API for self-query and expansion (and the twin, with generator openai). */
  readonly openAiBaseUrl?: string;
  /**
   * `api-key` (default): API keys with a usage plan. `iam`: SigV4-signed calls from IAM principals.
   * `cognito`: people signed in to the web app (a Cognito user pool and authorizer).
   */
  readonly auth?: 'api-key' | 'iam' | 'cognito';
  /** Browser origins allowed to call the API; none by default (no CORS). */
  readonly corsOrigins?: readonly string[];
  /** Steady requests per second and burst, for the stage and the usage plan. Default 5 and 10. */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /** Executions reserved for the RAG function (at least the burst limit); none by default. */
  readonly reservedConcurrency?: number;
  /** Requests per day per API key. Default 5000. */
  readonly dailyQuota?: number;
  readonly embeddingModelId?: string;
  readonly rerankModelId?: string;
  /** The cross-encoder's precision (TWIN_RERANK_PRECISION); default the product's (fp32). */
  readonly rerankPrecision?: RerankPrecision;
  /** Send request traces to Opik (the OPIK_API_KEY secret must hold a key). */
  readonly opik?: { workspace?: string; url?: string; projectName?: string };
  /** Containers kept warm (no cold start; billed while idle). Default 0. */
  readonly provisionedConcurrency?: number;
  /** The artifact bucket, whose access/policy.yaml says which authors each caller may use. */
  readonly artifacts?: s3.IBucket;
  /** Conversations: days kept after they start (TWIN_CONVERSATION_TTL_DAYS) and turns each may hold. */
  readonly conversations?: { retentionDays: number; maxTurns: number; removalPolicy?: RemovalPolicy };
}

/** The JSON schema API Gateway checks before invoking the function (the function validates fully). */
const REQUEST_SCHEMA: apigateway.JsonSchema = {
  schema: apigateway.JsonSchemaVersion.DRAFT4,
  type: apigateway.JsonSchemaType.OBJECT,
  required: ['query'],
  properties: {
    query: { type: apigateway.JsonSchemaType.STRING, minLength: 1 },
    k: { type: apigateway.JsonSchemaType.INTEGER, minimum: 1, maximum: 50 },
    expand: { type: apigateway.JsonSchemaType.BOOLEAN },
    rerank: { type: apigateway.JsonSchemaType.BOOLEAN },
    author: { type: apigateway.JsonSchemaType.STRING },
    stream: { type: apigateway.JsonSchemaType.BOOLEAN },
    retrieve_only: { type: apigateway.JsonSchemaType.BOOLEAN },
    conversation_id: { type: apigateway.JsonSchemaType.STRING },
  },
  additionalProperties: false,
};

/**
 * The twin's front door: API Gateway (REST, response streaming) → the RAG function (container image
 * with the embedding model and the cross-encoder baked in). Auth and throttling are on by default.
 */
export class RagApi extends Construct {
  readonly function: lambda.DockerImageFunction;
  readonly api: apigateway.RestApi;
  readonly apiKey?: apigateway.IApiKey;
  /** The user pool, with auth=cognito. */
  readonly users?: TwinUsers;
  /** How every method of this API authenticates callers (API key, IAM or Cognito); the workspace API uses it too. */
  readonly methodAuth: apigateway.MethodOptions;
  /** Where conversations are kept. */
  readonly conversations: ConversationTable;

  constructor(scope: Construct, id: string, props: RagApiProps) {
    super(scope, id);
    const auth = props.auth ?? 'api-key';
    const throttle = props.throttle ?? { rateLimit: 5, burstLimit: 10 };
    const secretNames: SecretSetting[] = ['MONGODB_URI', 'QDRANT_URL', 'QDRANT_API_KEY', 'OPENAI_API_KEY'];
    if (props.opik) secretNames.push('OPIK_API_KEY');

    this.conversations = new ConversationTable(this, 'Conversations', {
      ...(props.conversations?.removalPolicy ? { removalPolicy: props.conversations.removalPolicy } : {}),
    });
    this.function = new ContainerFunction(this, 'Rag', {
      handlerName: 'rag',
      description: 'The twin API: retrieval (self-query, expansion, search, rerank) and generation',
      embeddingModelId: props.embeddingModelId ?? DEFAULT_EMBEDDING_MODEL_ID,
      rerankModelId: props.rerankModelId ?? DEFAULT_RERANK_MODEL_ID,
      ...(props.rerankPrecision ? { rerankPrecision: props.rerankPrecision } : {}),
      timeout: Duration.seconds(90),
      // Set aside for the API, so that a workflow's burst never takes its capacity; also a ceiling on
      // cost and on load. Only where the account's quota allows it (stage config, lambda).
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      environment: {
        TWIN_WAREHOUSE: 'mongodb',
        TWIN_VECTOR_STORE: 'qdrant',
        ...generatorEnvironment(props.generator),
        ...(props.openAiBaseUrl ? { OPENAI_BASE_URL: props.openAiBaseUrl } : {}),
        ...(props.corsOrigins?.length ? { TWIN_CORS_ORIGINS: props.corsOrigins.join(',') } : {}),
        ...(props.opik?.workspace ? { OPIK_WORKSPACE: props.opik.workspace } : {}),
        ...(props.opik?.url ? { OPIK_URL_OVERRIDE: props.opik.url } : {}),
        ...(props.opik?.projectName ? { OPIK_PROJECT_NAME: props.opik.projectName } : {}),
        POWERTOOLS_METRICS_NAMESPACE: 'LlmTwin',
        ...(props.artifacts ? { ARTIFACT_BUCKET: props.artifacts.bucketName } : {}),
        CONVERSATIONS_TABLE: this.conversations.table.tableName,
        ...(props.conversations
          ? {
              TWIN_CONVERSATION_TTL_DAYS: String(props.conversations.retentionDays),
              TWIN_CONVERSATION_MAX_TURNS: String(props.conversations.maxTurns),
            }
          : {}),
        ...props.secrets.environmentFor(secretNames),
      },
    }).function;
    props.secrets.grantRead(this.function, secretNames);
    this.conversations.grantConversations(this.function);
    // The access policy only: nothing else of the artifact bucket.
    props.artifacts?.grantRead(this.function, ACCESS_POLICY_KEY);
    if (props.generator.kind === 'sagemaker') {
      // Invoke this one endpoint (and the twin's component on it), nothing else.
      const { endpointName, inferenceComponentName } = props.generator;
      const sageMakerArn = (resource: string, name: string) =>
        Arn.format({ service: 'sagemaker', resource, resourceName: name.toLowerCase() }, Stack.of(this));
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
          resources: [
            sageMakerArn('endpoint', endpointName),
            ...(inferenceComponentName ? [sageMakerArn('inference-component', inferenceComponentName)] : []),
          ],
        }),
      );
    }
    const target = props.provisionedConcurrency
      ? this.function.addAlias('live', { provisionedConcurrentExecutions: props.provisionedConcurrency })
      : this.function;

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `llm-twin-${props.stage}`,
      description: 'LLM Twin: POST /rag',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: props.stage,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
      ...(props.corsOrigins?.length
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: [...props.corsOrigins],
              allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
              allowHeaders: [
                'content-type',
                'x-api-key',
                'authorization',
                'x-amz-date',
                'x-amz-security-token',
              ],
              exposeHeaders: ['x-trace-id', 'x-conversation-id'],
            },
          }
        : {}),
    });

    if (auth === 'cognito') {
      this.users = new TwinUsers(this, 'Users', { stage: props.stage });
      const authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
        cognitoUserPools: [this.users.pool],
        // The ID token (not the access token): it carries the user's sub and groups.
        identitySource: apigateway.IdentitySource.header('Authorization'),
      });
      this.methodAuth = { authorizationType: apigateway.AuthorizationType.COGNITO, authorizer };
    } else {
      this.methodAuth =
        auth === 'iam' ? { authorizationType: apigateway.AuthorizationType.IAM } : { apiKeyRequired: true };
    }

    // API Gateway refuses malformed bodies itself; say which property was wrong, as the function does.
    this.api.addGatewayResponse('BadBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json':
          '{"error": "$util.escapeJavaScript($context.error.validationErrorString)", "field": null}',
      },
    });
    const validator = this.api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const model = this.api.addModel('RagRequest', {
      contentType: 'application/json',
      modelName: 'RagRequest',
      schema: REQUEST_SCHEMA,
    });
    this.api.root.addResource('rag').addMethod(
      'POST',
      new apigateway.LambdaIntegration(target, {
        proxy: true,
        responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      }),
      {
        requestValidator: validator,
        requestModels: { 'application/json': model },
        ...this.methodAuth,
      },
    );

    // The caller's conversations: listed, read and deleted by the same function, with the same auth.
    const conversationsIntegration = new apigateway.LambdaIntegration(target, { proxy: true });
    const conversations = this.api.root.addResource('conversations');
    conversations.addMethod('GET', conversationsIntegration, this.methodAuth);
    const conversation = conversations.addResource('{id}');
    conversation.addMethod('GET', conversationsIntegration, this.methodAuth);
    conversation.addMethod('DELETE', conversationsIntegration, this.methodAuth);

    if (auth === 'api-key') {
      const plan = this.api.addUsagePlan('UsagePlan', {
        name: `llm-twin-${props.stage}`,
        throttle,
        quota: { limit: props.dailyQuota ?? 5000, period: apigateway.Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      this.apiKey = this.api.addApiKey('ApiKey', { description: 'LLM Twin client key' });
      plan.addApiKey(this.apiKey);
    }

    suppressFunctionBaseline(this.function, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          "The conversations table's own indexes (<table>/index/*): the owner index lists a caller's conversations.",
        appliesTo: [{ regex: '/^Resource::<.*ConversationsTable.*\\.Arn>\\/index\\/\\*$/' }],
      },
      ...(props.artifacts
        ? [
            {
              id: 'AwsSolutions-IAM5',
              reason: `grantRead on the one object ${ACCESS_POLICY_KEY} (the access policy); the wildcards are the read actions.`,
              appliesTo: ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*'],
            },
          ]
        : []),
    ]);
    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'AmazonAPIGatewayPushToCloudWatchLogs is the role API Gateway needs to write its access and execution logs.',
          appliesTo: [
            'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
          ],
        },
        {
          id: 'AwsSolutions-APIG3',
          reason:
            'No WAF by default: the API is throttled per stage and per key, and a web ACL costs more than an idle twin. Add one in front for public deployments.',
        },
        ...(auth === 'api-key'
          ? [
              {
                id: 'AwsSolutions-APIG4',
                reason: 'Callers are authenticated by API key with a usage plan (or IAM with auth=iam).',
              },
              {
                id: 'AwsSolutions-COG4',
                reason:
                  'Callers are authenticated by API key with a usage plan (or IAM with auth=iam); no user pool.',
              },
            ]
          : auth === 'iam'
            ? [
                {
                  id: 'AwsSolutions-COG4',
                  reason: 'Callers are IAM principals signing with SigV4; no user pool.',
                },
              ]
            : // With auth=cognito every method has the user pool authorizer; only CORS preflights have none.
              props.corsOrigins?.length
              ? [
                  {
                    id: 'AwsSolutions-APIG4',
                    reason: 'Only the CORS preflight (OPTIONS) methods go without the authorizer.',
                  },
                  {
                    id: 'AwsSolutions-COG4',
                    reason: 'Only the CORS preflight (OPTIONS) methods go without the authorizer.',
                  },
                ]
              : []),
      ],
      true,
    );
  }
}

function generatorEnvironment(generator: TwinGenerator): Record<string, string> {
  if (generator.kind === 'sagemaker') {
    return {
      TWIN_GENERATOR: 'sagemaker',
      TWIN_SAGEMAKER_ENDPOINT: generator.endpointName,
      ...(generator.inferenceComponentName
        ? { TWIN_SAGEMAKER_INFERENCE_COMPONENT: generator.inferenceComponentName }
        : {}),
    };
  }
  return {
    TWIN_GENERATOR: 'openai',
    ...(generator.model ? { TWIN_GENERATOR_MODEL: generator.model } : {}),
    ...(generator.baseUrl ? { TWIN_GENERATOR_BASE_URL: generator.baseUrl } : {}),
  };
}
