#pragma once

#include <cstddef>

namespace quarry {

// The CPUs this process may run on (its affinity mask, as `taskset` sets it), at least 1.
// Unlike std::thread::hardware_concurrency(), which counts the machine's online CPUs.
size_t UsableCpus();

}  // namespace quarry
