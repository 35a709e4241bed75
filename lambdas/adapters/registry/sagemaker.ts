import {
  CreateModelPackageCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { ModelCandidate, ModelRegistry, RegisteredModel } from '../../ports/model-registry.js';

export interface SageMakerRegistryOptions {
  group: string;
  /** The serving container recorded with each package (Hugging Face TGI). */
  inferenceImage: string;
  instanceTypes: string[];
}

const SCORE_KEYS = { accuracy: 'judge_accuracy', style: 'judge_style' } as const;
/** SageMaker limits metadata values to 256 characters. */
const MAX_VALUE = 256;

function score(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/** The SageMaker Model Registry: one model package group, a package per trained model. */
export class SageMakerModelRegistry implements ModelRegistry {
  constructor(
    private readonly client: SageMakerClient,
    private readonly options: SageMakerRegistryOptions,
  ) {}

  async register(candidate: ModelCandidate): Promise<string> {
    const metadata: Record<string, string> = { ...candidate.metadata };
    if (candidate.scores.accuracy !== null) metadata[SCORE_KEYS.accuracy] = String(candidate.scores.accuracy);
    if (candidate.scores.style !== null) metadata[SCORE_KEYS.style] = String(candidate.scores.style);
    const created = await this.client.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: this.options.group,
        ModelPackageDescription: candidate.description.slice(0, 1000),
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: {
          Containers: [{ Image: this.options.inferenceImage, ModelDataUrl: candidate.modelS3Uri }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
          SupportedRealtimeInferenceInstanceTypes: this.options.instanceTypes as never,
        },
        ModelMetrics: {
          ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: candidate.metricsS3Uri } },
        },
        CustomerMetadataProperties: Object.fromEntries(
          Object.entries(metadata).map(([key, value]) => [key, value.slice(0, MAX_VALUE)]),
        ),
      }),
    );
    if (!created.ModelPackageArn) throw new Error('SageMaker returned no model package ARN');
    return created.ModelPackageArn;
  }

  async approved(): Promise<RegisteredModel | undefined> {
    const page = await this.client.send(
      new ListModelPackagesCommand({
        ModelPackageGroupName: this.options.group,
        ModelApprovalStatus: 'Approved',
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 1,
      }),
    );
    const arn = page.ModelPackageSummaryList?.[0]?.ModelPackageArn;
    return arn ? this.describe(arn) : undefined;
  }

  async decide(arn: string, approve: boolean, reason: string): Promise<void> {
    await this.client.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: arn,
        ModelApprovalStatus: approve ? 'Approved' : 'Rejected',
        ApprovalDescription: reason.slice(0, 1000),
      }),
    );
  }

  async list(limit = 20): Promise<RegisteredModel[]> {
    const page = await this.client.send(
      new ListModelPackagesCommand({
        ModelPackageGroupName: this.options.group,
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: limit,
      }),
    );
    const arns = (page.ModelPackageSummaryList ?? []).flatMap((summary) =>
      summary.ModelPackageArn ? [summary.ModelPackageArn] : [],
    );
    return Promise.all(arns.map((arn) => this.describe(arn)));
  }

  private async describe(arn: string): Promise<RegisteredModel> {
    const described: DescribeModelPackageCommandOutput = await this.client.send(
      new DescribeModelPackageCommand({ ModelPackageName: arn }),
    );
    const metadata = described.CustomerMetadataProperties ?? {};
    const container = described.InferenceSpecification?.Containers?.[0];
    const modelS3Uri = container?.ModelDataUrl;
    return {
      arn,
      version: described.ModelPackageVersion ?? 0,
      status: described.ModelApprovalStatus ?? 'PendingManualApproval',
      createdAt: described.CreationTime?.toISOString() ?? '',
      scores: { accuracy: score(metadata[SCORE_KEYS.accuracy]), style: score(metadata[SCORE_KEYS.style]) },
      metadata,
      ...(modelS3Uri ? { modelS3Uri } : {}),
      ...(container?.Image ? { image: container.Image } : {}),
      ...(described.ModelPackageDescription ? { description: described.ModelPackageDescription } : {}),
    };
  }
}
