#pragma once

// The pipeline bodies clients send on every query ([execute of one statement with null,
// integer and text arguments, close], with or without a baton), read straight into a
// PipelineRequest without building a JSON DOM first. Any other body, valid or not, gives
// nullopt: ParseJsonBody + ParsePipelineRequest then read it (and name what is wrong), so the
// two give the same PipelineRequest for every body this accepts (a differential test checks).

#include <optional>
#include <string_view>

#include "protocol/request.h"

namespace quarry::protocol {

std::optional<PipelineRequest> ParseCommonPipelineRequest(std::string_view body);

}  // namespace quarry::protocol
