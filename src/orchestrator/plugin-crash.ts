import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, type SandboxError } from '../errors/index.ts';
import { describeExit } from './container-exit.ts';
import type { ExitInfo } from './instance-launch.ts';
import { describeTail } from './plugin-output.ts';
import { PluginStartFailure } from './plugin-start-failure.ts';

/**
 * The plugin's process died while the host waited for its answer to a Lifecycle call (a segfault
 * in OnEnable, os._exit or process.exit in on_enable, an abort): a crash, supervised as one after
 * ENABLED is (restart with backoff, crash loop → ERROR), not the plugin's refusal.
 */
export class PluginCrash extends PluginStartFailure {
  readonly pluginId: string;
  /** How it died: "container exited with code 139 (SIGSEGV) during Lifecycle ENABLE". */
  readonly what: string;
  /** Its last lines of output. */
  readonly logTail: string[];

  constructor(pluginId: string, action: string, exit: ExitInfo, options?: { cause?: unknown }) {
    const what = `${describeExit(exit)} during Lifecycle ${action}`;
    super('INTERNAL_ERROR', `${pluginId}: ${what}${describeTail(exit.logTail)}`, options);
    this.pluginId = pluginId;
    this.what = what;
    this.logTail = exit.logTail;
  }
}

/**
 * Whether a call failed with no answer from the plugin at all (its connection dropped, its stream
 * was reset), as a dying process leaves it: not its refusal (which carries the error-code trailer
 * or comes as a response) and not a timeout (a hung plugin is alive).
 */
export function gotNoAnswer(err: SandboxError): boolean {
  const cause = err.cause as Partial<ServiceError> | undefined;
  if (typeof cause?.code !== 'number' || cause.code === GrpcStatus.DEADLINE_EXCEEDED) return false;
  return (cause.metadata?.get(ERROR_CODE_METADATA_KEY).length ?? 0) === 0;
}
