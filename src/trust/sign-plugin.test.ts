import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { initAuthority, issueDeveloperCertificate } from './authority.ts';
import { signPlugin } from './sign-plugin.ts';

const HELLO = fileURLToPath(new URL('../../../examples/plugins/hello-world', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'ct-sign-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('signPlugin', () => {
  it("refuses a key that is not the certificate's, and signs with the right one", async () => {
    const ca = path.join(scratch, 'ca');
    await initAuthority({ dir: ca, name: 'Unit', intermediate: false, algorithm: 'ecdsa', days: 1, crlDays: 1 });
    const grants = { pluginIds: ['com.example.*'], permissions: ['read:courses'], privilegedPermissions: [] };
    const ada = await issueDeveloperCertificate({
      caDir: ca,
      outDir: path.join(scratch, 'ada'),
      name: 'Ada',
      grants,
      algorithm: 'ecdsa',
      days: 1,
    });
    const bob = await issueDeveloperCertificate({
      caDir: ca,
      outDir: path.join(scratch, 'bob'),
      name: 'Bob',
      grants,
      algorithm: 'rsa',
      days: 1,
    });
    const dir = path.join(scratch, 'plugin');
    cpSync(HELLO, dir, { recursive: true });
    assert.throws(
      () => signPlugin(dir, bob.keyFile, ada.certFile),
      /bob\/developer\.key\.pem is not the private key of 'CN=Ada'/,
    );
    const signed = signPlugin(dir, ada.keyFile, ada.certFile);
    assert.equal(signed.fingerprint, ada.fingerprint);
    assert.ok(existsSync(path.join(dir, 'CLASSTOP-MANIFEST.json')));
  });
});
