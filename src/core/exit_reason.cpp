#include "core/exit_reason.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace dtrain {

void append_exit_reason(const std::string& line) {
  const char* path = std::getenv("DTRAIN_EXIT_REASON_FILE");
  if (path == nullptr || *path == '\0') return;
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace dtrain
