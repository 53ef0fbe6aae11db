import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { makeRevocationFixtures, type RevocationFixtures } from '../helpers/revocation-fixtures.ts';
import { REPO_ROOT } from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
/** A line of a JavaScript stack trace: what a refusal must never print. */
const STACK_LINE = /^\s+at /m;

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `classtop-sandbox verify-signature DIR --trust ROOT --crl …`, run as a user runs it. */
async function verifySignature(dir: string, roots: string[], crls: string[]): Promise<Outcome> {
  const args = [
    CLI,
    'verify-signature',
    dir,
    ...roots.flatMap((r) => ['--trust', r]),
    ...crls.flatMap((c) => ['--crl', c]),
  ];
  try {
    const { stdout, stderr } = await run(process.execPath, args);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let f: RevocationFixtures;
before(() => {
  f = makeRevocationFixtures();
});
after(() => f?.cleanup());

describe('verify-signature: among several CRLs of an issuer the newest in effect decides, in any order', () => {
  /** openssl's own verdict on `leaf` with the CRLs in this order, as the reference. */
  function opensslVerdict(leaf: string, crls: string[]): string {
    const bundle = path.join(f.scratch, `crls-${crls.map((c) => path.basename(c)).join('+')}.pem`);
    writeFileSync(bundle, crls.map((c) => readFileSync(c, 'utf8')).join(''));
    try {
      execFileSync('openssl', ['verify', '-crl_check', '-CAfile', f.root.cert, '-CRLfile', bundle, leaf], {
        stdio: 'pipe',
      });
      return 'OK';
    } catch (err) {
      const failed = err as { stdout?: Buffer; stderr?: Buffer };
      return `${String(failed.stdout ?? '')}${String(failed.stderr ?? '')}`;
    }
  }

  for (const order of ['old-then-current', 'current-then-old'] as const) {
    it(`${order}: the current CRL revokes the certificate, so the plugin is refused CERT_REVOKED`, async () => {
      const crls = order === 'old-then-current' ? [f.crls.old, f.crls.current] : [f.crls.current, f.crls.old];
      const leaf = path.join(f.plugins.revoked, 'plugin.crt');
      assert.match(opensslVerdict(leaf, crls), /certificate revoked/, 'openssl agrees');
      const out = await verifySignature(f.plugins.revoked, [f.root.cert], crls);
      assert.equal(out.code, 1, out.stdout);
      assert.match(
        out.stderr,
        new RegExp(
          `CERT_REVOKED: certificate 'CN=Dev Revoked' .* is revoked by 'CN=CRL Order Root' .*\\(${escaped(f.crls.current)}\\)`,
        ),
      );
      assert.doesNotMatch(out.stderr, STACK_LINE);
    });
  }

  for (const order of ['stale-then-fresh', 'fresh-then-stale'] as const) {
    it(`${order}: a stale CRL beside a fresh one of the same issuer does not refuse`, async () => {
      const crls = order === 'stale-then-fresh' ? [f.crls.stale, f.crls.old] : [f.crls.old, f.crls.stale];
      assert.equal(opensslVerdict(path.join(f.plugins.kept, 'plugin.crt'), crls), 'OK', 'openssl agrees');
      const out = await verifySignature(f.plugins.kept, [f.root.cert], crls);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /\(trusted, CRLs checked\)\nresult: ok/);
    });
  }

  for (const order of ['old-then-newer', 'newer-then-old'] as const) {
    it(`${order}, both issued the same second: the higher crlNumber decides`, async () => {
      const crls = order === 'old-then-newer' ? [f.crls.old, f.crls.sameTime] : [f.crls.sameTime, f.crls.old];
      const out = await verifySignature(f.plugins.revoked, [f.root.cert], crls);
      assert.equal(out.code, 1, out.stdout);
      assert.match(out.stderr, new RegExp(`CERT_REVOKED: .* \\(${escaped(f.crls.sameTime)}\\)`));
    });
  }

  it('a certificate the current CRL does not list is accepted with every CRL given, in any order', async () => {
    const crls = [f.crls.current, f.crls.stale, f.crls.old];
    const out = await verifySignature(f.plugins.kept, [f.root.cert], crls);
    assert.equal(out.code, 0, out.stderr);
  });

  it('only the stale CRL: still refused CRL_STALE', async () => {
    const out = await verifySignature(f.plugins.kept, [f.root.cert], [f.crls.stale]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /CRL_STALE: the CRL of 'CN=CRL Order Root'.* was due for renewal at/);
  });
});

describe('verify-signature: a truncated or garbage certificate or CRL is a refusal naming the file, not a stack trace', () => {
  const cases: { name: string; run: () => Promise<Outcome>; expect: () => RegExp }[] = [
    ...(['truncatedPem', 'truncatedDer', 'garbage'] as const).map((kind) => ({
      name: `CRL file ${kind}`,
      run: () => verifySignature(f.plugins.kept, [f.root.cert], [f.crls.current, f.badCrls[kind]]),
      expect: () => new RegExp(`CRL_MALFORMED: CRL file ${escaped(f.badCrls[kind])} is not a readable CRL`),
    })),
    ...(['crtTruncated', 'crtGarbage'] as const).map((kind) => ({
      name: `plugin.crt ${kind}`,
      run: () => verifySignature(f.badPlugins[kind], [f.root.cert], [f.crls.current]),
      expect: () => /CERT_MALFORMED: plugin\.crt is not a readable certificate/,
    })),
    ...(['chainTruncated', 'chainGarbage'] as const).map((kind) => ({
      name: `chain certificate ${kind}`,
      run: () => verifySignature(f.badPlugins[kind], [f.root.cert], [f.crls.current]),
      expect: () => /CERT_MALFORMED: CLASSTOP-MANIFEST\.json chain\[0\] is not a readable certificate/,
    })),
    {
      // Only a missing file is "no CRL": one that cannot be read is not silently skipped.
      name: 'a CRL path that is a directory',
      run: () => verifySignature(f.plugins.kept, [f.root.cert], [f.crls.current, path.dirname(f.crls.current)]),
      expect: () =>
        new RegExp(
          `CRL_MALFORMED: CRL file ${escaped(path.dirname(f.crls.current))} is not a readable CRL: it cannot be read`,
        ),
    },
    {
      name: 'trust root garbage',
      run: () => verifySignature(f.plugins.kept, [f.badCrls.garbage], [f.crls.current]),
      expect: () => new RegExp(`CERT_MALFORMED: ${escaped(f.badCrls.garbage)} is not a readable certificate`),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: exits 1 with the reason code and the file`, async () => {
      const out = await c.run();
      assert.equal(out.code, 1, out.stdout);
      assert.match(out.stderr, c.expect());
      assert.doesNotMatch(out.stderr, STACK_LINE);
      assert.equal(out.stderr.trim().split('\n').length, 1, out.stderr);
    });
  }
});
