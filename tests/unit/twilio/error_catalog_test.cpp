#include "twilio/error_catalog.hpp"

#include <catch2/catch.hpp>

using namespace smsd;

TEST_CASE("the seed's five error codes carry its exact wording", "[error_catalog]") {
  struct row {
    const char* code;
    const char* title;
    const char* description;
    bool retryable;
  } rows[] = {
    {"30003", "Unreachable handset", "Phone may be off or out of service area. Try again later.", true},
    {"30006", "Landline detected", "This number appears to be a landline and cannot receive SMS.", false},
    {"30007", "Carrier filtered", "Message was blocked by the carrier. This may be a spam filter.", false},
    {"21211", "Invalid phone number", "The phone number format is invalid.", false},
    {"21608", "Unverified number", "The sending number is not verified with Twilio.", false},
  };
  for (auto& r : rows) {
    auto e = error_info_for(r.code);
    CHECK(e.title == r.title);
    CHECK(e.description == r.description);
    CHECK(e.retryable == r.retryable);
  }
}

TEST_CASE("the other common codes have entries of their own", "[error_catalog]") {
  for (auto code : {"30001", "30002", "30004", "30005", "30008", "30009", "30010", "30022",
                    "30023", "30024", "30032", "30034", "21408", "21610", "21612", "21614", "20429"}) {
    INFO(code);
    CHECK(error_code_known(code));
    CHECK(error_info_for(code).title != std::string("Error ") + code);
  }
  CHECK_FALSE(error_info_for("21610").retryable);
  CHECK(error_info_for("20429").retryable);
}

TEST_CASE("an unknown code gets the seed's fallback", "[error_catalog]") {
  auto e = error_info_for("12345");
  CHECK(e.title == "Error 12345");
  CHECK(e.description == "An unexpected error occurred.");
  CHECK(e.retryable);
  CHECK_FALSE(error_code_known("12345"));
}
