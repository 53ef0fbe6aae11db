import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { signPlugin } from '../../src/trust/index.ts';
import { compileCppPlugins } from './cpp-plugins.ts';
import { EXAMPLE_TRUST, FIXTURES, REPO_ROOT } from './test-orchestrator.ts';

const DEVELOPER = path.join(EXAMPLE_TRUST, 'developer');
/** The specification's example as the set-up builds and signs it (scripts/build-cpp-examples.sh). */
const CPP_EXAMPLE = path.join(REPO_ROOT, 'examples/plugins/example-cpp');

/** Signs a directory with the example developer certificate (plugin ids com.example.*). */
export function signAsExampleDeveloper(dir: string): void {
  signPlugin(dir, path.join(DEVELOPER, 'developer.key.pem'), path.join(DEVELOPER, 'developer.pem'));
}

/**
 * In `dir`: `cpp-example` (the specification's example, built and signed by the set-up) and
 * `cpp-bad-abi` (a library built for SDK ABI 2.0 in the builder image, unsigned: its id is not
 * the example developer's).
 */
export async function buildCppPlugins(dir: string): Promise<void> {
  cpSync(CPP_EXAMPLE, path.join(dir, 'cpp-example'), { recursive: true });
  cpSync(path.join(FIXTURES, 'cpp-bad-abi'), path.join(dir, 'cpp-bad-abi'), { recursive: true });
  await compileCppPlugins(dir, ['cpp-bad-abi']);
}

/**
 * In `dir/name`: a signed Python plugin whose dependencies the host cannot meet: ClassTop >=99,
 * `requests` (met by the python image's Debian package) and `unmet`, which nothing provides.
 */
export function writeUnmetPythonPlugin(dir: string, name: string, unmet: string): void {
  const root = path.join(dir, name);
  mkdirSync(root);
  writeFileSync(
    path.join(root, 'plugin.yaml'),
    [
      'metadata: { id: com.example.deps-refused, name: Deps, version: 1.0.0, language: python }',
      'dependencies:',
      '  classtop_version: ">=99.0.0"',
      '  python_packages:',
      '    - requests>=2',
      `    - ${unmet}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(root, 'plugin.py'),
    'from tauri_app.plugin_system.base import Plugin\n\nclass Refused(Plugin):\n' +
      '    async def on_enable(self): pass\n    async def on_disable(self): pass\n',
  );
  signAsExampleDeveloper(root);
}
