// PluginAPI over the gateway: each method one synchronous host API call through a Caller
// (Gateway::Call in the runner; a recorder for --contract), events through an EventSubscription.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "classtop/plugin_api.h"
#include "event_subscription.h"
#include "json_codec.h"

namespace classtop::runner {

/** Sends one host API call: (api_name, payload JSON) -> the result's JSON text; throws on refusal. */
using Caller = std::function<std::string(const std::string& api_name, const std::string& payload_json)>;

class GatewayPluginApi final : public PluginAPI {
public:
    GatewayPluginApi(Caller caller, EventSubscription* events, std::vector<std::string> permissions);

    std::vector<Course> GetCourses() override;
    std::vector<Course> GetCoursesInWeek(int week) override;
    Course GetCourse(int course_id) override;
    int AddCourse(const std::string& name, const std::string& teacher, const std::string& location,
                  const std::string& color) override;
    Course UpdateCourse(int course_id, const std::string& changes_json) override;
    bool DeleteCourse(int course_id) override;
    std::vector<int> AddCoursesBatch(const std::vector<Course>& courses) override;

    std::map<int, std::vector<ScheduleEntry>> GetScheduleForWeek(int week) override;
    int AddScheduleEntry(int course_id, int day_of_week, const std::string& start_time, const std::string& end_time,
                         const std::vector<int>& weeks) override;
    bool DeleteScheduleEntry(int entry_id) override;
    int GetCurrentWeek() override;
    std::vector<ScheduleEntry> CheckConflicts(int day_of_week, const std::string& start_time,
                                              const std::string& end_time, const std::vector<int>& weeks,
                                              int exclude_entry_id) override;

    void EmitEvent(const std::string& event_name, const std::string& data) override;
    void On(const std::string& event_name, EventCallback callback) override;
    void Off(const std::string& event_name, EventCallback callback) override;

    std::string GetSetting(const std::string& key) override;
    void SetSetting(const std::string& key, const std::string& value) override;
    std::map<std::string, std::string> GetAllSettings() override;

    std::string GetPluginData(const std::string& key) override;
    void SetPluginData(const std::string& key, const std::string& value) override;
    bool DeletePluginData(const std::string& key) override;

    void LogInfo(const std::string& message) override;
    void LogWarning(const std::string& message) override;
    void LogError(const std::string& message) override;
    void LogDebug(const std::string& message) override;

    bool NotifySharedMemoryReady(const std::string& name, std::size_t size) override;

    std::string CallHostApi(const std::string& api_name, const std::string& payload_json) override;
    bool HasPermission(const std::string& permission) const override;

private:
    Json Call(const std::string& api_name, const Json& payload);
    void Log(const std::string& api_name, const std::string& message);

    Caller caller_;
    EventSubscription* events_;
    std::set<std::string> permissions_;
};

/** Each PluginAPI method's name -> the host API it called (for --contract). */
std::map<std::string, std::string> MethodCalls();

}  // namespace classtop::runner
