#include "http/twilio_signature.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace smsd;

namespace {

// TWILIO.md's vectors: token 12345 and these parameters.
const std::string token = "12345";
const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
const form_params params{{"CallSid", "CA1234567890ABCDE"},
                         {"Caller", "+14158675309"},
                         {"Digits", "1234"},
                         {"From", "+14158675309"},
                         {"To", "+18005551212"}};

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

TEST_CASE("the signature of Twilio's reference request matches its vector", "[signature]") {
  CHECK(twilio_signature(token, url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  CHECK(twilio_signature_valid({token}, url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

TEST_CASE("a signature over the URL with :443 validates against the URL without it",
          "[signature]") {
  CHECK(twilio_signature(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params)
        == "kvajT1Ptam85bY51eRf/AJRuM3w=");
  CHECK(twilio_signature_valid({token}, url, params, "kvajT1Ptam85bY51eRf/AJRuM3w="));
}

TEST_CASE("a non-default port is part of the signed URL", "[signature]") {
  const std::string with_port = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
  CHECK(twilio_signature(token, with_port, params) == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
  CHECK(twilio_signature_valid({token}, with_port, params, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
  // Only default ports are added or removed: without :1234 the URL is another URL.
  CHECK_FALSE(twilio_signature_valid({token}, "http://mycompany.com/myapp.php?foo=1&bar=2",
                                     params, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
}

TEST_CASE("credentials in the URL are signed as given", "[signature]") {
  const std::string with_credentials = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(twilio_signature(token, with_credentials, params) == "CukzLTc1tT5dXEDIHm/tKBanW10=");
  CHECK(twilio_signature_valid({token}, with_credentials, params, "CukzLTc1tT5dXEDIHm/tKBanW10="));
}

TEST_CASE("a signature over the URL without :443 validates against the URL with it",
          "[signature]") {
  CHECK(twilio_signature_valid({token}, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params,
                               "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

TEST_CASE("the default port of http is 80", "[signature]") {
  const auto sig = twilio_signature(token, "http://mycompany.com:80/hook", params);
  CHECK(twilio_signature_valid({token}, "http://mycompany.com/hook", params, sig));
  CHECK_FALSE(twilio_signature_valid({token}, "http://mycompany.com:443/hook", params, sig));
  const auto plain = twilio_signature(token, "http://mycompany.com/hook", params);
  CHECK(twilio_signature_valid({token}, "http://mycompany.com:80/hook", params, plain));
}

TEST_CASE("URL variants add or remove only the scheme's default port", "[signature]") {
  auto v = twilio_url_variants("https://a.example/x?y=1");
  CHECK(v.size() == 2);
  CHECK(contains(v, "https://a.example:443/x?y=1"));
  v = twilio_url_variants("https://a.example:443/x");
  CHECK(contains(v, "https://a.example/x"));
  v = twilio_url_variants("https://a.example:8443/x");
  CHECK(v == std::vector<std::string>{"https://a.example:8443/x"});
  v = twilio_url_variants("http://[::1]/cb");
  CHECK(contains(v, "http://[::1]:80/cb"));
  v = twilio_url_variants("http://[::1]:80/cb");
  CHECK(contains(v, "http://[::1]/cb"));
  v = twilio_url_variants("https://u:p@host.example?q=1");
  CHECK(contains(v, "https://u:p@host.example:443?q=1"));
  v = twilio_url_variants("https://host.example");
  CHECK(contains(v, "https://host.example:443"));
  CHECK(twilio_url_variants("not a url").size() == 1);
}

TEST_CASE("the secondary token is accepted, and a wrong token is not", "[signature]") {
  const auto by_secondary = twilio_signature("secondary-token", url, params);
  CHECK(twilio_signature_valid({"primary-token", "secondary-token"}, url, params, by_secondary));
  CHECK_FALSE(twilio_signature_valid({"primary-token"}, url, params, by_secondary));
  CHECK_FALSE(twilio_signature_valid({"primary-token", ""}, url, params, by_secondary));
  CHECK_FALSE(twilio_signature_valid({}, url, params, by_secondary));
  // an empty token never validates anything, not even a signature made with it
  CHECK_FALSE(twilio_signature_valid({""}, url, params, twilio_signature("", url, params)));
}

TEST_CASE("parameters are sorted byte-wise by name, repeated names by value", "[signature]") {
  const form_params shuffled{{"b", "2"}, {"a", "y"}, {"B", "1"}, {"a", "x"}, {"Caller", "1"},
                             {"CallSid", "2"}};
  // 'B' (0x42) < 'C' < 'a' < 'b'; "CallSid" < "Caller" as 'S' (0x53) < 'e' (0x65).
  CHECK(twilio_signed_data("u", shuffled) == "uB1CallSid2Caller1axayb2");
  const form_params reordered{{"a", "x"}, {"CallSid", "2"}, {"b", "2"}, {"Caller", "1"},
                              {"B", "1"}, {"a", "y"}};
  CHECK(twilio_signature("t", "u", shuffled) == twilio_signature("t", "u", reordered));
  // Bytes above 0x7f sort after ASCII (unsigned comparison).
  CHECK(twilio_signed_data("", {{"\xc3\xa9", "1"}, {"z", "2"}}) == "z2\xc3\xa9" "1");
}

TEST_CASE("any one-byte change breaks the signature", "[signature]") {
  const auto sig = twilio_signature(token, url, params);
  CHECK_FALSE(twilio_signature_valid({token}, url + "x", params, sig));
  auto renamed = params;
  renamed[1].first = "caller";
  CHECK_FALSE(twilio_signature_valid({token}, url, renamed, sig));
  auto revalued = params;
  revalued[2].second = "1235";
  CHECK_FALSE(twilio_signature_valid({token}, url, revalued, sig));
  CHECK_FALSE(twilio_signature_valid({"12346"}, url, params, sig));
  auto tampered = sig;
  tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
  CHECK_FALSE(twilio_signature_valid({token}, url, params, tampered));
  CHECK_FALSE(twilio_signature_valid({token}, url, params, ""));
  CHECK_FALSE(twilio_signature_valid({token}, url, params, sig + "="));
}
