import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantExtensions, idMatches, readGrants } from './grant-extensions.ts';

describe('certificate grants', () => {
  it('round-trips plugin ids and permissions through the Subject Alternative Name', () => {
    const grants = {
      pluginIds: ['com.example.*', 'org.x.y'],
      permissions: ['read:courses'],
      privilegedPermissions: ['privileged:analytics'],
    };
    assert.deepEqual(readGrants(grantExtensions(grants)), grants);
    assert.deepEqual(readGrants([]), { pluginIds: [], permissions: [], privilegedPermissions: [] });
  });

  it('matches exact ids and dot-bounded prefixes only', () => {
    assert.ok(idMatches('com.example.*', 'com.example.hello'));
    assert.ok(idMatches('com.example.*', 'com.example.a.b'));
    assert.ok(!idMatches('com.example.*', 'com.examplefoo.hello'), 'a prefix ends at a dot');
    assert.ok(!idMatches('com.example.*', 'com.example'));
    assert.ok(idMatches('com.example.hello', 'com.example.hello'));
    assert.ok(!idMatches('com.example.hello', 'com.example.hello2'));
  });
});
