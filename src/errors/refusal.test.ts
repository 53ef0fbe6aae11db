import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusalFromResponse, refusalText } from './refusal.ts';

describe('a refusal carried in a response body', () => {
  it('starts its message with the code, once', () => {
    assert.equal(refusalText('PERMISSION_DENIED', 'needs read:courses'), 'PERMISSION_DENIED: needs read:courses');
    assert.equal(refusalText('TIMEOUT', 'TIMEOUT: too slow'), 'TIMEOUT: too slow');
  });

  it('is read back from error_code, or from the message of a peer that sets only the specification fields', () => {
    const typed = refusalFromResponse({ error_code: 'NOT_FOUND' }, 'NOT_FOUND: no such function', 'p.f');
    assert.equal(typed.code, 'NOT_FOUND');
    assert.equal(typed.message, 'p.f: no such function');
    const specOnly = refusalFromResponse({}, 'RATE_LIMIT_EXCEEDED: slow down', 'p.f');
    assert.equal(specOnly.code, 'RATE_LIMIT_EXCEEDED');
    const bare = refusalFromResponse({ error_code: 'OK' }, 'it broke', 'p.f');
    assert.equal(bare.code, 'UNKNOWN_ERROR', 'success false with no code is still a failure');
    assert.equal(bare.message, 'p.f: it broke');
    assert.equal(refusalFromResponse({}, '', 'p.f').message, 'p.f: failed without a message');
    const notACode = refusalFromResponse({ error_code: 'TIMEOUT' }, 'HTTP_PROXY: unset', 'p.f');
    assert.equal(notACode.message, 'p.f: HTTP_PROXY: unset', 'only a PluginErrorCode is taken off the message');
  });
});
