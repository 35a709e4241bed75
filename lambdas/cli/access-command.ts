import { Command } from 'commander';
import { AccessControl } from '../access/policy-store.js';
import { EMPTY_POLICY, grant, issueToken, revoke, type AccessPolicy } from '../access/policy.js';
import { FolderArtifactStore } from '../adapters/artifacts/folder.js';
import { lazyS3ArtifactStore } from '../adapters/artifacts/lazy.js';
import { cliSettings, type GlobalOptions } from './context.js';

interface AccessOptions {
  bucket?: string;
  json?: boolean;
}

const BUCKET_HELP =
  "manage the policy of a deployment: its artifact bucket (the stack's ArtifactBucketName output)";

/** The policy this command manages: the local one, or a deployment's in its artifact bucket. */
async function accessOf(globals: GlobalOptions, options: AccessOptions): Promise<AccessControl> {
  if (options.bucket) return new AccessControl(lazyS3ArtifactStore(options.bucket), 0);
  const settings = await cliSettings(globals);
  return new AccessControl(new FolderArtifactStore(settings.artifactsDir), 0);
}

async function change(
  globals: GlobalOptions,
  options: AccessOptions,
  edit: (policy: AccessPolicy) => AccessPolicy,
): Promise<AccessPolicy> {
  const access = await accessOf(globals, options);
  const updated = edit((await access.policy()) ?? EMPTY_POLICY);
  await access.save(updated);
  return updated;
}

function describe(policy: AccessPolicy | undefined): string {
  if (!policy)
    return 'No access policy: every caller may use every twin (one user). Grant access to start one.';
  const lines = Object.entries(policy.principals).map(
    ([id, entry]) =>
      `${id}: ${entry.authors.length > 0 ? entry.authors.join(', ') : '(no authors)'}${entry.token_sha256 ? ' [has a token]' : ''}`,
  );
  return lines.length > 0 ? lines.join('\n') : 'The policy is empty: only the operator may use any twin.';
}

/**
 * `twin access`: who may use which twins. Principals are token:<name> (local tokens), api-key:<id>
 * (API Gateway keys), user:<sub> (Cognito users) and group:<name> (Cognito groups).
 */
export function accessCommand(globals: () => GlobalOptions): Command {
  const command = new Command('access').description(
    'who may use which twins: principals (token:<name>, api-key:<id>, user:<sub>, group:<name>) and their authors',
  );
  command
    .command('grant')
    .description('let a principal use authors\' twins ("*" for every author)')
    .argument('<principal>', 'token:<name>, api-key:<id>, user:<sub> or group:<name>')
    .argument('<authors...>', 'author names ("First Last"), or "*"')
    .option('--bucket <name>', BUCKET_HELP)
    .action(async (principal: string, authors: string[], options: AccessOptions) => {
      const policy = await change(globals(), options, (current) => grant(current, principal, authors));
      console.log(`${principal} may now use: ${policy.principals[principal]?.authors.join(', ') ?? ''}`);
    });
  command
    .command('revoke')
    .description('take authors away from a principal; with no authors, remove the principal and its token')
    .argument('<principal>')
    .argument('[authors...]')
    .option('--bucket <name>', BUCKET_HELP)
    .action(async (principal: string, authors: string[], options: AccessOptions) => {
      const policy = await change(globals(), options, (current) => revoke(current, principal, authors));
      const left = policy.principals[principal];
      console.log(
        left
          ? `${principal} may now use: ${left.authors.join(', ') || 'nothing'}`
          : `${principal} was removed`,
      );
    });
  command
    .command('token')
    .description(
      'issue a new token for a token:<name> principal of `twin serve` (shown once; the old one stops working)',
    )
    .argument('<principal>', 'token:<name>')
    .action(async (principal: string) => {
      let token = '';
      await change(globals(), {}, (current) => {
        const issued = issueToken(current, principal);
        token = issued.token;
        return issued.policy;
      });
      process.stderr.write(`A new token for ${principal}; it is shown once, only its hash is kept:\n`);
      console.log(token);
    });
  command
    .command('list')
    .description('the principals and the authors each may use')
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the policy as JSON')
    .action(async (options: AccessOptions) => {
      const policy = await (await accessOf(globals(), options)).policy();
      console.log(options.json ? JSON.stringify(policy ?? null, null, 2) : describe(policy));
    });
  return command;
}
