export { HostServer } from './host-server.ts';
export { CourseStore } from './courses.ts';
export { currentWeek, ScheduleStore } from './schedule.ts';
export { seedSampleSchedule } from './sample-schedule.ts';
export type { HostEvent } from './event-bus.ts';
