import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface TwinUsersProps {
  readonly stage: string;
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The people who may sign in to the web app (`-c auth=cognito`): a Cognito user pool with its
 * hosted sign-in pages. Users are invited by an administrator (no self sign-up); a user's groups
 * are `group:<name>` principals of the access policy, which says which twins they may use.
 */
export class TwinUsers extends Construct {
  readonly pool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: TwinUsersProps) {
    super(scope, id);
    this.pool = new cognito.UserPool(this, 'Pool', {
      userPoolName: `llm-twin-${props.stage}`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      // Each user chooses whether to add an authenticator app.
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.domain = this.pool.addDomain('Domain', {
      // Unique per account and stage (prefixes are global per region); account ids are digits.
      cognitoDomain: { domainPrefix: `llm-twin-${props.stage.toLowerCase()}-${Stack.of(this).account}` },
      managedLoginVersion: cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });
    NagSuppressions.addResourceSuppressions(this.pool, [
      {
        id: 'AwsSolutions-COG2',
        reason: 'MFA is optional by design: each user may add an authenticator app (TOTP); SMS is off.',
      },
      ...['AwsSolutions-COG3', 'AwsSolutions-COG8'].map((rule) => ({
        id: rule,
        reason:
          'Threat protection needs the Plus feature plan, billed per user; the pool is invite-only with a strict password policy. Switch the plan to PLUS for public deployments.',
      })),
    ]);
  }

  /**
   * The web app's sign-in client: a public client (no secret, as in a browser) using the
   * authorization-code flow with PKCE, returning to the web app's own address.
   */
  addWebClient(scope: Construct, id: string, appUrl: string): cognito.UserPoolClient {
    return new cognito.UserPoolClient(scope, id, {
      userPool: this.pool,
      generateSecret: false,
      preventUserExistenceErrors: true,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [appUrl],
        logoutUrls: [appUrl],
      },
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
  }
}
