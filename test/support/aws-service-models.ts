import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_CI } from './environment.js';

/**
 * AWS's own service models (botocore, from PyPI, installed by .ci/install-aws-linters.sh into
 * TWIN_AWS_LINTERS): the authority on which errors a service API can return.
 */

const run = promisify(execFile);

/** The virtual environment with cfn-lint and botocore; undefined outside CI when not installed. */
export function awsLintersEnvironment(): string | undefined {
  const dir = process.env.TWIN_AWS_LINTERS;
  if (dir && existsSync(join(dir, 'bin', 'python'))) return dir;
  if (IN_CI)
    throw new Error('no cfn-lint/botocore environment: TWIN_AWS_LINTERS=$(bash .ci/install-aws-linters.sh)');
  return undefined;
}

/** The error shapes each named service model declares (e.g. sagemaker: ResourceNotFound, ...). */
export async function serviceErrorShapes(
  environment: string,
  services: readonly string[],
): Promise<Record<string, string[]>> {
  const script = `
import json, sys, botocore.session
session = botocore.session.get_session()
out = {}
for name in sys.argv[1:]:
    model = session.get_service_model(name)
    out[name] = sorted(s for s in model.shape_names if model.shape_for(s).metadata.get("exception"))
print(json.dumps(out))
`;
  const { stdout } = await run(join(environment, 'bin', 'python'), ['-c', script, ...services]);
  return JSON.parse(stdout) as Record<string, string[]>;
}
