import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { SandboxError } from '../errors/index.ts';
import type { PluginManifest } from '../manifest/index.ts';

/** The image with the runner's compiler, gRPC and SDK headers (docker/sandbox-cpp, stage builder). */
export const DEFAULT_CPP_BUILDER_IMAGE = 'classtop/sandbox-cpp-builder:latest';
const BUILD_TIMEOUT_MS = 10 * 60_000;
const BUILD_MEMORY_BYTES = 2 * 1024 ** 3;
const BUILD_PIDS = 512;
const BUILD_TMP = 'rw,exec,size=1g';
const PLUGIN_MOUNT = '/plugin';
/** Names the plugin directory a build container compiles (for `docker ps --filter label=...`). */
export const BUILD_LABEL = 'io.classtop.build-of';

/**
 * Configures and compiles in /tmp (the plugin directory gets no build tree), then copies the
 * module named after the entry (build/plugin.so → plugin.so) to where plugin.yaml says.
 */
const BUILD_SCRIPT = `set -eu
cmake -S ${PLUGIN_MOUNT} -B /tmp/build -DCMAKE_BUILD_TYPE=Release
cmake --build /tmp/build --parallel "$(nproc)"
built="/tmp/build/$(basename "$CLASSTOP_ENTRY")"
if [ ! -f "$built" ]; then
  echo "classtop-sandbox build: the CMake project made no $(basename "$CLASSTOP_ENTRY"); its library target must be a MODULE named after runtime.entry" >&2
  exit 3
fi
mkdir -p "$(dirname "${PLUGIN_MOUNT}/$CLASSTOP_ENTRY")"
cp "$built" "${PLUGIN_MOUNT}/$CLASSTOP_ENTRY"`;

export interface BuildOptions {
  image: string;
  dockerSocket: string;
  /** Where the compiler's output goes (the CLI passes stderr). */
  output: NodeJS.WritableStream;
  /** Aborts the build: the container is removed and the promise rejects. */
  signal?: AbortSignal;
}

/**
 * `classtop-sandbox build DIR`: compiles a C++ plugin in the builder image (the same compiler and
 * libraries as the runtime image, so the module matches the runner's ABI), with no network, as
 * the owner of DIR. Returns the path of the built module. Python and Node plugins have nothing to
 * build: that is said, not refused.
 */
export async function buildPlugin(manifest: PluginManifest, options: BuildOptions): Promise<string | undefined> {
  if (manifest.runtime !== 'cpp') return undefined;
  const directory = path.resolve(manifest.directory);
  const docker = new Docker({ socketPath: options.dockerSocket });
  await docker
    .getImage(options.image)
    .inspect()
    .catch((err: unknown) => {
      throw new SandboxError(
        'NOT_FOUND',
        `builder image ${options.image} is not on this engine (${(err as Error).message}); build it with docker/build-images.sh`,
      );
    });
  const owner = fs.statSync(directory);
  const container = await docker.createContainer({
    Image: options.image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [BUILD_SCRIPT],
    Env: [`CLASSTOP_ENTRY=${manifest.entry}`],
    Labels: { [BUILD_LABEL]: directory },
    User: `${owner.uid}:${owner.gid}`,
    WorkingDir: '/tmp',
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Binds: [`${directory}:${PLUGIN_MOUNT}:rw`],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': BUILD_TMP },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: BUILD_MEMORY_BYTES,
      PidsLimit: BUILD_PIDS,
    },
  });
  try {
    return await runBuild(container, directory, manifest, options);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

async function runBuild(
  container: Docker.Container,
  directory: string,
  manifest: PluginManifest,
  options: BuildOptions,
): Promise<string> {
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  container.modem.demuxStream(stream, options.output, options.output);
  await container.start();
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(new SandboxError('INTERNAL_ERROR', `build of ${manifest.id} was interrupted`));
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SandboxError('TIMEOUT', `build of ${manifest.id} took over ${BUILD_TIMEOUT_MS / 60_000} min`)),
      BUILD_TIMEOUT_MS,
    );
  });
  try {
    const result = (await Promise.race([container.wait(), aborted, timedOut])) as { StatusCode: number };
    if (result.StatusCode !== 0) {
      throw new SandboxError(
        'INVALID_REQUEST',
        `build of ${manifest.id} failed (exit ${result.StatusCode}); the compiler's output is above`,
      );
    }
  } finally {
    clearTimeout(timer);
  }
  return path.join(directory, manifest.entry);
}
