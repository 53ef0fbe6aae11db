// The failures a C++ plugin sees (the specification's "C++ 错误处理"):
//
//   try {
//       auto courses = api_->GetCourses();
//   } catch (const classtop::PermissionDeniedError& e) {   // the plugin lacks read:courses
//       api_->LogError("Permission denied: " + std::string(e.what()));
//   } catch (const classtop::PluginApiError& e) {          // any other refusal or failure
//       api_->LogError("API error: " + std::string(e.what()));
//   }
//
// Header-only: the classes are defined inline in both the runner and the plugin library; a
// catch across the two matches by type name, as g++'s libstdc++ does for types of the same name.
#pragma once

#include <stdexcept>
#include <string>

#include "classtop/export.h"

namespace classtop {

/**
 * A host API call failed. code() is the protocol's PluginErrorCode name ("NOT_FOUND",
 * "INVALID_REQUEST", "RATE_LIMIT_EXCEEDED", ...); what() is "<api name>: <reason>".
 *
 * A plugin may throw one from an exported function (Plugin::Call) or a lifecycle hook: the host
 * then receives that code and reason.
 */
class CLASSTOP_VISIBLE PluginApiError : public std::runtime_error {
public:
    PluginApiError(std::string code, std::string api_name, std::string reason)
        : std::runtime_error(api_name.empty() ? reason : api_name + ": " + reason),
          code_(std::move(code)),
          api_name_(std::move(api_name)),
          reason_(std::move(reason)) {}

    /** The PluginErrorCode name, e.g. "PERMISSION_DENIED". */
    const std::string& code() const noexcept { return code_; }
    /** The host API (or exported function) that failed. */
    const std::string& api_name() const noexcept { return api_name_; }
    /** Why, without the code and the api name. */
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string code_;
    std::string api_name_;
    std::string reason_;
};

/** The plugin called a host API it holds no permission for (code() is "PERMISSION_DENIED"). */
class CLASSTOP_VISIBLE PermissionDeniedError : public PluginApiError {
public:
    PermissionDeniedError(std::string api_name, std::string reason)
        : PluginApiError("PERMISSION_DENIED", std::move(api_name), std::move(reason)) {}
};

/**
 * The plugin could not be loaded: its library does not open, lacks the factory, or was built for
 * another SDK ABI. Thrown by the runner; the container then exits before registering, and the
 * message reaches the orchestrator's status of the plugin.
 */
class CLASSTOP_VISIBLE PluginLoadError : public std::runtime_error {
public:
    explicit PluginLoadError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace classtop
