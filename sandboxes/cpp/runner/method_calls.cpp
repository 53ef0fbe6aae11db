// For --contract: which host API each PluginAPI method sends, found by calling each one with a
// recording Caller, so test/e2e/cpp-plugins.test.ts checks the calls and not only the table.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gateway_plugin_api.h"

namespace classtop::runner {

namespace {

/** Thrown by the recorder: the call was seen, and no result is needed to go on. */
struct Recorded {};

using Invoke = std::function<void(PluginAPI&)>;

std::vector<std::pair<std::string, Invoke>> EveryMethod() {
    return {
        {"GetCourses", [](PluginAPI& api) { api.GetCourses(); }},
        {"GetCourse", [](PluginAPI& api) { api.GetCourse(1); }},
        {"AddCourse", [](PluginAPI& api) { api.AddCourse("x", "", "", ""); }},
        {"UpdateCourse", [](PluginAPI& api) { api.UpdateCourse(1, "{}"); }},
        {"DeleteCourse", [](PluginAPI& api) { api.DeleteCourse(1); }},
        {"AddCoursesBatch", [](PluginAPI& api) { api.AddCoursesBatch({}); }},
        {"GetScheduleForWeek", [](PluginAPI& api) { api.GetScheduleForWeek(1); }},
        {"GetCurrentWeek", [](PluginAPI& api) { api.GetCurrentWeek(); }},
        {"CheckConflicts", [](PluginAPI& api) { api.CheckConflicts(1, "08:00", "09:00", {}, 0); }},
        {"AddScheduleEntry", [](PluginAPI& api) { api.AddScheduleEntry(1, 1, "08:00", "09:00", {}); }},
        {"DeleteScheduleEntry", [](PluginAPI& api) { api.DeleteScheduleEntry(1); }},
        {"EmitEvent", [](PluginAPI& api) { api.EmitEvent("x", "{}"); }},
        {"GetSetting", [](PluginAPI& api) { api.GetSetting("x"); }},
        {"SetSetting", [](PluginAPI& api) { api.SetSetting("x", "y"); }},
        {"GetAllSettings", [](PluginAPI& api) { api.GetAllSettings(); }},
        {"GetPluginData", [](PluginAPI& api) { api.GetPluginData("x"); }},
        {"SetPluginData", [](PluginAPI& api) { api.SetPluginData("x", "y"); }},
        {"DeletePluginData", [](PluginAPI& api) { api.DeletePluginData("x"); }},
        {"LogInfo", [](PluginAPI& api) { api.LogInfo("x"); }},
        {"LogWarning", [](PluginAPI& api) { api.LogWarning("x"); }},
        {"LogError", [](PluginAPI& api) { api.LogError("x"); }},
        {"LogDebug", [](PluginAPI& api) { api.LogDebug("x"); }},
        {"NotifySharedMemoryReady", [](PluginAPI& api) { api.NotifySharedMemoryReady("x", 1); }},
    };
}

}  // namespace

std::map<std::string, std::string> MethodCalls() {
    std::map<std::string, std::string> calls;
    for (const auto& [method, invoke] : EveryMethod()) {
        std::string sent;
        GatewayPluginApi api(
            [&sent](const std::string& api_name, const std::string&) -> std::string {
                sent = api_name;
                throw Recorded{};
            },
            nullptr, {});
        try {
            invoke(api);
        } catch (const Recorded&) {
        }
        calls[method] = sent;
    }
    return calls;
}

}  // namespace classtop::runner
