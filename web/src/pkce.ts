/**
 * OAuth 2.0 authorization code with PKCE (RFC 7636), for signing in to Cognito's hosted pages from
 * a browser: no client secret, a fresh verifier per sign-in, only its SHA-256 leaves the page first.
 */

export interface SignInConfig {
  /** The user pool's hosted domain, e.g. https://llm-twin-dev-123.auth.eu-west-1.amazoncognito.com */
  domain: string;
  clientId: string;
  redirectUri: string;
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/gu, '-').replace(/\//gu, '_').replace(/=+$/u, '');
}

/** 32 random bytes, base64url: 43 characters, as RFC 7636 recommends. */
export function randomVerifier(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export function authorizeUrl(config: SignInConfig, challenge: string, state: string): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: 'openid email profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  return `${config.domain}/oauth2/authorize?${query.toString()}`;
}

/** The form the token endpoint takes to trade the code (and the verifier) for tokens. */
export function tokenRequest(
  config: SignInConfig,
  code: string,
  verifier: string,
): { url: string; body: string } {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: config.clientId,
    code,
    redirect_uri: config.redirectUri,
    code_verifier: verifier,
  });
  return { url: `${config.domain}/oauth2/token`, body: body.toString() };
}
