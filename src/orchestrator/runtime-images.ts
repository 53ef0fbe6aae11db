import { SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { RuntimeType } from '../manifest/index.ts';
import type { DockerSandboxRuntime } from '../sandbox/index.ts';

/** Each runtime's sandbox image, resolved to its id: every container of a run uses exactly that. */
export type RuntimeImages = Readonly<Partial<Record<RuntimeType, string>>>;

/**
 * Resolves every configured image (config `images`, one per runtime). One that is not built is
 * left out with a warning rather than stopping the orchestrator: only the plugins of that runtime
 * are refused, by imageFor, with the fix.
 */
export async function resolveImages(
  runtime: DockerSandboxRuntime,
  configured: Readonly<Partial<Record<RuntimeType, string>>>,
  log: Logger,
): Promise<RuntimeImages> {
  const resolved: Partial<Record<RuntimeType, string>> = {};
  for (const [type, reference] of Object.entries(configured) as [RuntimeType, string][]) {
    try {
      resolved[type] = await runtime.resolveImage(reference);
    } catch (err: unknown) {
      log.warn({ runtime: type, image: reference, err }, `no ${type} sandbox image: its plugins will be refused`);
    }
  }
  return Object.freeze(resolved);
}

/** The image a plugin of `type` runs in; refused, naming the setting, when there is none. */
export function imageFor(images: RuntimeImages, type: RuntimeType, configured: Record<string, string>): string {
  const id = images[type];
  if (id !== undefined) return id;
  const reference = configured[type];
  throw new SandboxError(
    'NOT_FOUND',
    reference === undefined
      ? `no sandbox image for runtime '${type}'; set images.${type} in the config`
      : `sandbox image ${reference} (images.${type}) is not built; run docker/build-images.sh`,
  );
}
