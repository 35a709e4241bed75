import { homedir } from 'node:os';
import { join } from 'node:path';

const APP_FOLDER = 'llm-twin';

/**
 * Where local state lives (embedded databases, artifacts, model cache) when TWIN_DATA_DIR is unset:
 * a per-user folder following each OS's convention, never the working directory. Lambda can only
 * write under /tmp.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.AWS_LAMBDA_FUNCTION_NAME) return join('/tmp', APP_FOLDER);
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), APP_FOLDER);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_FOLDER);
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), APP_FOLDER);
}
