export { AdminServer } from './admin-server.ts';
