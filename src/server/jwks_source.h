#pragma once

// Where `quarry serve --jwks FILE|URL` reads the external issuer's key set from, as the
// auth::JwksFetcher that auth::ExternalIssuer calls (at start-up, and again for an unknown kid):
//
//   http(s)://host[:port]/path[?query]  fetched with one GET (Boost.Beast, through
//                                     client::HttpConnection); a status other than 200 is an
//                                     error. https verifies the provider's certificate against
//                                     `ca_file` or the system's store
//   anything else                     a file path, read whole on every fetch (replace the file
//                                     to rotate keys)
//
// Fetches block the calling thread: at most 5 s to connect and 10 s for the answer. A set
// larger than 1 MiB is refused. The fetcher is thread-safe (each fetch has its own connection).

#include <string>

#include "auth/external_issuer.h"
#include "common/status.h"

namespace quarry::server {

// The fetcher for `file_or_url`; `ca_file` (PEM, empty: the system's store) is trusted for an
// https URL. kInvalidArgument, naming it, for a malformed http(s) URL. Does not fetch.
Result<auth::JwksFetcher> JwksFetcherFor(const std::string& file_or_url,
                                         const std::string& ca_file = "");

}  // namespace quarry::server
