import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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
    pluginSocketLink: path.join(scratch, `${name}.plugin.sock`),
  };
}

function listen(socketPath: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve) => server.listen(socketPath, resolve));
}

const uid = process.getuid?.() ?? 0;

describe('pinPluginSocket', () => {
  it("links the plugin's socket into a host-only place and dials that", async () => {
    const d = dirs('good');
    await listen(d.pluginSocket);
    const pinned = await pinPluginSocket(d, uid);
    if (uid === 0) {
      assert.equal(pinned, d.pluginSocketLink);
      assert.equal(lstatSync(pinned).ino, lstatSync(d.pluginSocket).ino);
    } else {
      assert.equal(pinned, d.pluginSocket);
    }
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
