import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { leftovers } from '../helpers/leftovers.ts';
import { pollUntil } from '../helpers/poll.ts';
import { makeRevocationFixtures, type RevocationFixtures } from '../helpers/revocation-fixtures.ts';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const KEPT = 'com.test.kept';
const REVOKED = 'com.test.revoked';
const CRL_RELOAD_MS = 200;
const JOB_TIMEOUT_MS = 60_000;
/** Reload jobs tried until one runs after the CRL re-read (each is a real container start). */
const MAX_RELOADS = 20;

interface Expectation {
  tenant: string;
  pluginId: string;
  state: 'ENABLED' | 'ERROR';
  reason?: string;
  message?: () => RegExp;
}

describe('the orchestrator: the newest CRL decides, and a malformed CRL or certificate refuses cleanly', () => {
  let f: RevocationFixtures;
  let t: TestOrchestrator;
  /** The CRL file of tenant 'live', which the last test breaks while its plugin runs. */
  let liveCrl: string;
  const expectations: Expectation[] = [];

  before(async () => {
    f = makeRevocationFixtures();
    liveCrl = path.join(f.scratch, 'live.crl.pem');
    copyFileSync(f.crls.old, liveCrl);
    const { old, current, stale } = f.crls;
    const tenant = (id: string, crls: string[], plugins: [string, string][]) => ({
      id,
      privilegedPermissions: [],
      trust: { roots: [f.root.cert], crls },
      plugins: plugins.map(([dir, name]) => f.copy(dir, `${id}-${name}`)),
    });
    const tenants = [
      tenant('old-then-current', [old, current], [[f.plugins.revoked, 'revoked']]),
      tenant('current-then-old', [current, old], [[f.plugins.revoked, 'revoked']]),
      tenant('stale-beside-fresh', [stale, old], [[f.plugins.kept, 'kept']]),
      tenant('garbage-crl', [old, current, f.badCrls.garbage], [[f.plugins.kept, 'kept']]),
      tenant('truncated-crl', [f.badCrls.truncatedPem], [[f.plugins.kept, 'kept']]),
      tenant(
        'bad-certificates',
        [current],
        [
          [f.badPlugins.crtGarbage, 'crt'],
          [f.badPlugins.chainTruncated, 'chain'],
        ],
      ),
      tenant('live', [liveCrl], [[f.plugins.kept, 'kept']]),
    ];
    const revoked = () => /certificate 'CN=Dev Revoked' .* is revoked by 'CN=CRL Order Root'/;
    const malformedCrl = (file: string) => () =>
      new RegExp(`CRL file ${file.replace(/\./g, '\\.')} is not a readable CRL`);
    expectations.push(
      { tenant: 'old-then-current', pluginId: REVOKED, state: 'ERROR', reason: 'CERT_REVOKED', message: revoked },
      { tenant: 'current-then-old', pluginId: REVOKED, state: 'ERROR', reason: 'CERT_REVOKED', message: revoked },
      { tenant: 'stale-beside-fresh', pluginId: KEPT, state: 'ENABLED' },
      {
        tenant: 'garbage-crl',
        pluginId: KEPT,
        state: 'ERROR',
        reason: 'CRL_MALFORMED',
        message: malformedCrl(f.badCrls.garbage),
      },
      {
        tenant: 'truncated-crl',
        pluginId: KEPT,
        state: 'ERROR',
        reason: 'CRL_MALFORMED',
        message: malformedCrl(f.badCrls.truncatedPem),
      },
      {
        tenant: 'bad-certificates',
        pluginId: 'com.test.crt-garbage',
        state: 'ERROR',
        reason: 'CERT_MALFORMED',
        message: () => /plugin\.crt is not a readable certificate/,
      },
      {
        tenant: 'bad-certificates',
        pluginId: 'com.test.chain-truncated',
        state: 'ERROR',
        reason: 'CERT_MALFORMED',
        message: () => /CLASSTOP-MANIFEST\.json chain\[0\] is not a readable certificate/,
      },
      { tenant: 'live', pluginId: KEPT, state: 'ENABLED' },
    );
    t = await startTestOrchestrator(tenants, { config: { crlReloadIntervalMs: CRL_RELOAD_MS } });
  });

  const pacing = { intervalMs: CRL_RELOAD_MS, maxPolls: MAX_RELOADS };

  /** A reload job of tenant 'live''s plugin: whether it completed, or the error it failed with. */
  async function reload(cause: string): Promise<{ ok: boolean; error: string }> {
    const job = await t.orchestrator.submit({ action: 'reload', tenant: 'live', pluginId: KEPT, cause });
    try {
      await t.orchestrator.waitForJob(job, JOB_TIMEOUT_MS);
      return { ok: true, error: '' };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  after(async () => {
    await t?.stop();
    f?.cleanup();
  });

  it('starts: each plugin ENABLED or refused in ERROR with its own reason, naming the file', () => {
    for (const e of expectations) {
      const status = t.status(e.tenant, e.pluginId);
      const label = `${e.tenant}/${e.pluginId}`;
      assert.equal(status.state, e.state, `${label}: ${status.lastError}`);
      if (e.reason) assert.equal(status.reason, e.reason, `${label}: ${status.lastError}`);
      if (e.message) assert.match(status.lastError ?? '', e.message(), label);
      if (e.state === 'ERROR') assert.equal(status.containerId, null, label);
    }
  });

  it('started a container for the accepted plugins only', async () => {
    const { containers } = await leftovers(t.config, t.runtime);
    assert.equal(containers.length, expectations.filter((e) => e.state === 'ENABLED').length);
  });

  it('a CRL file that becomes garbage while its plugin runs: no crash, the plugin keeps serving, a new version is refused until the CRL is fixed', async () => {
    const good = readFileSync(liveCrl);
    writeFileSync(liveCrl, readFileSync(f.badCrls.garbage));
    // A reload verifies the bundle again; until the re-read saw the garbage, it succeeds.
    const refused = await pollUntil(
      () => reload('test'),
      (r) => !r.ok,
      pacing,
    );
    assert.equal(refused.ok, false);
    assert.match(refused.error, new RegExp(`CRL_MALFORMED: CRL file ${liveCrl.replace(/\./g, '\\.')}`));
    const status = t.status('live', KEPT);
    assert.equal(status.state, 'ENABLED', 'the running version keeps serving');
    assert.equal(status.reason, 'CRL_MALFORMED');

    writeFileSync(liveCrl, good);
    const reloaded = await pollUntil(
      () => reload('fixed'),
      (r) => r.ok,
      pacing,
    );
    assert.equal(reloaded.ok, true, reloaded.error);
    assert.equal(t.status('stale-beside-fresh', KEPT).state, 'ENABLED', 'other tenants unaffected');
  });
});
