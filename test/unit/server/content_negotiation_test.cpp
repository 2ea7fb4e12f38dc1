#include "server/content_negotiation.hpp"

#include <gtest/gtest.h>

using cachet::server::is_json_content_type;
using cachet::server::prefers_text_plain;

TEST(Accept, JsonUnlessTextPlainIsPreferred) {
  EXPECT_FALSE(prefers_text_plain(""));  // missing header: JSON (Lodestar parses the body as JSON)
  EXPECT_FALSE(prefers_text_plain("*/*"));
  EXPECT_FALSE(prefers_text_plain("application/json"));
  EXPECT_FALSE(prefers_text_plain("text/plain, application/json"));  // a tie goes to JSON
  EXPECT_FALSE(prefers_text_plain("text/plain;q=0.5, application/json"));
  EXPECT_FALSE(prefers_text_plain("text/plain;q=0"));
  EXPECT_TRUE(prefers_text_plain("text/plain"));
  EXPECT_TRUE(prefers_text_plain("TEXT/PLAIN; charset=utf-8"));
  EXPECT_TRUE(prefers_text_plain("text/plain, */*;q=0.1"));
  EXPECT_TRUE(prefers_text_plain("application/json;q=0.4, text/plain;q=0.9"));
}

TEST(ContentType, OnlyJson) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=UTF-8"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/jsonx"));
  EXPECT_FALSE(is_json_content_type(""));
}
