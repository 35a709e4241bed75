import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EXPORT_UPLOADS_PREFIX } from '../../lambdas/ports/export-uploads.js';
import { WORKFLOW_ITEMS_PREFIX } from '../../lambdas/workflows/distributed-map.js';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface ArtifactStoreProps {
  /** How long superseded versions of an artifact are kept before S3 expires them. Default: 90 days. */
  readonly noncurrentVersionRetention?: Duration;
  /** Default RETAIN: datasets and models outlive the stack unless a stage says otherwise. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The artifact store: datasets, model outputs and warehouse exports. Encrypted, versioned (a dataset
 * version is never overwritten in place), private, TLS only, with its access logged to a second bucket.
 */
export class ArtifactStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });
    NagSuppressions.addResourceSuppressions(this.accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This bucket is the access-log destination; logging it into itself would loop.',
      },
    ]);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        {
          // Uploaded exports are someone's writing in transit: gone a day after upload, every version.
          prefix: EXPORT_UPLOADS_PREFIX,
          expiration: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          // Workflows' item files and Map results: read once by the run that wrote them, kept a month for
          // looking into a run, then gone.
          prefix: WORKFLOW_ITEMS_PREFIX,
          expiration: Duration.days(30),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      // The web app posts exports straight here with a presigned POST; the signed policy, not the
      // origin, is what authorises an upload, so any origin may send one.
      cors: [
        { allowedMethods: [s3.HttpMethods.POST], allowedOrigins: ['*'], allowedHeaders: ['*'], maxAge: 3600 },
      ],
      removalPolicy,
    });
  }
}
