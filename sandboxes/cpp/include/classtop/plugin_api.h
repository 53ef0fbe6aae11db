// The host API offered to a C++ plugin: the specification's "Plugin API (C++)", with its names and
// signatures, and the rest of the host API catalogue (src/protocol/generated/contract.json) in the
// same PascalCase. An abstract class: a plugin library needs only these headers; the runner of the
// classtop/sandbox-cpp image implements it over gRPC to the gateway.
//
// Every method is one synchronous call through the gateway (a refusal throws
// PermissionDeniedError or PluginApiError, see exceptions.h); any thread may call them.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "classtop/exceptions.h"
#include "classtop/export.h"
#include "classtop/types.h"

namespace classtop {

class CLASSTOP_VISIBLE PluginAPI {
public:
    virtual ~PluginAPI() = default;

    // ========== 课程服务 (read:courses, modify:courses) ==========
    virtual std::vector<Course> GetCourses() = 0;
    /** The courses scheduled in `week` (get_courses with a week). */
    virtual std::vector<Course> GetCoursesInWeek(int week) = 0;
    virtual Course GetCourse(int course_id) = 0;
    virtual int AddCourse(const std::string& name, const std::string& teacher,
                          const std::string& location, const std::string& color) = 0;
    /** `changes_json`: a JSON object of the fields to change, e.g. {"location":"Room 4"}. */
    virtual Course UpdateCourse(int course_id, const std::string& changes_json) = 0;
    virtual bool DeleteCourse(int course_id) = 0;
    /** Adds all the courses (their id is ignored) in one round trip, all or none; their new ids. */
    virtual std::vector<int> AddCoursesBatch(const std::vector<Course>& courses) = 0;

    // ========== 日程服务 (read:schedules, modify:schedules) ==========
    /** Day of the week (1-7) -> that day's entries. */
    virtual std::map<int, std::vector<ScheduleEntry>> GetScheduleForWeek(int week) = 0;
    virtual int AddScheduleEntry(int course_id, int day_of_week,
                                  const std::string& start_time,
                                  const std::string& end_time,
                                  const std::vector<int>& weeks) = 0;
    virtual bool DeleteScheduleEntry(int entry_id) = 0;
    virtual int GetCurrentWeek() = 0;
    /** The entries that overlap; `exclude_entry_id` 0 excludes none. */
    virtual std::vector<ScheduleEntry> CheckConflicts(int day_of_week, const std::string& start_time,
                                                      const std::string& end_time,
                                                      const std::vector<int>& weeks,
                                                      int exclude_entry_id) = 0;

    // ========== 事件系统 (emit:events to emit) ==========
    /** Receives the event's data, as JSON text. */
    using EventCallback = std::function<void(const std::string& event_data)>;

    /**
     * Emits `event_name` with `data`, JSON text ("" sends {}); subscribers receive it as
     * "<this plugin's id>/<event_name>".
     */
    virtual void EmitEvent(const std::string& event_name, const std::string& data) = 0;
    /**
     * Calls `callback` with each `event_name` event ("*": every event), on the runner's event
     * thread, one event at a time. An exception escaping a callback ends the plugin's process (as
     * any uncaught exception does): the orchestrator restarts it.
     */
    virtual void On(const std::string& event_name, EventCallback callback) = 0;
    /**
     * Removes the callbacks of `event_name` made from the same callable as `callback`.
     * std::function cannot compare callables, so "the same" means: the same function pointer, or
     * a callable of the same type, and every lambda expression is a type of its own. Passing the
     * EventCallback (or the lambda) given to On removes it; a new lambda written at the Off call
     * removes nothing. Keep the callback in a member to remove it later.
     */
    virtual void Off(const std::string& event_name, EventCallback callback) = 0;

    // ========== 配置服务 (access:settings) ==========
    /** The setting's value, or "" when it is not set. */
    virtual std::string GetSetting(const std::string& key) = 0;
    virtual void SetSetting(const std::string& key, const std::string& value) = 0;
    virtual std::map<std::string, std::string> GetAllSettings() = 0;

    // ========== 插件私有存储 ==========
    /**
     * The value stored under `key`: a string as it is, any other JSON value (stored by a plugin in
     * another language) as its JSON text; "" when there is none.
     */
    virtual std::string GetPluginData(const std::string& key) = 0;
    /** Stores `value` as a string. */
    virtual void SetPluginData(const std::string& key, const std::string& value) = 0;
    virtual bool DeletePluginData(const std::string& key) = 0;

    // ========== 日志服务 ==========
    virtual void LogInfo(const std::string& message) = 0;
    virtual void LogWarning(const std::string& message) = 0;
    virtual void LogError(const std::string& message) = 0;
    virtual void LogDebug(const std::string& message) = 0;

    // ========== 共享内存 ==========
    /**
     * Tells the host that the first `size` bytes of the region `name` (SharedMemory::Create) are
     * ready; returns once its consumers have taken them, so the region may be written again.
     */
    virtual bool NotifySharedMemoryReady(const std::string& name, std::size_t size) = 0;

    // ========== 其他 ==========
    /** Calls any host API by its wire name ("get_courses") with a JSON payload; the JSON result. */
    virtual std::string CallHostApi(const std::string& api_name, const std::string& payload_json) = 0;
    /** Whether the plugin holds `permission` (declared in plugin.yaml, granted at Register). */
    virtual bool HasPermission(const std::string& permission) const = 0;
};

}  // namespace classtop
