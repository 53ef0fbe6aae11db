import { chainCheck } from './chain-check.ts';
import { cppAbiCheck } from './cpp-abi-check.ts';
import { dependenciesCheck } from './dependencies-check.ts';
import { limitsCheck } from './limits-check.ts';
import { manifestCheck } from './manifest-check.ts';
import { permissionsCheck } from './permissions-check.ts';
import { pinCheck } from './pin-check.ts';
import { pluginUiCheck } from './plugin-ui-check.ts';
import { signatureCheck } from './signature-check.ts';
import type { StaticCheck } from './static-check.ts';

/**
 * Every static check, in the order they run and are reported. A new check is a file of its own in
 * this folder implementing StaticCheck, and one line here. The dependencies and the C++ ABI come
 * after trust, as the orchestrator's dependency step and the runner's ABI check do.
 */
export const STATIC_CHECKS: readonly StaticCheck[] = [
  manifestCheck,
  limitsCheck,
  signatureCheck,
  chainCheck,
  pinCheck,
  permissionsCheck,
  dependenciesCheck,
  cppAbiCheck,
  pluginUiCheck,
];

export type { SignatureOutcome, StaticCheck, StaticContext } from './static-check.ts';
export { manifestLineFinder } from './manifest-lines.ts';
