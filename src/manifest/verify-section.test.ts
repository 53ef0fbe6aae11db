import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadManifest, ManifestError, NO_OPERATOR_LIMITS } from './load-manifest.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-verify-section-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function pluginWith(section: string): string {
  const dir = mkdtempSync(path.join(scratch, 'p-'));
  writeFileSync(path.join(dir, 'index.js'), '');
  writeFileSync(
    path.join(dir, 'plugin.yaml'),
    `metadata: { id: com.example.v, name: V, version: 1.0.0, language: node }\n${section}`,
  );
  return dir;
}

describe('plugin.yaml verify section', () => {
  it('is absent unless written, and carries the calls with their input and expectation', () => {
    assert.equal(loadManifest(pluginWith(''), NO_OPERATOR_LIMITS).verify, undefined);
    const manifest = loadManifest(
      pluginWith(
        'verify:\n  calls:\n    - { function: add, input: { a: 1 }, expect: { sum: 1 } }\n    - function: ping\n',
      ),
      NO_OPERATOR_LIMITS,
    );
    assert.deepEqual(manifest.verify?.calls, [
      { function: 'add', input: { a: 1 }, expect: { sum: 1 } },
      { function: 'ping', input: null, expect: undefined },
    ]);
  });

  it('is strict: an unknown field or a call without a function is refused, naming the field', () => {
    const refused = (section: string) =>
      assert.throws(
        () => loadManifest(pluginWith(section), NO_OPERATOR_LIMITS),
        (err: unknown) => err instanceof ManifestError && err.problems.some((p) => p.startsWith('verify')),
      );
    refused('verify:\n  calls: []\n  timeout: 3\n');
    refused('verify:\n  calls:\n    - input: {}\n');
    refused('verify:\n  calls:\n    - { function: f, inptu: {} }\n');
  });
});
