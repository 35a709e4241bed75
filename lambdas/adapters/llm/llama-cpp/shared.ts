import type { LocalGeneratorSettings } from '../../../settings/index.js';
import { LocalLlm } from './local-llm.js';

interface Loaded {
  llm: Promise<LocalLlm>;
  users: number;
}

/** Models loaded in this process, by file and context: the twin and the query model share one copy. */
const loaded = new Map<string, Loaded>();

export interface LocalLlmLease {
  llm: LocalLlm;
  /** The model is freed when its last user releases it. */
  release(): Promise<void>;
}

/** The process's copy of a local model, loaded on first use; a failed load is not kept. */
export async function leaseLocalLlm(settings: LocalGeneratorSettings): Promise<LocalLlmLease> {
  const key = JSON.stringify(settings);
  let entry = loaded.get(key);
  if (!entry) {
    const llm = LocalLlm.load(settings);
    entry = { llm, users: 0 };
    loaded.set(key, entry);
    llm.catch(() => loaded.delete(key));
  }
  entry.users += 1;
  const lease = entry;
  const llm = await lease.llm.catch((error: unknown) => {
    lease.users -= 1;
    throw error;
  });
  let released = false;
  return {
    llm,
    release: async () => {
      if (released) return;
      released = true;
      lease.users -= 1;
      if (lease.users > 0) return;
      loaded.delete(key);
      await llm.close();
    },
  };
}
