import { MANIFEST_FILE } from '../../manifest/index.ts';
import { SIGNED_MANIFEST_FILE } from '../../trust/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck } from './static-check.ts';

/** Reasons that are about files: each named file is a finding of its own, located at that file. */
const FILE_REASONS: Readonly<Record<string, string>> = {
  FILE_TAMPERED: 'changed after signing',
  FILE_EXTRA: 'not covered by the signature',
  FILE_MISSING: 'signed, but missing',
  FILE_SYMLINK: 'a symlink or special file',
};

/**
 * The signature over CLASSTOP-MANIFEST.json, and every file's SHA-256 against it (changed, extra,
 * missing, symlink), with the orchestrator's reason codes, on the snapshot it would verify.
 */
export const signatureCheck: StaticCheck = {
  name: 'signature',
  run(ctx): CheckResult[] {
    const sig = resultsOf('signature', 'static');
    const files = resultsOf('files', 'static');
    const outcome = ctx.signature;
    if (!outcome) {
      const why = `${MANIFEST_FILE} is invalid: the signature is checked against its id and version`;
      return [sig.skipped('SIGNATURE_NOT_CHECKED', 'signature not checked', why)];
    }
    if (outcome.kind === 'unsigned') {
      const detail = `no ${SIGNED_MANIFEST_FILE}; sign the plugin with \`classtop-sandbox sign\``;
      return ctx.trust.allowUnsigned
        ? [sig.warning('UNSIGNED', 'unsigned (the tenant allows unsigned plugins: development only)', detail)]
        : [sig.error('UNSIGNED', 'unsigned: the orchestrator refuses it', detail)];
    }
    if (outcome.kind === 'refused') {
      const { error } = outcome;
      const what = FILE_REASONS[error.reason];
      if (!what) {
        return [
          sig.error(error.reason, 'signature refused', error.detail, { file: SIGNED_MANIFEST_FILE }),
          files.skipped('FILES_NOT_CHECKED', 'file hashes not checked', 'the signature itself was refused'),
        ];
      }
      const named = error.files.length > 0 ? error.files : [SIGNED_MANIFEST_FILE];
      // A symlink is refused while the snapshot is made, before the signature is read.
      const signature =
        error.reason === 'FILE_SYMLINK'
          ? sig.skipped('SIGNATURE_NOT_CHECKED', 'signature not checked', 'a symlink stopped the snapshot first')
          : sig.ok('SIGNATURE_VALID', 'the signature verifies', `made by the certificate in ${SIGNED_MANIFEST_FILE}`);
      return [signature, ...named.map((file) => files.error(error.reason, `${file}: ${what}`, error.detail, { file }))];
    }
    const { leaf, payload } = outcome.bundle;
    return [
      sig.ok('SIGNATURE_VALID', 'the signature verifies', `signed by ${leaf.label} at ${payload.signedAt}`),
      files.ok(
        'FILES_UNCHANGED',
        'every file is covered and unchanged',
        `${Object.keys(payload.files).length} files listed, all present, unchanged, no symlinks`,
      ),
    ];
  },
};
