import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Alerts } from './constructs/alerts.js';
import { ArtifactStore } from './constructs/artifact-store.js';
import { TwinSecrets } from './constructs/twin-secrets.js';
import { WarehouseImport } from './constructs/warehouse-import.js';
import { tagTwinResources } from './constructs/tags.js';

export interface FoundationStackProps extends StackProps {
  /** Deployment stage (dev, prod, ...), used in names and tags. */
  readonly stage: string;
  /** E-mail address subscribed to the alerts topic. */
  readonly alertEmail?: string;
  /** Keep the artifact bucket when the stack is deleted (prod). Default true. */
  readonly keepData?: boolean;
}

/** What every pipeline builds on: the artifact store, the secrets, and loading a warehouse export. */
export class FoundationStack extends Stack {
  readonly artifacts: ArtifactStore;
  readonly secrets: TwinSecrets;
  readonly warehouseImport: WarehouseImport;
  readonly alerts: Alerts;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);

    this.artifacts = new ArtifactStore(this, 'Artifacts', {
      removalPolicy: props.keepData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.secrets = new TwinSecrets(this, 'Secrets', { keep: props.keepData !== false });

    this.alerts = new Alerts(this, 'Alerts', props.alertEmail ? { email: props.alertEmail } : {});

    this.warehouseImport = new WarehouseImport(this, 'WarehouseImport', {
      artifacts: this.artifacts.bucket,
      secrets: this.secrets,
    });

    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifacts.bucket.bucketName });
    new CfnOutput(this, 'AlertsTopicArn', {
      value: this.alerts.topic.topicArn,
      description:
        'Subscribe with: aws sns subscribe --topic-arn <this> --protocol email --notification-endpoint you@example.com',
    });
    new CfnOutput(this, 'WarehouseImportFunctionName', { value: this.warehouseImport.function.functionName });
    for (const [name, secret] of Object.entries(this.secrets.secrets)) {
      new CfnOutput(this, `${name.replaceAll('_', '')}SecretName`, {
        value: secret.secretName,
        description: `${name}. Set with: aws secretsmanager put-secret-value --secret-id <this> --secret-string ...`,
      });
    }
  }
}
