import { Stack, type StackProps, CfnOutput, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArtifactStore } from './constructs/artifact-store.js';
import { TwinSecrets } from './constructs/twin-secrets.js';
import { WarehouseImport } from './constructs/warehouse-import.js';

export interface FoundationStackProps extends StackProps {
  /** Deployment stage (dev, prod, ...), used in names and tags. */
  readonly stage: string;
}

/** What every pipeline builds on: the artifact store, the secrets, and loading a warehouse export. */
export class FoundationStack extends Stack {
  readonly artifacts: ArtifactStore;
  readonly secrets: TwinSecrets;
  readonly warehouseImport: WarehouseImport;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, props);
    Tags.of(this).add('project', 'llm-twin');
    Tags.of(this).add('stage', props.stage);

    this.artifacts = new ArtifactStore(this, 'Artifacts');
    this.secrets = new TwinSecrets(this, 'Secrets', { namePrefix: `llm-twin/${props.stage}` });

    this.warehouseImport = new WarehouseImport(this, 'WarehouseImport', {
      artifacts: this.artifacts.bucket,
      secrets: this.secrets,
    });

    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifacts.bucket.bucketName });
    new CfnOutput(this, 'WarehouseImportFunctionName', { value: this.warehouseImport.function.functionName });
    for (const [name, secret] of Object.entries(this.secrets.secrets)) {
      new CfnOutput(this, `${name.replaceAll('_', '')}SecretName`, {
        value: secret.secretName,
        description: `Set with: aws secretsmanager put-secret-value --secret-id <this> --secret-string ...`,
      });
    }
  }
}
