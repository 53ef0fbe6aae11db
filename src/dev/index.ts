export { DEV_TENANT } from './dev-config.ts';
export { DevSession, type DevOptions } from './dev-session.ts';
