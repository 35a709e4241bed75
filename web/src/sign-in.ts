import { authorizeUrl, challengeOf, randomVerifier, tokenRequest, type SignInConfig } from './pkce.js';
import { byId } from './dom.js';

const ID_TOKEN = 'llm-twin-id-token';
const PENDING = 'llm-twin-sign-in';

/** The signed-in user's ID token (Cognito), sent as the Authorization header; empty when none. */
export const storedIdToken = (): string => sessionStorage.getItem(ID_TOKEN) ?? '';

async function readConfig(): Promise<SignInConfig | undefined> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (!response.ok) return undefined;
    return ((await response.json()) as { signIn?: SignInConfig }).signIn;
  } catch {
    return undefined;
  }
}

/**
 * Where the deployment signs people in (`-c auth=cognito`): finishes a sign-in the hosted pages
 * sent back (?code=…&state=…), and offers Sign in / Sign out. Elsewhere (twin serve, API keys) it
 * does nothing and the Connection field is used instead.
 */
export async function setUpSignIn(): Promise<void> {
  const config = await readConfig();
  if (!config) return;
  byId('connection').hidden = true;
  const button = byId('sign-in', HTMLButtonElement);
  button.hidden = false;
  await finishSignIn(config);
  const signedIn = storedIdToken() !== '';
  button.textContent = signedIn ? 'Sign out' : 'Sign in';
  button.addEventListener('click', () => {
    void (async () => {
      if (storedIdToken()) {
        sessionStorage.removeItem(ID_TOKEN);
        const logout = new URLSearchParams({ client_id: config.clientId, logout_uri: config.redirectUri });
        location.assign(`${config.domain}/logout?${logout.toString()}`);
        return;
      }
      const verifier = randomVerifier();
      const state = randomVerifier();
      sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
      location.assign(authorizeUrl(config, await challengeOf(verifier), state));
    })();
  });
}

async function finishSignIn(config: SignInConfig): Promise<void> {
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  const pending = sessionStorage.getItem(PENDING);
  if (!code || !pending) return;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', location.pathname);
  const { verifier, state } = JSON.parse(pending) as { verifier: string; state: string };
  // A code that comes back with another state was not asked for by this tab: ignore it.
  if (query.get('state') !== state) return;
  const request = tokenRequest(config, code, verifier);
  const response = await fetch(request.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: request.body,
  });
  if (!response.ok) return;
  const tokens = (await response.json()) as { id_token?: string };
  if (tokens.id_token) sessionStorage.setItem(ID_TOKEN, tokens.id_token);
}
