// The plugin's SubscribeEvents stream: opened with the first listener, cancelled with the last.
// Events are read and their callbacks run on a thread of the runner, one event at a time; each is
// acknowledged after its callbacks ran. An exception escaping a callback is not caught: it ends
// the process like any uncaught exception, and the orchestrator restarts the plugin.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "classtop/plugin_api.h"
#include "gateway.h"

namespace classtop::runner {

class EventSubscription {
public:
    using EventCallback = PluginAPI::EventCallback;

    explicit EventSubscription(Gateway& gateway) : gateway_(gateway) {}

    void On(const std::string& event_name, EventCallback callback);
    /** Removes the callbacks of `event_name` made from the same callable (plugin_api.h, Off). */
    void Off(const std::string& event_name, const EventCallback& callback);

private:
    void Start();  // with mutex_ held
    void Run(std::shared_ptr<grpc::ClientContext> context);
    void Dispatch(const pb::PluginEvent& event);

    Gateway& gateway_;
    std::mutex mutex_;
    std::map<std::string, std::vector<EventCallback>> listeners_;
    /** The open stream's context; null when none is open. */
    std::shared_ptr<grpc::ClientContext> context_;
};

/** Whether two callbacks were made from the same callable: see PluginAPI::Off. */
bool SameCallable(const PluginAPI::EventCallback& a, const PluginAPI::EventCallback& b);

}  // namespace classtop::runner
