#include "gateway_plugin_api.h"

#include <iostream>
#include <stdexcept>

namespace classtop::runner {

namespace {

/** The host's result as T; a result of another shape is the host's failure, named. */
template <typename T>
T As(const std::string& api_name, const Json& value) {
    try {
        return value.get<T>();
    } catch (const Json::exception& err) {
        throw PluginApiError("INTERNAL_ERROR", api_name, std::string("the host's result has another shape: ") + err.what());
    }
}

}  // namespace

GatewayPluginApi::GatewayPluginApi(Caller caller, EventSubscription* events, std::vector<std::string> permissions)
    : caller_(std::move(caller)), events_(events), permissions_(permissions.begin(), permissions.end()) {}

Json GatewayPluginApi::Call(const std::string& api_name, const Json& payload) {
    return ParseResult(api_name, caller_(api_name, payload.is_null() ? "{}" : payload.dump()));
}

// ========== 课程服务 ==========

std::vector<Course> GatewayPluginApi::GetCourses() { return CoursesFromJson(Call("get_courses", Json::object())); }

std::vector<Course> GatewayPluginApi::GetCoursesInWeek(int week) {
    return CoursesFromJson(Call("get_courses", {{"week", week}}));
}

Course GatewayPluginApi::GetCourse(int course_id) {
    return CourseFromJson(Call("get_course", {{"course_id", course_id}}));
}

int GatewayPluginApi::AddCourse(const std::string& name, const std::string& teacher, const std::string& location,
                                const std::string& color) {
    Json payload = {{"name", name},
                    {"teacher", OptionalText(teacher)},
                    {"location", OptionalText(location)},
                    {"color", OptionalText(color)}};
    return As<int>("add_course", Call("add_course", payload));
}

Course GatewayPluginApi::UpdateCourse(int course_id, const std::string& changes_json) {
    Json payload = ParseResult("update_course", changes_json.empty() ? "{}" : changes_json);
    if (!payload.is_object()) {
        throw PluginApiError("INVALID_REQUEST", "update_course", "changes_json must be a JSON object");
    }
    payload["course_id"] = course_id;
    return CourseFromJson(Call("update_course", payload));
}

bool GatewayPluginApi::DeleteCourse(int course_id) {
    return As<bool>("delete_course", Call("delete_course", {{"course_id", course_id}}));
}

std::vector<int> GatewayPluginApi::AddCoursesBatch(const std::vector<Course>& courses) {
    Json list = Json::array();
    for (const auto& course : courses) list.push_back(NewCourseJson(course));
    return As<std::vector<int>>("add_courses_batch", Call("add_courses_batch", {{"courses", list}}));
}

// ========== 日程服务 ==========

std::map<int, std::vector<ScheduleEntry>> GatewayPluginApi::GetScheduleForWeek(int week) {
    std::map<int, std::vector<ScheduleEntry>> days;
    Json found = Call("get_schedule_for_week", {{"week", week}});
    if (!found.is_object()) return days;
    for (const auto& [day, entries] : found.items()) {
        if (day.empty() || day.size() > 2 || day.find_first_not_of("0123456789") != std::string::npos) {
            throw PluginApiError("INTERNAL_ERROR", "get_schedule_for_week", "the host's result has a day '" + day + "'");
        }
        days[std::stoi(day)] = EntriesFromJson(entries);
    }
    return days;
}

int GatewayPluginApi::AddScheduleEntry(int course_id, int day_of_week, const std::string& start_time,
                                       const std::string& end_time, const std::vector<int>& weeks) {
    Json payload = {{"course_id", course_id},
                    {"day_of_week", day_of_week},
                    {"start_time", start_time},
                    {"end_time", end_time},
                    {"weeks", weeks}};
    return As<int>("add_schedule_entry", Call("add_schedule_entry", payload));
}

bool GatewayPluginApi::DeleteScheduleEntry(int entry_id) {
    return As<bool>("delete_schedule_entry", Call("delete_schedule_entry", {{"entry_id", entry_id}}));
}

int GatewayPluginApi::GetCurrentWeek() { return As<int>("get_current_week", Call("get_current_week", Json::object())); }

std::vector<ScheduleEntry> GatewayPluginApi::CheckConflicts(int day_of_week, const std::string& start_time,
                                                            const std::string& end_time,
                                                            const std::vector<int>& weeks, int exclude_entry_id) {
    Json payload = {
        {"day_of_week", day_of_week}, {"start_time", start_time}, {"end_time", end_time}, {"weeks", weeks}};
    if (exclude_entry_id != 0) payload["exclude_entry_id"] = exclude_entry_id;
    return EntriesFromJson(Call("check_conflicts", payload));
}

// ========== 事件系统 ==========

void GatewayPluginApi::EmitEvent(const std::string& event_name, const std::string& data) {
    Json parsed = ParseResult("emit_event", data);
    Call("emit_event", {{"event_name", event_name}, {"data", parsed.is_null() ? Json::object() : parsed}});
}

void GatewayPluginApi::On(const std::string& event_name, EventCallback callback) {
    if (events_ == nullptr) throw std::logic_error("On: no event stream in this mode");
    events_->On(event_name, std::move(callback));
}

void GatewayPluginApi::Off(const std::string& event_name, EventCallback callback) {
    if (events_ != nullptr) events_->Off(event_name, callback);
}

// ========== 配置服务 ==========

std::string GatewayPluginApi::GetSetting(const std::string& key) {
    return TextOf(Call("get_setting", {{"key", key}}));
}

void GatewayPluginApi::SetSetting(const std::string& key, const std::string& value) {
    Call("set_setting", {{"key", key}, {"value", value}});
}

std::map<std::string, std::string> GatewayPluginApi::GetAllSettings() {
    std::map<std::string, std::string> settings;
    Json found = Call("get_all_settings", Json::object());
    if (found.is_object()) {
        for (const auto& [key, value] : found.items()) settings[key] = TextOf(value);
    }
    return settings;
}

// ========== 插件私有存储 ==========

std::string GatewayPluginApi::GetPluginData(const std::string& key) {
    return TextOf(Call("get_plugin_data", {{"key", key}}));
}

void GatewayPluginApi::SetPluginData(const std::string& key, const std::string& value) {
    Call("set_plugin_data", {{"key", key}, {"value", value}});
}

bool GatewayPluginApi::DeletePluginData(const std::string& key) {
    return As<bool>("delete_plugin_data", Call("delete_plugin_data", {{"key", key}}));
}

// ========== 日志服务 ==========

void GatewayPluginApi::LogInfo(const std::string& message) { Log("log_info", message); }
void GatewayPluginApi::LogWarning(const std::string& message) { Log("log_warning", message); }
void GatewayPluginApi::LogError(const std::string& message) { Log("log_error", message); }
void GatewayPluginApi::LogDebug(const std::string& message) { Log("log_debug", message); }

void GatewayPluginApi::Log(const std::string& api_name, const std::string& message) {
    try {
        Call(api_name, {{"message", message}});
    } catch (const PluginApiError& err) {
        // A lost log line must not fail the plugin; the container's output reaches the host's log.
        std::cerr << "[classtop-sdk] " << api_name << " failed: " << err.what() << "; line: " << message << std::endl;
    }
}

// ========== 共享内存 ==========

bool GatewayPluginApi::NotifySharedMemoryReady(const std::string& name, std::size_t size) {
    return As<bool>("notify_shared_memory_ready", Call("notify_shared_memory_ready", {{"name", name}, {"size", size}}));
}

// ========== 其他 ==========

std::string GatewayPluginApi::CallHostApi(const std::string& api_name, const std::string& payload_json) {
    return caller_(api_name, payload_json.empty() ? "{}" : payload_json);
}

bool GatewayPluginApi::HasPermission(const std::string& permission) const {
    return permissions_.count(permission) > 0;
}

}  // namespace classtop::runner
