import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { authorityFiles, initAuthority, revokeCertificate, updateCrls } from './authority.ts';

/** The cRLNumber as openssl, an independent reader, sees it. */
function opensslCrlNumber(file: string): string {
  return execFileSync('openssl', ['crl', '-in', file, '-noout', '-crlnumber'], { encoding: 'utf8' }).trim();
}

describe('the CA tooling numbers its CRLs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'classtop-ca-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('each CRL it signs carries a cRLNumber one above the last, so the newest ranks first', async () => {
    await initAuthority({ dir, name: 'Numbered', intermediate: false, algorithm: 'ecdsa', days: 30, crlDays: 7 });
    const crl = authorityFiles(dir, 'root').crl;
    assert.equal(opensslCrlNumber(crl), 'crlNumber=0x01');
    await revokeCertificate({ caDir: dir, serial: '0a0b', crlDays: 7 });
    assert.equal(opensslCrlNumber(crl), 'crlNumber=0x02');
    await updateCrls({ caDir: dir, crlDays: 7 });
    assert.equal(opensslCrlNumber(crl), 'crlNumber=0x03');
  });
});
