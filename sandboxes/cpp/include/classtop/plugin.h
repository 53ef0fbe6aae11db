// The base class of a C++ plugin and the macro that exports it: the specification's
// include/classtop/plugin.h, with two corrections (README, "C++ plugins"):
//   * CLASSTOP_PLUGIN_EXPORT works on Linux (the specification's uses Windows' __declspec): it
//     exports, with C linkage and default visibility, CreatePlugin, a matching DestroyPlugin and
//     the ABI version the library was built for (classtop_plugin_abi_version);
//   * CreatePluginFunc is the type the macro's factory has, a raw classtop::Plugin* (the
//     specification's typedef said std::unique_ptr, which its own macro did not return).
//
// Exported functions (what the host calls by name, as the Python SDK's `exports`): override
// Call, or register each one with Export in the constructor:
//
//   MyPlugin(std::shared_ptr<classtop::PluginAPI> api) : classtop::Plugin(api) {
//       Export("process_data", [this](const std::string& args_json) { return Process(args_json); });
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "classtop/exceptions.h"
#include "classtop/export.h"
#include "classtop/plugin_api.h"

// The SDK ABI: the layout of Plugin and PluginAPI, and the factory's signature. MAJOR changes
// with anything that breaks a plugin built before it; MINOR grows with additions a newer runner
// can serve to an older plugin. The runner refuses a plugin of another major, or of a newer minor
// than its own, before running any of the plugin's code.
#define CLASSTOP_PLUGIN_ABI_MAJOR 1
#define CLASSTOP_PLUGIN_ABI_MINOR 0

extern "C" {
/** What classtop_plugin_abi_version holds: the SDK ABI the plugin was compiled against. */
struct classtop_plugin_abi {
    std::uint32_t major;
    std::uint32_t minor;
};
}

namespace classtop {

class CLASSTOP_VISIBLE Plugin {
public:
    /** Receives a JSON argument (the call's payload, "" when none); returns the JSON result. */
    using ExportedFunction = std::function<std::string(const std::string& args_json)>;

    Plugin(std::shared_ptr<PluginAPI> api) : api_(api) {}
    virtual ~Plugin() = default;

    // 生命周期钩子 (ENABLE, DISABLE; never run at the same time as each other)
    virtual void OnEnable() = 0;
    virtual void OnDisable() = 0;

    // 热重载支持: OnSave in the old version, OnRestore then OnEnable in the new one.
    virtual std::string OnSave() { return "{}"; }  // 返回 JSON
    virtual void OnRestore(const std::string& state) { (void)state; }

    // 获取插件 ID
    virtual std::string GetId() const = 0;

    /**
     * The host calls the exported function `name` with its JSON argument; returns the JSON result.
     * Runs on a thread of the runner, possibly beside an event callback: guard shared state. The
     * default runs what Export registered, and refuses any other name with NOT_FOUND. A
     * PluginApiError thrown here reaches the host with its code; any other std::exception as
     * INTERNAL_ERROR.
     */
    virtual std::string Call(const std::string& name, const std::string& args_json) {
        auto found = exports_.find(name);
        if (found == exports_.end()) {
            throw PluginApiError("NOT_FOUND", name, "the plugin exports no function '" + name + "'");
        }
        return found->second(args_json);
    }

protected:
    /** Makes `fn` callable by the host as `name`; call it from the constructor. */
    void Export(const std::string& name, ExportedFunction fn) { exports_[name] = std::move(fn); }

    std::shared_ptr<PluginAPI> api_;

private:
    std::map<std::string, ExportedFunction> exports_;
};

// 插件工厂函数类型: what CLASSTOP_PLUGIN_EXPORT defines, as the runner looks them up.
using CreatePluginFunc = Plugin* (*)(std::shared_ptr<PluginAPI>);
using DestroyPluginFunc = void (*)(Plugin*);

}  // namespace classtop

// 插件导出宏: once, at namespace scope, in one source file of the plugin.
#define CLASSTOP_PLUGIN_EXPORT(PluginClass)                                                     \
    extern "C" CLASSTOP_VISIBLE const classtop_plugin_abi classtop_plugin_abi_version = {       \
        CLASSTOP_PLUGIN_ABI_MAJOR, CLASSTOP_PLUGIN_ABI_MINOR};                                  \
    extern "C" CLASSTOP_VISIBLE classtop::Plugin* CreatePlugin(                                 \
        std::shared_ptr<classtop::PluginAPI> api) {                                             \
        return new PluginClass(api);                                                            \
    }                                                                                           \
    extern "C" CLASSTOP_VISIBLE void DestroyPlugin(classtop::Plugin* plugin) { delete plugin; }
