export { HostServer } from './host-server.ts';
export { currentWeek } from './schedule.ts';
