/* Free of imports on purpose: the HTTP contract and the web app's types read this file. */

/**
 * Who is calling. `id` is `operator` (the local user, or the holder of `twin serve --token`),
 * `token:<name>` (a local token from `twin access token`), `api-key:<id>` (an API Gateway key),
 * `user:<sub>` (a Cognito user) or `anonymous`. A signed-in user's groups grant what `group:<name>`
 * entries of the access policy say.
 */
export interface Principal {
  id: string;
  groups: readonly string[];
}

export const OPERATOR: Principal = { id: 'operator', groups: [] };
export const ANONYMOUS: Principal = { id: 'anonymous', groups: [] };
