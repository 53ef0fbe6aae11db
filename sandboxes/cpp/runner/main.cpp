// The program a cpp sandbox container runs (classtop-cpp-runner): loads the plugin library,
// serves the plugin's side of the protocol on its socket, registers with the gateway, and runs
// until the host says SHUTDOWN (or SIGTERM). Its settings come from the container environment.
//
//   classtop-cpp-runner                 run the plugin named by CLASSTOP_PLUGIN_ENTRY
//   classtop-cpp-runner --healthcheck   the image's HEALTHCHECK (health_probe.h)
//   classtop-cpp-runner --contract      print the runner's copy of the contract, as JSON
//
// A crash of the plugin (a segfault, an abort, an uncaught exception) ends this process: the
// orchestrator's supervisor restarts it. It exits with _Exit, never unloading the plugin or
// running destructors under threads the plugin may have left running.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "classtop/exceptions.h"
#include "contract.h"
#include "crash_report.h"
#include "environment.h"
#include "gateway.h"
#include "gateway_plugin_api.h"
#include "health_probe.h"
#include "plugin_library.h"
#include "plugin_service.h"

namespace classtop::runner {

namespace {

/** How long calls in progress may take to finish once the runner stops serving. */
constexpr auto kServerGrace = std::chrono::seconds(2);

/** Set once, by SHUTDOWN or a signal; main waits on it. */
class ShutdownLatch {
public:
    void Set() {
        std::lock_guard<std::mutex> lock(mutex_);
        set_ = true;
        changed_.notify_all();
    }
    void Wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return set_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool set_ = false;
};

/** SIGTERM and SIGINT, blocked in every thread and taken by one that waits for them. */
void WatchSignals(ShutdownLatch& latch) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set, &latch] {
        int signal = 0;
        sigwait(&set, &signal);
        latch.Set();
    }).detach();
}

[[noreturn]] void Run() {
    static ShutdownLatch latch;
    ReportFatalSignals();
    WatchSignals(latch);
    const RunnerSettings settings = ReadSettings();
    // Lives as long as the process: the plugin holds the API, and the runner never unloads it.
    auto* gateway = new Gateway(settings.gateway_socket);
    auto* events = new EventSubscription(*gateway);
    auto api = std::make_shared<GatewayPluginApi>(
        [gateway](const std::string& name, const std::string& payload) { return gateway->Call(name, payload); },
        events, settings.identity.permissions);
    Plugin* plugin = LoadPlugin(settings.entry, api);

    ::unlink(settings.plugin_socket.c_str());
    PluginService service(*plugin, [] { latch.Set(); });
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + settings.plugin_socket, grpc::InsecureServerCredentials());
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server) throw PluginLoadError("cannot listen on " + settings.plugin_socket);

    gateway->KeepTokenFresh(settings.identity, gateway->Register(settings.identity));
    latch.Wait();
    server->Shutdown(std::chrono::system_clock::now() + kServerGrace);
    std::fflush(nullptr);
    std::_Exit(0);
}

}  // namespace

}  // namespace classtop::runner

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "--healthcheck") return classtop::runner::ProbeHealth();
    if (mode == "--contract") {
        classtop::runner::PrintContract();
        return 0;
    }
    if (!mode.empty()) {
        std::cerr << "usage: classtop-cpp-runner [--healthcheck | --contract]" << std::endl;
        return 2;
    }
    try {
        classtop::runner::Run();
    } catch (const classtop::PluginLoadError& err) {
        std::cerr << "[classtop-sdk] PluginLoadError: " << err.what() << std::endl;
        return 1;
    }
}
