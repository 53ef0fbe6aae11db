import { PermissionDeniedError, Plugin } from '@classtop/plugin-sdk';

export default class CoursePeek extends Plugin {
  constructor(api) {
    super(api);
    this.exportFunction('count_courses', async () => ({ count: (await this.api.getCourses()).length }));
    this.exportFunction('try_add_course', async (data) => {
      try {
        return { added: await this.api.addCourse(data?.name ?? 'Sneaky Course') };
      } catch (err) {
        if (err instanceof PermissionDeniedError) return { refused: err.code, message: err.message };
        throw err;
      }
    });
    this.onCourseUpdate = (event) => {
      this.state.courseEvents = (this.state.courseEvents ?? 0) + 1;
      console.log(`course-peek saw course_update ${JSON.stringify(event.data)}`);
    };
  }

  async onEnable() {
    const courses = await this.api.getCourses();
    await this.api.logInfo(`course-peek sees ${courses.length} course(s)`);
    this.api.on('course_update', this.onCourseUpdate);
    try {
      await this.api.addCourse('Course Peek was here');
    } catch (err) {
      if (!(err instanceof PermissionDeniedError)) throw err;
      // Expected: plugin.yaml does not declare modify:courses.
      await this.api.logWarning(`as expected, adding a course was refused: ${err.code}: ${err.message}`);
    }
  }

  async onDisable() {
    this.api.off('course_update', this.onCourseUpdate);
  }
}
