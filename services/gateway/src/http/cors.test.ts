import { describe, expect, it } from 'vitest';
import { corsHeaders, preflightHeaders } from './cors.js';

describe('corsHeaders', () => {
  it('allows any origin without credentials under *', () => {
    expect(corsHeaders('https://a.example', '*')).toEqual({ 'access-control-allow-origin': '*' });
    expect(corsHeaders(undefined, '*')).toEqual({});
  });

  it('echoes a listed origin with credentials, and grants nothing to others', () => {
    const list = ['https://admin.example', 'http://localhost:5173'];
    expect(corsHeaders('http://localhost:5173', list)).toEqual({ 'access-control-allow-origin': 'http://localhost:5173', 'access-control-allow-credentials': 'true', vary: 'Origin' });
    expect(corsHeaders('https://evil.example', list)).toEqual({ vary: 'Origin' });
    expect(corsHeaders(undefined, list)).toEqual({ vary: 'Origin' });
  });
});

describe('preflightHeaders', () => {
  it('lists methods and the allowed request headers', () => {
    expect(preflightHeaders('https://a.example', '*', ['POST', 'OPTIONS'])).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, Idempotency-Key',
      'access-control-max-age': '600',
    });
  });

  it('grants nothing to an origin not listed', () => {
    expect(preflightHeaders('https://evil.example', ['https://admin.example'], ['POST'])).toEqual({ vary: 'Origin' });
  });
});
