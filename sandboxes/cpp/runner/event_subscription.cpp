#include "event_subscription.h"

#include <algorithm>
#include <iostream>
#include <thread>

namespace classtop::runner {

namespace {

/** "*" listens to every event. */
const char* const kAnyEvent = "*";

using FunctionPointer = void (*)(const std::string&);

}  // namespace

bool SameCallable(const PluginAPI::EventCallback& a, const PluginAPI::EventCallback& b) {
    if (!a || !b || a.target_type() != b.target_type()) return false;
    const auto* pa = a.target<FunctionPointer>();
    const auto* pb = b.target<FunctionPointer>();
    return pa == nullptr || *pa == *pb;
}

void EventSubscription::On(const std::string& event_name, EventCallback callback) {
    std::lock_guard<std::mutex> lock(mutex_);
    listeners_[event_name].push_back(std::move(callback));
    if (!context_) Start();
}

void EventSubscription::Off(const std::string& event_name, const EventCallback& callback) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = listeners_.find(event_name);
    if (found == listeners_.end()) return;
    auto& list = found->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&callback](const EventCallback& each) { return SameCallable(each, callback); }),
               list.end());
    if (list.empty()) listeners_.erase(found);
    if (listeners_.empty() && context_) {
        context_->TryCancel();
        context_.reset();
    }
}

void EventSubscription::Start() {
    auto context = std::make_shared<grpc::ClientContext>();
    gateway_.Authorize(*context);
    context_ = context;
    // Detached: the subscription lives as long as the process (the runner never unloads a plugin).
    std::thread([this, context] { Run(context); }).detach();
}

void EventSubscription::Run(std::shared_ptr<grpc::ClientContext> context) {
    auto stream = gateway_.Stub().SubscribeEvents(context.get());
    pb::PluginEvent event;
    pb::PluginEventAck ack;
    ack.set_received(true);
    while (stream->Read(&event)) {
        Dispatch(event);
        if (!stream->Write(ack)) break;
    }
    grpc::Status status = stream->Finish();
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
        std::cerr << "[classtop-sdk] event stream failed: " << status.error_code() << ": " << status.error_message()
                  << std::endl;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    // The next On opens a new stream.
    if (context_ == context) context_.reset();
}

void EventSubscription::Dispatch(const pb::PluginEvent& event) {
    std::vector<EventCallback> targets;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const char* name : {event.event_name().c_str(), kAnyEvent}) {
            auto found = listeners_.find(name);
            if (found != listeners_.end()) targets.insert(targets.end(), found->second.begin(), found->second.end());
        }
    }
    // Outside the lock: a callback may call On or Off.
    for (const auto& callback : targets) callback(event.event_data());
}

}  // namespace classtop::runner
