// Reading the vectors under test/data (CACHET_TEST_DATA) for the crypto tests.
#pragma once

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cachet::test {

inline std::string read_text(const std::string& relative) {
  std::ifstream in(std::string(CACHET_TEST_DATA) + "/" + relative, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test data " + relative);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline boost::json::value read_json(const std::string& relative) { return boost::json::parse(read_text(relative)); }

inline std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

}  // namespace cachet::test
