import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { principalOf } from '../../lambdas/http/api-gateway.js';

const event = (requestContext: unknown) => ({ requestContext }) as unknown as APIGatewayProxyEvent;

describe('who API Gateway let through', () => {
  it('is the API key, by its id', () => {
    expect(principalOf(event({ identity: { apiKeyId: 'k1a2b3', apiKey: 'the-secret' } }))).toEqual({
      id: 'api-key:k1a2b3',
      groups: [],
    });
  });

  it('is the Cognito user, with the groups the REST authorizer passes as one string', () => {
    const claims = { sub: '7d1f-aa', 'cognito:groups': '[editors readers]', email: 'ada@example.com' };
    expect(principalOf(event({ authorizer: { claims }, identity: { apiKeyId: 'k' } }))).toEqual({
      id: 'user:7d1f-aa',
      groups: ['editors', 'readers'],
    });
    expect(
      principalOf(event({ authorizer: { claims: { sub: 'x', 'cognito:groups': 'a,b' } } })).groups,
    ).toEqual(['a', 'b']);
  });

  it('is anonymous for an event without either (a console test event)', () => {
    expect(principalOf(event(undefined))).toEqual({ id: 'anonymous', groups: [] });
    expect(principalOf(event({}))).toEqual({ id: 'anonymous', groups: [] });
  });
});
