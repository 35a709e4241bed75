import { DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { TwinUsers } from './twin-users.js';
import { WEB_APP_SOURCE, writeWebApp } from '../../lambdas/web-app/bundle.js';
import { contentSecurityPolicy } from '../../lambdas/web-app/security-headers.js';

/** The API's paths, sent by CloudFront to API Gateway; everything else is the web app's files. */
export const API_PATH_PATTERNS = [
  '/rag',
  '/conversations',
  '/conversations/*',
  '/authors',
  '/collection-runs',
  '/collection-runs/*',
  '/stats',
  '/exports',
  '/me',
];

export interface WebAppProps {
  /** The twin's API (POST /rag and the workspace routes), served on the same origin as the app. */
  readonly api: apigateway.RestApi;
  readonly removalPolicy?: RemovalPolicy;
  /** Sign people in with this user pool (auth=cognito): the app gets its client in config.json. */
  readonly users?: TwinUsers;
  /** Where the app uploads platform exports (presigned POSTs to the artifact bucket). */
  readonly uploads?: s3.IBucket;
}

/**
 * The web app on AWS: its files in a private bucket read by CloudFront through origin access control,
 * the twin's API behind the same distribution (so the browser needs no CORS), security headers on
 * every reply, and access logs for both.
 */
export class WebApp extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;

    const logs = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // CloudFront's standard logs are written with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects,
    });
    NagSuppressions.addResourceSuppressions(logs, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This bucket is the log destination; logging it into itself would loop.',
      },
    ]);

    this.bucket = new s3.Bucket(this, 'Files', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'files/',
      removalPolicy,
      autoDeleteObjects,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'LLM Twin web app: CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy([
            ...(props.uploads ? [`https://${props.uploads.bucketRegionalDomainName}`] : []),
            ...(props.users ? [props.users.domain.baseUrl()] : []),
          ]),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const apiBehavior: cloudfront.BehaviorOptions = {
      origin: new origins.RestApiOrigin(props.api),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // The API key header and the body go through; the Host header must be API Gateway's own.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: headers,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'LLM Twin web app and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: Object.fromEntries(API_PATH_PATTERNS.map((pattern) => [pattern, apiBehavior])),
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'The twin is for its owner wherever they are; access is controlled by the API key, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF by default, as for the API: it is throttled per stage and per key, and a web ACL costs more than an idle twin. Attach one for public deployments.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses its default *.cloudfront.net certificate, for which CloudFront fixes the TLS policy; with a custom domain set TLSv1.2_2021.',
      },
    ]);

    // The app is built by esbuild on the deploying machine (no Docker): hashed files are cached for a
    // year and kept across deploys (an open tab may still ask for them); index.html is never cached.
    const files = s3deploy.Source.asset(WEB_APP_SOURCE, {
      bundling: {
        image: DockerImage.fromRegistry('unused-local-bundling'),
        local: {
          tryBundle(outputDir: string) {
            writeWebApp(outputDir);
            return true;
          },
        },
      },
    });
    // How the app signs people in, read by the app at start; without it the app asks for an API key.
    const appUrl = `https://${this.distribution.distributionDomainName}/`;
    const client = props.users?.addWebClient(this, 'SignInClient', appUrl);
    const config = s3deploy.Source.jsonData('config.json', {
      ...(props.users && client
        ? {
            signIn: {
              domain: props.users.domain.baseUrl(),
              clientId: client.userPoolClientId,
              redirectUri: appUrl,
            },
          }
        : {}),
    });
    const assets = new s3deploy.BucketDeployment(this, 'Assets', {
      sources: [files],
      destinationBucket: this.bucket,
      exclude: ['index.html'],
      prune: false,
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
    });
    const page = new s3deploy.BucketDeployment(this, 'Page', {
      sources: [files, config],
      destinationBucket: this.bucket,
      exclude: ['*'],
      include: ['index.html', 'config.json'],
      prune: false,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/', '/index.html', '/config.json'],
    });
    // The page must not point at files that are not there yet.
    page.node.addDependency(assets);
  }
}
