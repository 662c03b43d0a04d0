// Boost.URL's implementation, compiled once here: Debian ships its headers but no library.
#include <boost/url/src.hpp>
