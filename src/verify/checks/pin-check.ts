import { MANIFEST_FILE } from '../../manifest/index.ts';
import { checkPin, TrustError } from '../../trust/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck } from './static-check.ts';

/** plugin.yaml's certificate.fingerprint and the shipped plugin.crt are the signer's (the orchestrator's checkPin). */
export const pinCheck: StaticCheck = {
  name: 'fingerprint-pin',
  run(ctx): CheckResult[] {
    const r = resultsOf('fingerprint-pin', 'static');
    const { manifest, signature } = ctx;
    if (!manifest || signature?.kind !== 'signed')
      return [r.skipped('PIN_NOT_CHECKED', 'fingerprint pin not checked', 'there is no valid signature to pin')];
    const line = ctx.manifestLine('certificate.fingerprint');
    const where = { file: MANIFEST_FILE, ...(line ? { line } : {}) };
    try {
      checkPin(ctx.snapshot, manifest, signature.bundle.leaf);
      return [r.ok('PIN_MATCHES', 'the pinned fingerprint is the signer’s', signature.bundle.leaf.fingerprint, where)];
    } catch (err) {
      if (!(err instanceof TrustError)) throw err;
      return [r.error(err.reason, 'fingerprint pin refused', err.detail, where)];
    }
  },
};
