// parse_signing_request with its intermediate values (the signed object's root and the domain), for tests and
// diagnostics.
#pragma once

#include <boost/json/value.hpp>
#include <cachet/eth/signing_request.hpp>
#include <expected>

#include "domain.hpp"

namespace cachet::eth {

struct SigningParts {
  SigningRequest request;   // request.signing_root = compute_signing_root(object_root, domain)
  ssz::Root object_root{};  // hash_tree_root of what is signed
  Domain domain{};
};

/// Everything parse_signing_request does (including the signing_root/signingRoot check), keeping the intermediate
/// roots. May throw std::bad_alloc; parse_signing_request catches it.
std::expected<SigningParts, RequestError> compute_signing_parts(const boost::json::value& body,
                                                                const NetworkConfig& network);

/// The type named `name` in the API ("AGGREGATION_SLOT", ...), if any.
std::optional<SignType> sign_type_from_string(std::string_view name);

}  // namespace cachet::eth
