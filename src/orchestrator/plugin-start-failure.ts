import { SandboxError } from '../errors/index.ts';

/**
 * The plugin itself failed: its container died before registering, or its onRestore/onEnable
 * threw. Retrying the same bundle will not help, so the job fails at once.
 */
export class PluginStartFailure extends SandboxError {}
