#pragma once
// DTRAIN_EXIT_REASON_FILE: why the process is ending, for a batch script. srun returns the
// highest exit code of its tasks, and the ranks it kills once one has exited (137, 143) hide
// the others' codes; a line appended here says what really happened (docs/design.md
// "Exit codes"): "comm-timeout rank R" (exit 4) or "stopped-with-checkpoint step S" (exit 75).
#include <string>

namespace dtrain {

// Appends `line` and a newline to the file DTRAIN_EXIT_REASON_FILE names, if it is set. Uses
// only open/write/close, so a thread about to _Exit may call it; failures are ignored (the
// exit code still tells the story where no launcher hides it).
void append_exit_reason(const std::string& line);

}  // namespace dtrain
