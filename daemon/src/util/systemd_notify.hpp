#pragma once
#include <string_view>

namespace chatd {

// Sends a state string ("READY=1", "STOPPING=1", …) to $NOTIFY_SOCKET when systemd set one.
// A no-op outside systemd.
void systemd_notify(std::string_view state);

}  // namespace chatd
