// Accept and Content-Type handling for the signing endpoint.
#pragma once

#include <string_view>

namespace cachet::server {

/// Whether the client's Accept header prefers `text/plain` over JSON. A missing header, `*/*` or a tie means
/// JSON: clients such as Lodestar parse the body as JSON without asking for it.
bool prefers_text_plain(std::string_view accept);

/// Whether a Content-Type header names JSON (`application/json`, any parameters, any case).
bool is_json_content_type(std::string_view content_type);

}  // namespace cachet::server
