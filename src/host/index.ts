export { HostServer } from './host-server.ts';
export { currentWeek, ScheduleStore } from './schedule.ts';
