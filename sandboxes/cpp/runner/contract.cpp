#include "contract.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "gateway_plugin_api.h"
#include "plugin_library.h"

#ifndef CLASSTOP_PROTOCOL_VERSION
#error "CLASSTOP_PROTOCOL_VERSION is set by CMakeLists.txt from proto/classtop_plugin.proto"
#endif

namespace classtop::runner {

const char* const kProtocolVersion = CLASSTOP_PROTOCOL_VERSION;
const char* const kErrorCodeMetadataKey = "classtop-error-code";
const char* const kTokenKey = "session_token";

const std::vector<ErrorCode> kErrorCodes = {
    {"OK", 0},
    {"UNKNOWN_ERROR", 2},
    {"AUTHENTICATION_FAILED", 16},
    {"PERMISSION_DENIED", 7},
    {"INVALID_REQUEST", 3},
    {"TIMEOUT", 4},
    {"NOT_FOUND", 5},
    {"ALREADY_EXISTS", 6},
    {"RATE_LIMIT_EXCEEDED", 8},
    {"INTERNAL_ERROR", 13},
};

const std::vector<ContainerEnvVar> kContainerEnv = {
    {"CLASSTOP_PLUGIN_ID", true},          {"CLASSTOP_PLUGIN_NAME", false},
    {"CLASSTOP_PLUGIN_VERSION", true},     {"CLASSTOP_PLUGIN_PERMISSIONS", false},
    {"CLASSTOP_PLUGIN_ENTRY", true},       {"CLASSTOP_PLUGIN_CERTIFICATE", false},
    {"CLASSTOP_GATEWAY_SOCKET", true},     {"CLASSTOP_PLUGIN_SOCKET", true},
    {"CLASSTOP_TENANT", false},            {"CLASSTOP_DEPENDENCIES_DIR", false},
};

const std::vector<HostApiMethod> kHostApiMethods = {
    {"get_courses", "GetCourses", "read:courses"},
    {"get_course", "GetCourse", "read:courses"},
    {"add_course", "AddCourse", "modify:courses"},
    {"update_course", "UpdateCourse", "modify:courses"},
    {"delete_course", "DeleteCourse", "modify:courses"},
    {"add_courses_batch", "AddCoursesBatch", "modify:courses"},
    {"get_schedule_for_week", "GetScheduleForWeek", "read:schedules"},
    {"get_current_week", "GetCurrentWeek", "read:schedules"},
    {"check_conflicts", "CheckConflicts", "read:schedules"},
    {"add_schedule_entry", "AddScheduleEntry", "modify:schedules"},
    {"delete_schedule_entry", "DeleteScheduleEntry", "modify:schedules"},
    {"emit_event", "EmitEvent", "emit:events"},
    {"get_setting", "GetSetting", "access:settings"},
    {"set_setting", "SetSetting", "access:settings"},
    {"get_all_settings", "GetAllSettings", "access:settings"},
    {"get_plugin_data", "GetPluginData", nullptr},
    {"set_plugin_data", "SetPluginData", nullptr},
    {"delete_plugin_data", "DeletePluginData", nullptr},
    {"log_info", "LogInfo", nullptr},
    {"log_warning", "LogWarning", nullptr},
    {"log_error", "LogError", nullptr},
    {"log_debug", "LogDebug", nullptr},
    {"notify_shared_memory_ready", "NotifySharedMemoryReady", nullptr},
};

std::string RefusalText(const std::string& code, const std::string& message) {
    const std::string prefix = code + ": ";
    return message.compare(0, prefix.size(), prefix) == 0 ? message : prefix + message;
}

std::string WithoutCode(const std::string& message, const std::string& code) {
    const std::string prefix = code + ": ";
    return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

std::string CodeOfStatus(int grpc_status, const std::string& trailer) {
    for (const auto& code : kErrorCodes) {
        if (trailer == code.name) return trailer;
    }
    if (grpc_status == 14) return "INTERNAL_ERROR";  // UNAVAILABLE: the gateway is not there (yet)
    for (const auto& code : kErrorCodes) {
        if (code.grpc_status == grpc_status && std::string(code.name) != "OK") return code.name;
    }
    return "UNKNOWN_ERROR";
}

void PrintContract() {
    nlohmann::json out;
    out["protocolVersion"] = kProtocolVersion;
    out["errorCodeMetadataKey"] = kErrorCodeMetadataKey;
    for (const auto& code : kErrorCodes) out["errorCodes"][code.name] = code.grpc_status;
    for (const auto& var : kContainerEnv) out["containerEnvironment"][var.name] = var.required;
    for (const auto& api : kHostApiMethods) {
        out["hostApis"][api.api_name] = {{"method", api.method},
                                         {"permission", api.permission ? nlohmann::json(api.permission) : nullptr}};
    }
    out["methodCalls"] = MethodCalls();
    out["cppPluginAbi"] = {
        {"major", CLASSTOP_PLUGIN_ABI_MAJOR}, {"minor", CLASSTOP_PLUGIN_ABI_MINOR}, {"symbol", kAbiSymbol}};
    std::cout << out.dump() << std::endl;
}

}  // namespace classtop::runner
