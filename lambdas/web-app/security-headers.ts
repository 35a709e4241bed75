/**
 * The web app's security headers, the same from `twin serve` and from CloudFront: scripts, styles and
 * calls only to the page's own origin, never framed, no referrer sent to the sources it links. On AWS
 * the page may also call the origins it must: the artifact bucket (export uploads go there directly)
 * and the user pool's sign-in domain (the token exchange).
 */
export function contentSecurityPolicy(alsoConnectTo: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["connect-src 'self'", ...alsoConnectTo].join(' '),
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};
