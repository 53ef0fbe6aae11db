import { createPrivateKey } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseCertificates, signPlugin } from '../../src/trust/index.ts';
import { writeSignedManifest } from '../../src/trust/signed-manifest.ts';
import { developerExtensions, OpensslPki, type OpensslCa } from './openssl-pki.ts';
import { EXAMPLES } from './test-orchestrator.ts';

const PERMISSIONS = ['read:courses', 'modify:courses', 'emit:events'];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const GARBAGE_BYTES = 512;
const VERSION = '1.0.0';

/**
 * One openssl CA and its CRLs over time, and plugins signed under it, some broken the way a bad
 * download or a hostile bundle breaks them. CRL numbers rise with each `openssl ca -gencrl`:
 * `stale` (past nextUpdate) < `old` (fresh, revokes nothing) < `current` (fresh, issued an hour
 * after `old`, revokes `revoked`) < `sameTime` (as `current`, but issued the same second as `old`:
 * only its crlNumber says it is newer).
 */
export interface RevocationFixtures {
  scratch: string;
  root: OpensslCa;
  crls: { stale: string; old: string; current: string; sameTime: string };
  /** Signed plugin directories: `kept` by a certificate never revoked, `revoked` by one revoked. */
  plugins: { kept: string; revoked: string };
  /** CRL files that are not CRLs: cut in half (PEM and DER), and random bytes. */
  badCrls: { truncatedPem: string; truncatedDer: string; garbage: string };
  /** Plugins validly signed over every file, but with a broken plugin.crt or chain certificate. */
  badPlugins: { crtTruncated: string; crtGarbage: string; chainTruncated: string; chainGarbage: string };
  /** A copy of a plugin directory under another directory name (its signature stays valid). */
  copy(dir: string, name: string): string;
  cleanup(): void;
}

export function makeRevocationFixtures(): RevocationFixtures {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-crl-'));
  const pki = new OpensslPki(path.join(scratch, 'pki'));
  const root = pki.rootCa('CRL Order Root');
  const devExt = developerExtensions(['com.test.*'], PERMISSIONS);
  const keptLeaf = pki.issue(root, 'Dev Kept', devExt);
  const revokedLeaf = pki.issue(root, 'Dev Revoked', devExt);

  const stale = pki.crl(root, new Date(Date.now() - DAY_MS));
  const oldIssued = new Date(Date.now() - 2 * HOUR_MS);
  const old = pki.crl(root, undefined, oldIssued);
  pki.revoke(root, revokedLeaf.cert);
  const current = pki.crl(root, undefined, new Date(Date.now() - HOUR_MS));
  const sameTime = pki.crl(root, undefined, oldIssued);

  const plugin = (name: string, leaf: { cert: string; key: string }) => signedPlugin(scratch, name, leaf);
  const crtBroken = (name: string, bytes: Buffer) => {
    const dir = plugin(name, keptLeaf);
    writeFileSync(path.join(dir, 'plugin.crt'), bytes);
    // Signed again over the broken file, so that only the certificate itself is wrong.
    const chain = parseCertificates(readFileSync(keptLeaf.cert));
    writeSignedManifest(dir, { id: `com.test.${name}`, version: VERSION }, [], readKey(keptLeaf.key), chain);
    return dir;
  };
  const chainBroken = (name: string, pem: string) => {
    const dir = plugin(name, keptLeaf);
    const file = path.join(dir, 'CLASSTOP-MANIFEST.json');
    const signed = JSON.parse(readFileSync(file, 'utf8')) as { chain: string[] };
    signed.chain[0] = pem;
    writeFileSync(file, JSON.stringify(signed, null, 2));
    return dir;
  };
  const keptPem = readFileSync(keptLeaf.cert);

  return {
    scratch,
    root,
    crls: { stale, old, current, sameTime },
    plugins: { kept: plugin('kept', keptLeaf), revoked: plugin('revoked', revokedLeaf) },
    badCrls: {
      truncatedPem: pki.truncated(current),
      truncatedDer: pki.truncated(pki.der(current, 'crl')),
      garbage: pki.garbage(GARBAGE_BYTES),
    },
    badPlugins: {
      crtTruncated: crtBroken('crt-truncated', readFileSync(pki.truncated(keptLeaf.cert))),
      crtGarbage: crtBroken('crt-garbage', readFileSync(pki.garbage(GARBAGE_BYTES))),
      chainTruncated: chainBroken('chain-truncated', keptPem.subarray(0, keptPem.length / 2).toString('latin1')),
      chainGarbage: chainBroken('chain-garbage', readFileSync(pki.garbage(GARBAGE_BYTES)).toString('latin1')),
    },
    copy: (dir, name) => {
      const target = path.join(scratch, 'copies', name);
      cpSync(dir, target, { recursive: true });
      return target;
    },
    cleanup: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** A copy of hello-world as `com.test.NAME`, signed with the project's `sign` by `leaf`. */
function signedPlugin(scratch: string, name: string, leaf: { cert: string; key: string }): string {
  const dir = path.join(scratch, 'plugins', name);
  cpSync(path.join(EXAMPLES, 'hello-world'), dir, { recursive: true });
  const yamlFile = path.join(dir, 'plugin.yaml');
  const doc = parseDocument(readFileSync(yamlFile, 'utf8'));
  doc.setIn(['metadata', 'id'], `com.test.${name}`);
  doc.setIn(['metadata', 'version'], VERSION);
  doc.setIn(['permissions'], PERMISSIONS);
  writeFileSync(yamlFile, String(doc));
  signPlugin(dir, leaf.key, leaf.cert);
  return dir;
}

function readKey(file: string) {
  return createPrivateKey(readFileSync(file));
}
