import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { parseCertificates, signPlugin } from '../../src/trust/index.ts';
import { writeSignedManifest } from '../../src/trust/signed-manifest.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { CA_EXTENSIONS, developerExtensions, OpensslPki, type OpensslCa } from '../helpers/openssl-pki.ts';
import { EXAMPLES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const PERMISSIONS = ['read:courses', 'modify:courses', 'emit:events'];
const DAY_MS = 86_400_000;

interface Case {
  name: string;
  tenant: 'main' | 'stale' | 'forged-crl' | 'dev';
  expect: string;
  message?: RegExp;
  dir: string;
}

describe('trust: every plugin is verified before a container exists', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-trust-'));
  const pki = new OpensslPki(path.join(scratch, 'pki'));
  const cases: Case[] = [];
  let t: TestOrchestrator;
  let root: OpensslCa;

  /** A copy of hello-world as `com.test.NAME`, signed with the project's `sign` by `leaf`. */
  function plugin(
    name: string,
    leaf: { cert: string; key: string },
    options: {
      chain?: string[];
      permissions?: string[];
      privileged?: string[];
      after?: (dir: string, key: string, chainFile: string) => void;
    } = {},
  ): string {
    const dir = path.join(scratch, 'plugins', name);
    cpSync(path.join(EXAMPLES, 'hello-world'), dir, { recursive: true });
    const yamlFile = path.join(dir, 'plugin.yaml');
    const doc = parseDocument(readFileSync(yamlFile, 'utf8'));
    doc.setIn(['metadata', 'id'], `com.test.${name}`);
    doc.setIn(['permissions'], options.permissions ?? PERMISSIONS);
    if (options.privileged) doc.setIn(['privileged_permissions'], options.privileged);
    writeFileSync(yamlFile, String(doc));
    const chainFile = path.join(scratch, `${name}-chain.pem`);
    writeFileSync(chainFile, [leaf.cert, ...(options.chain ?? [])].map((f) => readFileSync(f, 'utf8')).join(''));
    signPlugin(dir, leaf.key, chainFile);
    options.after?.(dir, leaf.key, chainFile);
    return dir;
  }

  function add(name: string, tenant: Case['tenant'], expect: string, dir: string, message?: RegExp): void {
    cases.push({ name, tenant, expect, dir, message });
  }

  before(async () => {
    root = pki.rootCa('Matrix Root');
    const intermediate = pki.asCa(
      'Matrix Intermediate',
      pki.issue(root, 'Matrix Intermediate', [
        'basicConstraints = critical,CA:TRUE,pathlen:0',
        'keyUsage = critical,keyCertSign,cRLSign',
      ]),
    );
    const devExt = developerExtensions(['com.test.*'], PERMISSIONS, ['privileged:analytics']);
    const now = Date.now();

    // Accepted: root → leaf (ECDSA), root → intermediate → leaf (RSA), an exact-id grant.
    add('valid-ecdsa', 'main', 'ENABLED', plugin('valid-ecdsa', pki.issue(root, 'Dev ECDSA', devExt)));
    add(
      'valid-rsa-intermediate',
      'main',
      'ENABLED',
      plugin('valid-rsa-intermediate', pki.issue(intermediate, 'Dev RSA', devExt, { keyKind: 'rsa2048' }), {
        chain: [intermediate.cert],
      }),
    );
    add(
      'valid-exact-id',
      'main',
      'ENABLED',
      plugin(
        'valid-exact-id',
        pki.issue(root, 'Dev Exact', developerExtensions(['com.test.valid-exact-id'], PERMISSIONS)),
      ),
    );

    add(
      'expired',
      'main',
      'CERT_EXPIRED',
      plugin(
        'expired',
        pki.issue(root, 'Dev Expired', devExt, {
          notBefore: new Date(now - 30 * DAY_MS),
          notAfter: new Date(now - DAY_MS),
        }),
      ),
      /'CN=Dev Expired' \(serial [0-9a-f]+\) expired at/,
    );
    add(
      'not-yet-valid',
      'main',
      'CERT_NOT_YET_VALID',
      plugin(
        'not-yet-valid',
        pki.issue(root, 'Dev Future', devExt, {
          notBefore: new Date(now + 10 * DAY_MS),
          notAfter: new Date(now + 20 * DAY_MS),
        }),
      ),
      /'CN=Dev Future'.* is not valid before/,
    );
    const stranger = pki.rootCa('Stranger Root');
    add(
      'unknown-root',
      'main',
      'CHAIN_UNTRUSTED',
      plugin('unknown-root', pki.issue(stranger, 'Dev Stranger', devExt)),
      /no trusted root issued 'CN=Dev Stranger'.*issuer 'CN=Stranger Root'.*the tenant trusts 'CN=Matrix Root'/,
    );

    const leafAsCa = pki.asCa(
      'Leaf As CA',
      pki.issue(root, 'Leaf As CA', ['keyUsage = critical,digitalSignature', 'extendedKeyUsage = codeSigning']),
    );
    add(
      'leaf-signs-leaf',
      'main',
      'ISSUER_NOT_CA',
      plugin('leaf-signs-leaf', pki.issue(leafAsCa, 'Dev Under Leaf', devExt), { chain: [leafAsCa.cert] }),
      /'CN=Leaf As CA'.* is not a CA \(it has no basicConstraints\)/,
    );
    const notCa = pki.asCa(
      'Not A CA',
      pki.issue(root, 'Not A CA', ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,keyCertSign']),
    );
    add(
      'ca-false-intermediate',
      'main',
      'ISSUER_NOT_CA',
      plugin('ca-false-intermediate', pki.issue(notCa, 'Dev Under NotCA', devExt), { chain: [notCa.cert] }),
      /cA:false/,
    );
    const tooDeep = pki.asCa('Too Deep', pki.issue(intermediate, 'Too Deep', CA_EXTENSIONS));
    add(
      'path-len-exceeded',
      'main',
      'PATH_LEN_EXCEEDED',
      plugin('path-len-exceeded', pki.issue(tooDeep, 'Dev Too Deep', devExt), {
        chain: [tooDeep.cert, intermediate.cert],
      }),
      /'CN=Matrix Intermediate'.* allows 0 intermediate CA\(s\) below it \(pathLen\), but the chain has 1/,
    );
    add(
      'no-code-signing',
      'main',
      'CODE_SIGNING_USAGE_MISSING',
      plugin(
        'no-code-signing',
        pki.issue(root, 'Dev Server', [
          ...devExt.filter((e) => !e.startsWith('extendedKeyUsage')),
          'extendedKeyUsage = serverAuth',
        ]),
      ),
      /'CN=Dev Server'.* lacks the codeSigning extended key usage/,
    );
    const revokedLeaf = pki.issue(root, 'Dev Revoked', devExt);
    pki.revoke(root, revokedLeaf.cert);
    add(
      'revoked',
      'main',
      'CERT_REVOKED',
      plugin('revoked', revokedLeaf),
      /certificate 'CN=Dev Revoked' \(serial [0-9a-f]+\) is revoked by 'CN=Matrix Root'/,
    );
    add(
      'sha1',
      'main',
      'WEAK_ALGORITHM',
      plugin('sha1', pki.issue(root, 'Dev SHA1', devExt, { digest: 'sha1' })),
      /'CN=Dev SHA1'.* is signed with SHA-1; SHA-256 or stronger is required/,
    );
    add(
      'rsa-1024',
      'main',
      'WEAK_ALGORITHM',
      plugin('rsa-1024', pki.issue(root, 'Dev RSA1024', devExt, { keyKind: 'rsa1024' })),
      /1024-bit RSA key; at least 2048 bits/,
    );
    add(
      'exponent-3',
      'main',
      'WEAK_ALGORITHM',
      plugin('exponent-3', pki.issue(root, 'Dev E3', devExt, { keyKind: 'rsa-e3' })),
      /RSA public exponent 3; 65537 is required/,
    );

    const good = () => pki.issue(root, 'Dev Good', devExt);
    add(
      'fingerprint-mismatch',
      'main',
      'FINGERPRINT_MISMATCH',
      plugin('fingerprint-mismatch', good(), {
        after: (dir, key, chainFile) => {
          // A valid signature over a plugin.yaml that pins another certificate (sign would re-pin).
          const yamlFile = path.join(dir, 'plugin.yaml');
          writeFileSync(
            yamlFile,
            readFileSync(yamlFile, 'utf8').replace(/sha256:[0-9a-f]{64}/, `sha256:${'0'.repeat(64)}`),
          );
          const chain = parseCertificates(readFileSync(chainFile));
          writeSignedManifest(
            dir,
            { id: 'com.test.fingerprint-mismatch', version: '1.0.0' },
            [],
            createPrivateKey(readFileSync(key)),
            chain,
          );
        },
      }),
      /plugin\.yaml pins certificate\.fingerprint sha256:0{64}, but the bundle is signed by 'CN=Dev Good'/,
    );
    add(
      'file-changed',
      'main',
      'FILE_TAMPERED',
      plugin('file-changed', good(), { after: (dir) => appendFileSync(path.join(dir, 'index.js'), '\n// evil\n') }),
      /file\(s\) changed after signing: index\.js/,
    );
    add(
      'file-extra',
      'main',
      'FILE_EXTRA',
      plugin('file-extra', good(), { after: (dir) => writeFileSync(path.join(dir, 'payload.js'), 'x') }),
      /not covered by the signature: payload\.js/,
    );
    add(
      'file-missing',
      'main',
      'FILE_MISSING',
      plugin('file-missing', good(), { after: (dir) => unlinkSync(path.join(dir, 'plugin.crt')) }),
      /signed file\(s\) missing: plugin\.crt/,
    );
    add(
      'symlink',
      'main',
      'FILE_SYMLINK',
      plugin('symlink', good(), { after: (dir) => symlinkSync('/etc/passwd', path.join(dir, 'passwd')) }),
      /passwd is a symlink/,
    );
    add(
      'permission-not-granted',
      'main',
      'PERMISSION_NOT_GRANTED',
      plugin(
        'permission-not-granted',
        pki.issue(root, 'Dev Narrow', developerExtensions(['com.test.*'], ['read:courses'])),
        { permissions: PERMISSIONS },
      ),
      /'CN=Dev Narrow'.* does not grant modify:courses, emit:events to com\.test\.permission-not-granted/,
    );
    add(
      'privileged-not-allowed',
      'main',
      'PERMISSION_NOT_ALLOWED',
      plugin('privileged-not-allowed', good(), { privileged: ['privileged:analytics'] }),
      /tenant 'main' does not allow privileged:analytics/,
    );
    add(
      'other-id',
      'main',
      'PLUGIN_ID_NOT_GRANTED',
      plugin('other-id', pki.issue(root, 'Dev Other', developerExtensions(['org.other.*'], PERMISSIONS))),
      /may sign org\.other\.\*, not com\.test\.other-id/,
    );
    const unsigned = path.join(scratch, 'plugins', 'unsigned');
    cpSync(path.join(EXAMPLES, 'hello-world'), unsigned, { recursive: true });
    rmSync(path.join(unsigned, 'CLASSTOP-MANIFEST.json'));
    add('unsigned', 'main', 'UNSIGNED', unsigned, /com\.example\.hello-world has no CLASSTOP-MANIFEST\.json; sign it/);
    add('unsigned-allowed', 'dev', 'ENABLED', unsigned);

    add(
      'stale-crl',
      'stale',
      'CRL_STALE',
      plugin('stale-crl', good()),
      /the CRL of 'CN=Matrix Root'.* was due for renewal at/,
    );
    add(
      'forged-crl',
      'forged-crl',
      'CRL_INVALID',
      plugin('forged-crl', good()),
      /the CRL for 'CN=Matrix Root'.* is not signed by that issuer's key/,
    );

    const rootCrl = pki.crl(root);
    const crls = [rootCrl, pki.crl(intermediate), pki.crl(tooDeep), pki.crl(notCa), pki.crl(leafAsCa)];
    // Same issuer name as the real root, another key: its CRL must not count.
    const impostor = pki.rootCa('Matrix Root');
    const trust = (crlFiles: string[], extra: Record<string, unknown> = {}) => ({
      roots: [root.cert],
      crls: crlFiles,
      ...extra,
    });
    const tenants = {
      main: trust(crls),
      stale: trust([pki.crl(root, new Date(Date.now() - DAY_MS))]),
      'forged-crl': trust([pki.crl(impostor)]),
      dev: trust(crls, { allowUnsigned: true }),
    };
    t = await startTestOrchestrator(
      Object.entries(tenants).map(([id, tenantTrust]) => ({
        id,
        privilegedPermissions: [],
        trust: tenantTrust,
        plugins: cases.filter((c) => c.tenant === id).map((c) => c.dir),
      })),
    );
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('accepts root → leaf (ECDSA), root → intermediate → leaf (RSA), prefix and exact id grants, and unsigned only where allowed', () => {
    for (const c of cases.filter((c) => c.expect === 'ENABLED')) {
      const status = t.orchestrator.list().find((p) => p.tenant === c.tenant && p.directory === c.dir);
      assert.equal(status?.state, 'ENABLED', `${c.name}: ${status?.lastError}`);
      assert.equal(status?.signed, c.name !== 'unsigned-allowed', c.name);
    }
  });

  it('refuses every other case with its own reason and a message naming what is wrong', () => {
    const refused = cases.filter((c) => c.expect !== 'ENABLED');
    assert.ok(refused.length >= 20);
    for (const c of refused) {
      const status = t.orchestrator.list().find((p) => p.tenant === c.tenant && p.directory === c.dir);
      assert.equal(status?.state, 'ERROR', c.name);
      assert.equal(status?.reason, c.expect, `${c.name}: ${status?.lastError}`);
      if (c.message) assert.match(status?.lastError ?? '', c.message, c.name);
      assert.equal(status?.containerId, null, c.name);
    }
  });

  it('started no container for any refused plugin', async () => {
    const { containers } = await leftovers(t.config, t.runtime);
    const accepted = cases.filter((c) => c.expect === 'ENABLED').length;
    assert.equal(containers.length, accepted);
  });
});
