#include "crash_report.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace classtop::runner {

namespace {

/** Room to report a stack overflow from: the faulting stack has none left. */
constexpr std::size_t kAltStackBytes = 64 * 1024;

struct FatalSignal {
    int number;
    const char* line;  // written as is: only async-signal-safe calls in the handler
};

const FatalSignal kFatalSignals[] = {
    {SIGSEGV, "[classtop-sdk] the plugin crashed: SIGSEGV (segmentation fault)\n"},
    {SIGBUS, "[classtop-sdk] the plugin crashed: SIGBUS (bus error)\n"},
    {SIGFPE, "[classtop-sdk] the plugin crashed: SIGFPE (arithmetic exception)\n"},
    {SIGILL, "[classtop-sdk] the plugin crashed: SIGILL (illegal instruction)\n"},
    {SIGABRT, "[classtop-sdk] the plugin crashed: SIGABRT (aborted, e.g. an uncaught exception)\n"},
};

void Report(int number) {
    for (const auto& fatal : kFatalSignals) {
        if (fatal.number == number) {
            ssize_t ignored = ::write(STDERR_FILENO, fatal.line, std::strlen(fatal.line));
            (void)ignored;
        }
    }
    // SA_RESETHAND restored the default action: the signal, raised again, ends the process once
    // this handler returns (a fault re-runs its instruction and faults again).
    ::raise(number);
}

}  // namespace

void ReportFatalSignals() {
    static char alt_stack[kAltStackBytes];
    stack_t stack{};
    stack.ss_sp = alt_stack;
    stack.ss_size = sizeof alt_stack;
    ::sigaltstack(&stack, nullptr);
    struct sigaction action {};
    action.sa_handler = Report;
    action.sa_flags = SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (const auto& fatal : kFatalSignals) ::sigaction(fatal.number, &action, nullptr);
}

}  // namespace classtop::runner
