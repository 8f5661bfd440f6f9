import { describe, expect, it } from 'vitest';
import { credentialsPath, parseCredentials } from './credentials.js';

describe('credentials', () => {
  it('live in SEQLINE_CONFIG_DIR, else XDG_CONFIG_HOME/seqline, else ~/.config/seqline', () => {
    expect(credentialsPath({ SEQLINE_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/c/credentials.json');
    expect(credentialsPath({ XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/x/seqline/credentials.json');
    expect(credentialsPath({ SEQLINE_CONFIG_DIR: '' }, '/home/u')).toBe('/home/u/.config/seqline/credentials.json');
  });

  it('keep only well-formed sessions, and refuse a file that is not JSON', () => {
    const good = { user: 'alice', access_token: 'a', expires_at: 'e', refresh_token: 'r', refresh_expires_at: 'f' };
    const text = JSON.stringify({ current: 'http://gw:1', sessions: { 'http://gw:1': good, 'http://bad:1': { user: 'bob' } } });
    expect(parseCredentials(text, '/c/credentials.json')).toEqual({ current: 'http://gw:1', sessions: { 'http://gw:1': good } });
    expect(parseCredentials('[]', '/c/credentials.json')).toEqual({ sessions: {} });
    expect(() => parseCredentials('{', '/c/credentials.json')).toThrow('/c/credentials.json is not JSON: remove it and log in again');
  });
});
