import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import type { PluginStatus } from '../../src/orchestrator/index.ts';
import { PROTOCOL_VERSION } from '../../src/protocol/index.ts';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { testPort } from '../helpers/orchestrator-process.ts';
import { EXAMPLES, REPO_ROOT, testLogger, writeTestConfig } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const POLL_MS = 200;
const MAX_POLLS = 300;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

describe('the classtop-sandbox command line', () => {
  const cleanups: Array<() => void> = [];
  after(() => cleanups.forEach((fn) => fn()));

  it('up runs the orchestrator on embedded defaults; status lists the plugins; SIGTERM cleans up', async () => {
    const { file, root } = writeTestConfig([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }], {
      admin: { listen: '127.0.0.1:0' },
    });
    const config = loadConfig(file, {});
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    cleanups.push(() => rmSync(config.shmDir, { recursive: true, force: true }));
    const port = testPort();
    const env = { CLASSTOP_ADMIN_LISTEN: `127.0.0.1:${port}` };
    const child = spawn(process.execPath, [CLI, 'up', '--config', file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => child.kill('SIGKILL'));

    const plugins = await pollUntil(
      async () => {
        const status = await cli(['status', '--json', '--admin', `127.0.0.1:${port}`]);
        return status.code === 0 ? (JSON.parse(status.stdout) as PluginStatus[]) : [];
      },
      (listed) => listed[0]?.state === 'ENABLED',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(plugins[0]?.state, 'ENABLED', stderr);
    assert.equal(plugins[0]?.id, 'com.example.hello-world');
    assert.equal(plugins[0]?.sdkProtocolVersion, PROTOCOL_VERSION, 'the SDK stated its protocol version at Register');

    const table = await cli(['status', '--admin', `127.0.0.1:${port}`]);
    assert.match(table.stdout, /^TENANT\s+PLUGIN\s+VERSION\s+STATE\s+CONTAINER\s+SIGNED BY\s+SDK PROTOCOL/);
    assert.match(
      table.stdout,
      new RegExp(`com\\.example\\.hello-world\\s.*\\s${PROTOCOL_VERSION.replace('.', '\\.')}(\\s|$)`, 'm'),
      'the table shows the SDK protocol version',
    );
    assert.match(table.stdout, /school-a\s+com\.example\.hello-world\s+1\.0\.0\s+ENABLED\s+[0-9a-f]{12}/);

    const reload = await cli(['reload', 'school-a/com.example.hello-world', '--admin', `127.0.0.1:${port}`]);
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stderr, /\[#{30}\] 100% reloaded/);
    assert.match(reload.stdout, /reload school-a\/com\.example\.hello-world: done/);
    const wrong = await cli(['disable', 'school-a/com.example.nope', '--admin', `127.0.0.1:${port}`]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /no plugin 'com\.example\.nope' in tenant 'school-a'/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(await leftovers(config, new DockerSandboxRuntime(testLogger())), {
      containers: [],
      socketDirs: [],
      socketLinks: [],
      shmDirs: [],
    });
    assert.equal(existsSync(path.join(config.shmDir, config.orchestratorId)), false, 'no empty shm base is left');
  });

  it('status says how to start an orchestrator when none answers', async () => {
    const result = await cli(['status', '--admin', '127.0.0.1:1']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /no orchestrator answers at http:\/\/127\.0\.0\.1:1; start one with `classtop-sandbox up`/,
    );
  });

  it('up without a Docker engine exits with how to install or start one', async () => {
    const { file, root } = writeTestConfig([], { dockerSocket: '/nonexistent/docker.sock' });
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const result = await cli(['up', '--config', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no Docker engine answers at \/nonexistent\/docker\.sock/);
    assert.match(result.stderr, /apt-get install docker\.io/);
  });

  it('validate accepts a good plugin and names the problems of a bad one', async () => {
    const good = await cli(['validate', path.join(EXAMPLES, 'hello-world')]);
    assert.equal(good.code, 0);
    assert.match(
      good.stdout,
      /^ok: com\.example\.hello-world@1\.0\.0 \(node, entry index\.js\); permissions: read:courses, modify:courses, emit:events/,
    );
    const bad = await cli(['validate', path.join(REPO_ROOT, 'test')]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /test\/plugin\.yaml is invalid:\n {2}- not found; every plugin directory needs a plugin\.yaml/,
    );
  });

  it('an unknown command prints the usage and exits 2', async () => {
    const result = await cli(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command 'frobnicate'[\s\S]*Usage: classtop-sandbox/);
  });
});
