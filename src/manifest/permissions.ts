/** Permissions a plugin may declare (specification, "权限系统"). */
export const PERMISSIONS = [
  'read:courses',
  'modify:courses',
  'read:schedules',
  'modify:schedules',
  'access:settings',
  'emit:events',
] as const;

/** Permissions that need both the developer certificate's grant and the operator's. */
export const PRIVILEGED_PERMISSIONS = [
  'privileged:management_sync',
  'privileged:fetch_remote_clients',
  'privileged:analytics',
] as const;

export type Permission = (typeof PERMISSIONS)[number];
export type PrivilegedPermission = (typeof PRIVILEGED_PERMISSIONS)[number];
export type AnyPermission = Permission | PrivilegedPermission;

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export function isPrivilegedPermission(value: string): value is PrivilegedPermission {
  return (PRIVILEGED_PERMISSIONS as readonly string[]).includes(value);
}
