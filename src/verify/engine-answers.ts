import type { DockerSandboxRuntime } from '../sandbox/index.ts';

/** How long the Docker engine has to answer before what needs it is skipped. */
const ENGINE_TIMEOUT_MS = 3_000;

/**
 * Whether the Docker engine at `socket` answers: undefined when it does, else why not and the fix
 * (the detail of a NO_ENGINE result; skipped, never passed).
 */
export async function engineSilence(runtime: DockerSandboxRuntime, socket: string): Promise<string | undefined> {
  try {
    await runtime.answers(ENGINE_TIMEOUT_MS);
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return `no Docker engine answers at ${socket} (${why}); start one, or point --config's dockerSocket at it`;
  }
}
