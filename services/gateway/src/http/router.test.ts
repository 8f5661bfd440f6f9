import { describe, expect, it } from 'vitest';
import { matchRoute, pathOf } from './router.js';

describe('matchRoute', () => {
  it.each([
    ['POST', '/v1/api/sql', 'sql'],
    ['POST', '/v1/api/sql?trace=1', 'sql'],
    ['POST', '/v1/api/auth/login', 'login'],
    ['POST', '/v1/api/auth/refresh', 'refresh'],
    ['POST', '/v1/api/auth/logout', 'logout'],
    ['GET', '/v1/api/auth/me', 'me'],
    ['POST', '/v1/api/auth/setup', 'setup'],
    ['GET', '/v1/api/auth/status', 'status'],
    ['GET', '/health', 'health'],
    ['HEAD', '/health', 'health'],
    ['GET', '/v1/api/healthcheck', 'health'],
    ['GET', 'http://127.0.0.1:8080/health?x', 'health'],
  ])('%s %s → %s', (method, target, name) => {
    expect(matchRoute(method, target)).toEqual({ kind: 'route', name, path: pathOf(target) });
  });

  it('answers 405 data with the allowed methods for a wrong method', () => {
    expect(matchRoute('GET', '/v1/api/sql')).toEqual({ kind: 'method_not_allowed', allow: ['POST'], path: '/v1/api/sql' });
    expect(matchRoute('POST', '/health')).toEqual({ kind: 'method_not_allowed', allow: ['GET', 'HEAD'], path: '/health' });
    expect(matchRoute('DELETE', '/v1/api/auth/me')).toEqual({ kind: 'method_not_allowed', allow: ['GET', 'HEAD'], path: '/v1/api/auth/me' });
  });

  it('treats OPTIONS on a known path as a preflight', () => {
    expect(matchRoute('OPTIONS', '/v1/api/sql')).toEqual({ kind: 'preflight', allow: ['POST', 'OPTIONS'], path: '/v1/api/sql' });
  });

  it.each(['/', '/v1/api/sql/', '/V1/API/SQL', '/v1/api', '/v1/ws', '/constructor', '/__proto__', '/toString'])('does not know %s', (target) => {
    expect(matchRoute('POST', target)).toEqual({ kind: 'not_found', path: target });
    expect(matchRoute('OPTIONS', target).kind).toBe('not_found');
  });
});
