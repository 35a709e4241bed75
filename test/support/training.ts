import type { TrainingJobConfig } from '../../lambdas/training/config.js';

/** A training configuration as the CDK stack would set it, for tests. */
export const TEST_TRAINING_CONFIG: TrainingJobConfig = {
  bucket: 'twin-artifacts',
  trainingImage:
    '763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-training:2.9.0-transformers5.3.0-gpu-py312-cu130-ubuntu22.04',
  inferenceImage: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:tgi-test',
  roleArn: 'arn:aws:iam::123456789012:role/twin-training',
  codeS3Uri: 's3://twin-artifacts/training-code/',
  instanceType: 'ml.g5.2xlarge',
  evaluationInstanceType: 'ml.g5.2xlarge',
  volumeSizeGb: 100,
  maxRuntimeSeconds: 21_600,
  spot: true,
  maxWaitSeconds: 43_200,
  modelPackageGroup: 'llm-twin-test',
  approvalMargin: 0,
  gateMinJudged: 30,
  judgeModel: 'gpt-4o-mini',
  hfTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:llm-twin/test/hf-token-AbCdEf',
  openAiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:llm-twin/test/openai-AbCdEf',
};
