// Shared by the fuzz targets: the per-process scratch file the readers are pointed at.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tg_fuzz {

// The readers take paths only, so each input goes through one file per process, rewritten for
// every input (a fresh file per input would spend most of the time in the file system).
// Removed at exit so that a long fuzz run leaves nothing behind in /tmp.
inline const std::string& scratch_path(const char* target) {
  static const std::string path = [target] {
    const char* dir = std::getenv("TMPDIR");
    std::string p = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/tg_fuzz_" +
                    target + "_" + std::to_string(getpid());
    static std::string remove_at_exit;
    remove_at_exit = p;
    std::atexit([] { std::remove(remove_at_exit.c_str()); });
    return p;
  }();
  return path;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) std::abort();  // the harness itself failed: not a finding in the reader
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  std::fclose(file);
}

}  // namespace tg_fuzz
