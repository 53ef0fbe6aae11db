import { SubjectAlternativeNameExtension, type Extension } from './x509.ts';

/**
 * What a developer certificate grants, as URIs in its Subject Alternative Name (a standard
 * extension, which the openssl CLI writes too: `subjectAltName = URI:urn:classtop:plugin-id:…`):
 *   urn:classtop:plugin-id:com.example.*          a plugin id, or a prefix ending in `.*`
 *   urn:classtop:permission:read:courses          a permission it may grant
 *   urn:classtop:privileged-permission:privileged:analytics
 */
export const GRANT_URN = {
  pluginIds: 'urn:classtop:plugin-id:',
  permissions: 'urn:classtop:permission:',
  privilegedPermissions: 'urn:classtop:privileged-permission:',
} as const;

export interface CertificateGrants {
  pluginIds: string[];
  permissions: string[];
  privilegedPermissions: string[];
}

export function grantExtensions(grants: CertificateGrants): Extension[] {
  const uris = (Object.keys(GRANT_URN) as Array<keyof typeof GRANT_URN>).flatMap((key) =>
    grants[key].map((item) => ({ type: 'url' as const, value: `${GRANT_URN[key]}${item}` })),
  );
  return [new SubjectAlternativeNameExtension(uris, false)];
}

export function readGrants(extensions: readonly Extension[]): CertificateGrants {
  const san = extensions.find(
    (e): e is SubjectAlternativeNameExtension => e instanceof SubjectAlternativeNameExtension,
  );
  const uris = san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
  const pick = (prefix: string) => uris.filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length));
  return {
    pluginIds: pick(GRANT_URN.pluginIds),
    permissions: pick(GRANT_URN.permissions),
    privilegedPermissions: pick(GRANT_URN.privilegedPermissions),
  };
}

/** Whether `pattern` (an id, or a prefix ending in `.*`) covers `pluginId`. */
export function idMatches(pattern: string, pluginId: string): boolean {
  if (pattern.endsWith('.*')) return pluginId.startsWith(pattern.slice(0, -1));
  return pattern === pluginId;
}
