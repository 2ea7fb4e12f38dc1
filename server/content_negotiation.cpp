#include "server/content_negotiation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace cachet::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 §12.5.1: a media range with an optional q parameter (0..1, default 1).
double quality(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    auto param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      std::string value(param.substr(2));
      char* end = nullptr;
      double q = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || q < 0 || q > 1) return 1.0;  // malformed: treat as unqualified
      return q;
    }
  }
  return 1.0;
}

}  // namespace

bool prefers_text_plain(std::string_view accept) {
  double text = -1, json = -1;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    auto item = trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = item.find(';');
    auto range = trim(item.substr(0, semi));
    double q = quality(semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1));
    if (iequals(range, "text/plain")) {
      text = std::max(text, q);
    } else if (iequals(range, "application/json") || iequals(range, "*/*") || iequals(range, "application/*")) {
      json = std::max(json, q);
    } else if (iequals(range, "text/*")) {
      text = std::max(text, q);
    }
  }
  return text > 0 && text > json;
}

bool is_json_content_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  return iequals(trim(content_type.substr(0, semi)), "application/json");
}

}  // namespace cachet::server
