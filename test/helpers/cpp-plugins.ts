import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXAMPLE_TRUST, REPO_ROOT } from './test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const BUILD_TIMEOUT_MS = 120_000;

/** The cpp builder image docker/build-images.sh tagged from this checkout (the runner's compiler and SDK). */
export const CPP_BUILDER_IMAGE = readFileSync(path.join(REPO_ROOT, '.cache/images/sandbox-cpp-builder'), 'utf8').trim();

/** A plugin with a CMakeLists.txt is built by CMake (find_package); the others by g++ with pkg-config. */
function compileCommand(dir: string, name: string): string {
  if (existsSync(path.join(dir, name, 'CMakeLists.txt'))) {
    return `cmake -S ${name} -B /tmp/${name} >/dev/null && cmake --build /tmp/${name} >/dev/null`;
  }
  return (
    `mkdir -p ${name}/build && g++ $(pkg-config --cflags classtop-plugin) -O1 -Wall -Wextra -Werror -shared ` +
    `-o ${name}/build/plugin.so ${name}/src/*.cpp`
  );
}

/**
 * Compiles each `DIR/<plugin>/src/*.cpp` to `DIR/<plugin>/build/plugin.so` in the builder image,
 * with no network, as a plugin author would with the SDK's CMake package or pkg-config file
 * (warnings are errors).
 */
export async function compileCppPlugins(dir: string, plugins: string[]): Promise<void> {
  const compile = plugins.map((name) => compileCommand(dir, name)).join(' && ');
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
