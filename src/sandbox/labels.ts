/** Labels on every container this project creates; the reaper finds its leftovers by them. */
export const LABELS = {
  managed: 'io.classtop.managed',
  orchestrator: 'io.classtop.orchestrator',
  tenant: 'io.classtop.tenant',
  pluginId: 'io.classtop.plugin-id',
  pluginVersion: 'io.classtop.plugin-version',
  instance: 'io.classtop.instance',
} as const;
