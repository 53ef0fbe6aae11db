import { loadConfig } from '../config/index.ts';
import { loadManifest } from '../manifest/index.ts';

/** `classtop-sandbox validate DIR [--config FILE]`: checks a plugin's plugin.yaml (for authors and CI). */
export function validateCommand(directory: string, configFile: string | undefined): void {
  const config = loadConfig(configFile);
  const manifest = loadManifest(directory, config.limits);
  const permissions = [...manifest.permissions, ...manifest.privilegedPermissions].join(', ') || 'none';
  process.stdout.write(
    `ok: ${manifest.id}@${manifest.version} (${manifest.runtime}, entry ${manifest.entry}); permissions: ${permissions}; ` +
      `sandbox: ${manifest.sandbox.memoryMb} MiB, ${manifest.sandbox.cpus} CPU, ${manifest.sandbox.pids} pids, shm ${manifest.sandbox.shmMb} MiB\n`,
  );
}
