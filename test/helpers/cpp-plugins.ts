import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXAMPLE_TRUST, REPO_ROOT } from './test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const BUILD_TIMEOUT_MS = 120_000;
const EXAMPLES_TIMEOUT_MS = 300_000;

/** The cpp builder image docker/build-images.sh tagged from this checkout (the runner's compiler and SDK). */
export const CPP_BUILDER_IMAGE = readFileSync(path.join(REPO_ROOT, '.cache/images/sandbox-cpp-builder'), 'utf8').trim();

/** g++ with the SDK's pkg-config file, as the README's one-line build does. */
function compileCommand(name: string): string {
  return (
    `mkdir -p ${name}/build && g++ $(pkg-config --cflags classtop-plugin) -O1 -Wall -Wextra -Werror -shared ` +
    `-o ${name}/build/plugin.so ${name}/src/*.cpp`
  );
}

/**
 * Compiles each `DIR/<plugin>/src/*.cpp` to `DIR/<plugin>/build/plugin.so` in the builder image,
 * with no network, as a plugin author would with the SDK's pkg-config file (warnings are errors).
 * (The C++ examples are built with their CMakeLists.txt by `classtop-sandbox build`: buildCppExamples.)
 */
export async function compileCppPlugins(dir: string, plugins: string[]): Promise<void> {
  const compile = plugins.map(compileCommand).join(' && ');
  const name = `ct-cpp-build-${randomBytes(4).toString('hex')}`;
  const args = ['run', '--rm', '--name', name, '--network', 'none', '-v', `${dir}:/src`, '-w', '/src'];
  try {
    await run('docker', [...args, CPP_BUILDER_IMAGE, 'sh', '-ec', compile], { timeout: BUILD_TIMEOUT_MS });
  } catch (err: unknown) {
    // A build cut short by the timeout leaves its container running without this.
    await run('docker', ['rm', '-f', name]).catch(() => undefined);
    throw err;
  }
}

/** Signs a plugin directory with the example developer certificate (plugin ids com.example.*). */
export async function signWithExampleKey(dir: string): Promise<void> {
  const dev = path.join(EXAMPLE_TRUST, 'developer');
  const key = path.join(dev, 'developer.key.pem');
  await run(process.execPath, [CLI, 'sign', dir, '--key', key, '--cert', path.join(dev, 'developer.pem')]);
}

/**
 * The C++ examples as the set-up makes them (scripts/build-cpp-examples.sh: `classtop-sandbox
 * build` in the builder image, then signed with the example key); nothing is done when they are
 * up to date, as after scripts/setup.sh.
 */
export async function buildCppExamples(): Promise<void> {
  await run('bash', [path.join(REPO_ROOT, 'scripts/build-cpp-examples.sh')], { timeout: EXAMPLES_TIMEOUT_MS });
}
