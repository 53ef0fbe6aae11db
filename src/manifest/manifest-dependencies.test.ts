import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadManifest, ManifestError, NO_OPERATOR_LIMITS } from './load-manifest.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-manifest-deps-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function load(language: string, dependencies: string): ReturnType<typeof loadManifest> {
  const dir = mkdtempSync(path.join(scratch, `p${counter++}-`));
  const entry = language === 'python' ? 'plugin.py' : 'index.js';
  writeFileSync(path.join(dir, entry), '');
  writeFileSync(
    path.join(dir, 'plugin.yaml'),
    `metadata: { id: com.example.deps, name: Deps, version: 1.0.0, language: ${language} }\n${dependencies}`,
  );
  return loadManifest(dir, NO_OPERATOR_LIMITS);
}

function problems(language: string, dependencies: string): string[] {
  try {
    load(language, dependencies);
  } catch (err) {
    assert.ok(err instanceof ManifestError);
    return [...err.problems];
  }
  return assert.fail('expected a ManifestError');
}

describe('plugin.yaml dependencies (appendix B)', () => {
  it("reads appendix B's section as written", () => {
    const manifest = load(
      'python',
      'dependencies:\n  classtop_version: ">=2.0.0"\n  python_packages:\n    - requests>=2.28.0\n    - numpy>=1.24.0\n',
    );
    assert.deepEqual(manifest.dependencies, {
      classtopVersion: '>=2.0.0',
      pythonPackages: ['requests>=2.28.0', 'numpy>=1.24.0'],
    });
  });

  it('has no requirements when the section is absent, and keeps markers and extras for Python to read', () => {
    assert.deepEqual(load('python', '').dependencies, { classtopVersion: null, pythonPackages: [] });
    const withMarker = 'dependencies: { python_packages: [\'requests[socks]>=2; python_version >= "3.8"\'] }\n';
    assert.deepEqual(load('python', withMarker).dependencies.pythonPackages, [
      'requests[socks]>=2; python_version >= "3.8"',
    ]);
  });

  it('refuses what is never a requirement or a range, naming the field', () => {
    const found = problems(
      'python',
      'dependencies:\n  classtop_version: "two or later"\n  python_packages: ["--index-url=http://x", ""]\n  apt: [x]\n',
    );
    assert.ok(
      found.some((p) => /^dependencies\.classtop_version: 'two or later' is not a version range/.test(p)),
      String(found),
    );
    assert.ok(
      found.some((p) => /^dependencies\.python_packages\.0: must be a PEP 508 requirement/.test(p)),
      String(found),
    );
    assert.ok(
      found.some((p) => /^dependencies\.python_packages\.1: must be a PEP 508 requirement/.test(p)),
      String(found),
    );
    assert.ok(
      found.some((p) => /^dependencies: unknown field\(s\) apt/.test(p)),
      String(found),
    );
  });

  it('refuses python_packages on a plugin that is not Python', () => {
    assert.deepEqual(problems('node', 'dependencies: { python_packages: [requests] }\n'), [
      'dependencies.python_packages: a node plugin has no Python packages; remove the list',
    ]);
    assert.equal(load('node', 'dependencies: { classtop_version: "^2" }\n').dependencies.classtopVersion, '^2');
  });
});
