import { describe, expect, it } from 'vitest';
import { authorizeUrl, challengeOf, randomVerifier, tokenRequest } from '../../web/src/pkce.js';

const config = {
  domain: 'https://llm-twin-dev-123456789012.auth.eu-west-1.amazoncognito.com',
  clientId: 'abc123client',
  redirectUri: 'https://d111111abcdef8.cloudfront.net/',
};

describe("the web app's sign-in (authorization code with PKCE)", () => {
  it('derives the S256 challenge of RFC 7636, appendix B', async () => {
    expect(await challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('makes a fresh 43-character verifier each time', () => {
    const [a, b] = [randomVerifier(), randomVerifier()];
    expect(a).toMatch(/^[\w-]{43}$/u);
    expect(a).not.toBe(b);
  });

  it('asks the hosted pages for a code with the challenge, and trades it with the verifier', () => {
    const url = new URL(authorizeUrl(config, 'the-challenge', 'the-state'));
    expect(`${url.origin}${url.pathname}`).toBe(`${config.domain}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'abc123client',
      redirect_uri: config.redirectUri,
      scope: 'openid email profile',
      code_challenge: 'the-challenge',
      code_challenge_method: 'S256',
      state: 'the-state',
    });
    const exchange = tokenRequest(config, 'the-code', 'the-verifier');
    expect(exchange.url).toBe(`${config.domain}/oauth2/token`);
    expect(Object.fromEntries(new URLSearchParams(exchange.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: 'abc123client',
      code: 'the-code',
      redirect_uri: config.redirectUri,
      code_verifier: 'the-verifier',
    });
  });
});
