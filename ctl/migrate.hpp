#pragma once
#include <string>
#include <vector>

#include "errors.hpp"

namespace chatd::ctl {

// `chatctl migrate --to postgres URL --from FILE`: runs `chatd migrate` (found beside chatctl,
// else on $PATH), since the copy needs the daemon's database code and no daemon is running.
exit_status run_migrate(const std::vector<std::string>& args);

}  // namespace chatd::ctl
