import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PluginManifest } from '../manifest/index.ts';
import { checkClasstopVersion } from './classtop-version-check.ts';
import { DependencyError } from './dependency-error.ts';

function needing(range: string | null): PluginManifest {
  return {
    id: 'com.example.v',
    version: '1.0.0',
    dependencies: { classtopVersion: range, pythonPackages: [] },
  } as Pick<PluginManifest, 'id' | 'version' | 'dependencies'> as PluginManifest;
}

describe('dependencies.classtop_version against the host', () => {
  it('passes a range the host satisfies, or none', () => {
    for (const range of [null, '>=2.0.0', '^2', '2.x', '>=1.5 <3']) checkClasstopVersion(needing(range), '2.0.0');
    checkClasstopVersion(needing('>=2.0.0'), '2.1.0-beta.1');
  });

  it('refuses one it does not, with its own reason, saying needed and found and the fix', () => {
    assert.throws(
      () => checkClasstopVersion(needing('>=3.0.0'), '2.0.0'),
      (err: unknown) => {
        assert.ok(err instanceof DependencyError);
        assert.equal(err.reason, 'CLASSTOP_VERSION_UNSATISFIED');
        assert.equal(err.code, 'NOT_FOUND');
        assert.match(
          err.message,
          /^CLASSTOP_VERSION_UNSATISFIED: com\.example\.v 1\.0\.0 needs ClassTop >=3\.0\.0 \(dependencies\.classtop_version\), but this host implements ClassTop 2\.0\.0; .*upstream\.classtopVersion$/,
        );
        return true;
      },
    );
  });
});
