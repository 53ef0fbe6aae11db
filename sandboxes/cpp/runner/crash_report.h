// A fatal signal in the plugin (a segfault, an abort from an uncaught exception) still ends the
// process, as it must: the orchestrator's supervisor restarts it. Before it does, one line on
// stderr names the signal, so the plugin's status says what happened ("last output"), not only
// the container's exit code (128 + the signal's number).
#pragma once

namespace classtop::runner {

/** Installs the handlers; call once, first thing. */
void ReportFatalSignals();

}  // namespace classtop::runner
