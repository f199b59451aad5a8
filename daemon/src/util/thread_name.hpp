#pragma once
// Names the calling thread as `top -H`, `ps -L`, perf and gdb show it (Linux keeps 15 bytes).
#include <pthread.h>

#include <string>

namespace chatd {

inline void name_this_thread(const std::string& name) {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace chatd
