import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pinPluginSocket, type PluginDirectories } from './plugin-directories.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-pin-'));
const servers: Server[] = [];
after(() => {
  servers.forEach((s) => s.close());
  rmSync(scratch, { recursive: true, force: true });
});

function dirs(name: string): PluginDirectories {
  const socketDir = path.join(scratch, name);
  mkdirSync(socketDir);
  return {
    socketDir,
    shmDir: path.join(scratch, `${name}-shm`),
    gatewaySocket: path.join(socketDir, 'gateway.sock'),
    pluginSocket: path.join(socketDir, 'plugin.sock'),
  };
}

function listen(socketPath: string, greeting = ''): Promise<void> {
  const server = createServer((c) => c.end(greeting));
  servers.push(server);
  return new Promise((resolve) => server.listen(socketPath, resolve));
}

const uid = process.getuid?.() ?? 0;

function greeting(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    connect(socketPath)
      .on('data', (chunk) => (text += String(chunk)))
      .on('end', () => resolve(text))
      .on('error', reject);
  });
}

describe('pinPluginSocket', () => {
  it("holds the plugin's socket itself and dials it, whatever plugin.sock becomes later", async () => {
    const d = dirs('good');
    await listen(d.pluginSocket, 'the pinned one');
    const pinned = await pinPluginSocket(d, uid);
    if (uid !== 0) {
      assert.equal(pinned, d.pluginSocket);
      return;
    }
    assert.match(pinned, /^\/proc\/self\/fd\/\d+$/);
    assert.equal(statSync(pinned).ino, lstatSync(d.pluginSocket).ino);
    // The plugin swaps its socket for another: the host still reaches the one it pinned.
    renameSync(d.pluginSocket, path.join(d.socketDir, 'moved.sock'));
    await listen(d.pluginSocket, 'a swapped one');
    assert.equal(await greeting(pinned), 'the pinned one');
    await d.pinnedSocket?.close();
  });

  it('refuses a symlink, even to a real socket, and a missing socket', async () => {
    const elsewhere = path.join(scratch, 'elsewhere.sock');
    await listen(elsewhere);
    const d = dirs('symlinked');
    symlinkSync(elsewhere, d.pluginSocket);
    await assert.rejects(
      pinPluginSocket(d, uid),
      /plugin\.sock is not a socket made by the plugin; refusing to connect/,
    );
    await assert.rejects(pinPluginSocket(dirs('missing'), uid), /not a socket made by the plugin/);
  });

  it('refuses a socket another user made', { skip: uid !== 0 && 'only root can tell owners apart here' }, async () => {
    const d = dirs('foreign');
    await listen(d.pluginSocket);
    await assert.rejects(pinPluginSocket(d, 10001), /not a socket made by the plugin/);
  });
});
