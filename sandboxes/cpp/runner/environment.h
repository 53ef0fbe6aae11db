// The runner's settings, from the container environment the orchestrator sets
// (src/protocol/container-env.ts; the runner's copy in contract.cpp).
#pragma once

#include <string>

#include "gateway.h"

namespace classtop::runner {

struct RunnerSettings {
    Identity identity;
    std::string entry;           // the plugin library, e.g. /plugin/build/plugin.so
    std::string gateway_socket;  // Register, CallApi, SubscribeEvents
    std::string plugin_socket;   // where Lifecycle and exported functions are served
};

/** Reads the environment; a missing required variable is a PluginLoadError naming it. */
RunnerSettings ReadSettings();

}  // namespace classtop::runner
