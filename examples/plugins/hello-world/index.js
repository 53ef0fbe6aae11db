import { Plugin } from '@classtop/plugin-sdk';

const COURSE_NAME = 'Hello World 101';

export default class HelloWorld extends Plugin {
  constructor(api) {
    super(api);
    // The host can call this: POST /v1/plugins/{tenant}/com.example.hello-world/functions/process_data
    this.exportFunction('process_data', (data) => ({
      status: 'ok',
      greeting: `hello, ${data?.name ?? 'world'}`,
      enableCount: this.state.enableCount ?? 0,
    }));
  }

  async onEnable() {
    const courses = await this.api.getCourses();
    if (this.api.hasPermission('modify:courses') && !courses.some((c) => c.name === COURSE_NAME)) {
      const id = await this.api.addCourse(COURSE_NAME, 'Ada Lovelace', 'Room 101', '#6750A4');
      await this.api.logInfo(`added course ${COURSE_NAME} with id ${id}`);
    }
    this.state.enableCount = (this.state.enableCount ?? 0) + 1;
    await this.api.emitEvent('hello_world_started', { courses: courses.length });
    await this.api.logInfo(`hello world enabled; the schedule had ${courses.length} course(s)`);
  }

  async onDisable() {
    await this.api.emitEvent('hello_world_stopped', { enableCount: this.state.enableCount });
    await this.api.logInfo('hello world disabled');
  }
}
