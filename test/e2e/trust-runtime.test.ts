import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { leftovers } from '../helpers/leftovers.ts';
import { EXAMPLE_CERTIFICATE, TestGatewayClient } from '../helpers/gateway-client.ts';
import { EXAMPLES, REPO_ROOT, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const HELLO = 'com.example.hello-world';
const PEEK = 'com.example.course-peek';
/** Past a 2 s token lifetime (not an assertion on timing: the test waits, then checks). */
const TOKEN_LIFETIME_PASSED_MS = 3_000;
const POLL_MS = 100;
const MAX_POLLS = 200;

async function cli(...args: string[]): Promise<string> {
  return (await run(process.execPath, [CLI, ...args])).stdout;
}

describe("the project's own CA tooling, packed plugins, and revocation at run time", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-trust-rt-'));
  const ca = path.join(scratch, 'ca');
  const dev = path.join(scratch, 'dev');
  const plugin = path.join(scratch, 'hello-world');
  const archive = path.join(scratch, 'hello-world.ctp');
  let serial: string;
  let t: TestOrchestrator;

  before(async () => {
    await cli('ca', 'init', '--dir', ca, '--intermediate', '--name', 'Runtime', '--algorithm', 'rsa');
    const issued = await cli(
      'cert',
      'issue',
      '--ca',
      ca,
      '--out',
      dev,
      '--name',
      'Runtime Dev',
      '--plugin-id',
      HELLO,
      '--permissions',
      'read:courses,modify:courses,emit:events',
    );
    serial = /serial ([0-9a-f]+)/.exec(issued)?.[1] ?? '';
    cpSync(path.join(EXAMPLES, 'hello-world'), plugin, { recursive: true });
    await cli('sign', plugin, '--key', path.join(dev, 'developer.key.pem'), '--cert', path.join(dev, 'developer.pem'));
    await cli('pack', plugin, '--out', archive);
    t = await startTestOrchestrator(
      [
        {
          id: 'school-a',
          trust: {
            roots: [path.join(ca, 'root.pem')],
            crls: [path.join(ca, 'root.crl.pem'), path.join(ca, 'intermediate.crl.pem')],
          },
          plugins: [archive],
        },
      ],
      { config: { crlReloadIntervalMs: 200 } },
    );
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('makes certificates and CRLs that openssl accepts, with the private keys mode 0600', () => {
    const verified = execFileSync('openssl', [
      'verify',
      '-CAfile',
      path.join(ca, 'root.pem'),
      '-untrusted',
      path.join(ca, 'intermediate.pem'),
      '-purpose',
      'any',
      path.join(dev, 'developer.pem'),
    ]);
    assert.match(verified.toString(), /developer\.pem: OK/);
    const crl = execFileSync(
      'openssl',
      ['crl', '-in', path.join(ca, 'intermediate.crl.pem'), '-CAfile', path.join(ca, 'intermediate.pem'), '-noout'],
      { stdio: 'pipe' },
    );
    assert.equal(crl.toString(), '');
    for (const key of ['root.key.pem', 'intermediate.key.pem']) {
      assert.equal(
        execFileSync('stat', ['-c', '%a', path.join(ca, key)])
          .toString()
          .trim(),
        '600',
      );
    }
    assert.equal(
      execFileSync('stat', ['-c', '%a', path.join(dev, 'developer.key.pem')])
        .toString()
        .trim(),
      '600',
    );
  });

  it('verify-signature checks a signed plugin offline and says what it found', async () => {
    const out = await cli(
      'verify-signature',
      plugin,
      '--trust',
      path.join(ca, 'root.pem'),
      '--crl',
      path.join(ca, 'root.crl.pem'),
      '--crl',
      path.join(ca, 'intermediate.crl.pem'),
    );
    assert.match(out, /signed by: 'CN=Runtime Dev'/);
    assert.match(
      out,
      /chain: 'CN=Runtime Dev' → 'CN=Runtime Intermediate CA' → 'CN=Runtime Root CA' \(trusted, CRLs checked\)/,
    );
    assert.match(out, /result: ok/);
  });

  it('runs a packed .ctp plugin, signed, from its verified snapshot', () => {
    const status = t.status('school-a', HELLO);
    assert.equal(status.state, 'ENABLED', status.lastError ?? '');
    assert.equal(status.signed, true);
    assert.deepEqual(status.signer && [status.signer.subject, status.signer.serial], ['CN=Runtime Dev', serial]);
  });

  it('a certificate revoked while its plugin runs: the plugin is disabled and reported', async () => {
    await cli('cert', 'revoke', '--ca', ca, '--serial', serial);
    const status = await pollUntil(
      () => t.status('school-a', HELLO),
      (s) => s.state === 'ERROR',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(status.state, 'ERROR');
    assert.equal(status.reason, 'CERT_REVOKED');
    assert.match(
      status.lastError ?? '',
      new RegExp(`'CN=Runtime Dev' \\(serial ${serial}\\) is revoked by 'CN=Runtime Intermediate CA'`),
    );
    assert.deepEqual((await leftovers(t.config, t.runtime)).containers, []);
  });
});

describe('session tokens do not outlive their instance', () => {
  it('a token replayed after its instance stopped is refused by the next instance', async () => {
    // Both share the secret, so the token's signature is valid: only its instance is wrong.
    const options = {
      env: { CLASSTOP_SESSION_SECRET: 'x'.repeat(32) },
      config: { orchestratorId: `replay${process.pid}` },
    };
    const tenants = [{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }];
    const first = await startTestOrchestrator(tenants, options);
    let token: string;
    try {
      const client = new TestGatewayClient(first.gatewaySocket('school-a', HELLO));
      token = (await client.register(HELLO, '1.0.0', [], EXAMPLE_CERTIFICATE)).token;
      assert.equal((await client.callApi('get_courses', {}, token)).code, 'OK');
      client.close();
    } finally {
      await first.stop();
    }
    const second = await startTestOrchestrator(tenants, options);
    try {
      const client = new TestGatewayClient(second.gatewaySocket('school-a', HELLO));
      const replayed = await client.callApi('get_courses', {}, token);
      assert.equal(replayed.code, 'AUTHENTICATION_FAILED');
      assert.match(replayed.message, /another plugin instance/);
      client.close();
    } finally {
      await second.stop();
    }
  });
});

describe('session tokens expire, and the SDK refreshes its own', () => {
  it('an expired token is refused, while the plugin, which re-registers in time, keeps working', async () => {
    const t = await startTestOrchestrator([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'course-peek')] }], {
      config: { sessionTokenTtlS: 2 },
    });
    const client = new TestGatewayClient(t.gatewaySocket('school-a', PEEK));
    try {
      const token = (await client.register(PEEK, '1.0.0')).token;
      assert.equal((await client.callApi('get_courses', {}, token)).code, 'OK');
      await new Promise((resolve) => setTimeout(resolve, TOKEN_LIFETIME_PASSED_MS));
      const expired = await client.callApi('get_courses', {}, token);
      assert.equal(expired.code, 'AUTHENTICATION_FAILED');
      assert.match(expired.message, /session token expired; call Register again/);
      const fromPlugin = await t.orchestrator
        .find('school-a', PEEK)
        .callFunction('count_courses', Buffer.from('{}'), Date.now() + 10_000);
      assert.deepEqual(JSON.parse(fromPlugin.toString()), { count: 0 }, 'the plugin’s own calls still succeed');
    } finally {
      client.close();
      await t.stop();
    }
  });
});
