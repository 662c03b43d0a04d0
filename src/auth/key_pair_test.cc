#include "auth/key_pair.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/base64.h"
#include "common/random.h"

namespace quarry::auth {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1'700'000'000;

KeyPair NewKey() {
  Result<KeyPair> key = KeyPair::Generate();
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

Claims SampleClaims() {
  Claims claims;
  claims.access = Access::kReadWrite;
  claims.namespaces = {"shop"};
  claims.issued_at = kNow - 10;
  claims.expires_at = kNow + 3600;
  claims.subject = "tests";
  return claims;
}

// A token assembled by hand: base64url(header).base64url(payload).signature_part.
std::string Compact(std::string_view header, std::string_view payload,
                    std::string_view signature_part) {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + "." +
         std::string(signature_part);
}

// An Ed25519 signature over arbitrary text, made with OpenSSL directly from the key's PEM.
std::string SignRaw(const KeyPair& key, std::string_view text) {
  std::string pem = key.PrivateKeyPem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char signature[64];
  size_t size = sizeof(signature);
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pkey), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, signature, &size,
                           reinterpret_cast<const unsigned char*>(text.data()), text.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return std::string(reinterpret_cast<const char*>(signature), size);
}

std::string PartOf(const std::string& jwt, int index) {
  size_t begin = 0;
  for (int i = 0; i < index; ++i) {
    begin = jwt.find('.', begin) + 1;
  }
  size_t end = jwt.find('.', begin);
  return jwt.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

void ExpectRefused(const KeyPair& key, const std::string& jwt, std::string_view message_part,
                   int64_t now = kNow) {
  Result<Claims> claims = key.Verify(jwt, now);
  ASSERT_FALSE(claims.ok()) << "accepted: " << jwt;
  EXPECT_EQ(claims.status().code(), ErrorCode::kUnauthorized) << claims.status().ToString();
  EXPECT_NE(claims.status().message().find(message_part), std::string::npos)
      << "message \"" << claims.status().message() << "\" lacks \"" << message_part << "\"";
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("quarry_auth_test_" + RandomToken())) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(KeyPairTest, SignVerifyRoundTrip) {
  KeyPair key = NewKey();
  Claims claims = SampleClaims();
  std::string jwt = key.Sign(claims);
  EXPECT_EQ(PartOf(jwt, 0), Base64UrlEncode(R"({"alg":"EdDSA","typ":"JWT"})"));

  Result<Claims> verified = key.Verify(jwt, kNow);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, claims);
}

TEST(KeyPairTest, WildcardAdminRoundTrip) {
  KeyPair key = NewKey();
  Claims claims;
  claims.access = Access::kAdmin;
  claims.all_namespaces = true;
  Result<Claims> verified = key.Verify(key.Sign(claims), kNow);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->IsAdmin());
  EXPECT_TRUE(verified->Covers("any"));
}

TEST(KeyPairTest, AcceptsPaddedBase64) {
  KeyPair key = NewKey();
  std::string header = R"({"alg": "EdDSA"})";         // 16 bytes: padded base64 ends in "=="
  std::string payload = R"({"a":"ro","ns":["s"]} )";  // 22 bytes: padded base64 ends in "=="
  std::string signing_input = Base64Encode(header) + "." + Base64Encode(payload);
  ASSERT_NE(signing_input.find("=="), std::string::npos);
  std::string jwt = signing_input + "." + Base64Encode(SignRaw(key, signing_input));
  for (char& c : jwt) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  Result<Claims> verified = key.Verify(jwt, kNow);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->namespaces, std::vector<std::string>{"s"});

  // The signed text is the parts as received: stripping the padding invalidates the signature.
  std::string stripped =
      Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + "." + PartOf(jwt, 2);
  ExpectRefused(key, stripped, "signature does not match");
}

TEST(KeyPairTest, TamperedPayloadRefused) {
  KeyPair key = NewKey();
  std::string jwt = key.Sign(SampleClaims());
  Claims escalated = SampleClaims();
  escalated.access = Access::kAdmin;
  escalated.all_namespaces = true;
  std::string forged =
      PartOf(jwt, 0) + "." + Base64UrlEncode(SerializeClaims(escalated)) + "." + PartOf(jwt, 2);
  ExpectRefused(key, forged, "signature");
}

TEST(KeyPairTest, TamperedSignatureRefused) {
  KeyPair key = NewKey();
  std::string jwt = key.Sign(SampleClaims());
  std::string signature = *Base64UrlDecode(PartOf(jwt, 2));
  signature[10] ^= 0x01;
  std::string forged = PartOf(jwt, 0) + "." + PartOf(jwt, 1) + "." + Base64UrlEncode(signature);
  ExpectRefused(key, forged, "signature does not match");

  std::string truncated =
      PartOf(jwt, 0) + "." + PartOf(jwt, 1) + "." + Base64UrlEncode(signature.substr(0, 63));
  ExpectRefused(key, truncated, "64 bytes");
}

TEST(KeyPairTest, WrongKeyRefused) {
  KeyPair signer = NewKey();
  KeyPair other = NewKey();
  ExpectRefused(other, signer.Sign(SampleClaims()), "signature does not match");
}

TEST(KeyPairTest, AlgNoneRefused) {
  KeyPair key = NewKey();
  std::string payload = SerializeClaims(SampleClaims());
  ExpectRefused(key, Compact(R"({"alg":"none"})", payload, ""), "");
  // With a placeholder signature, so the empty part is not what stops it.
  ExpectRefused(key, Compact(R"({"alg":"none"})", payload, "AA"), "\"none\"");
  ExpectRefused(key, Compact(R"({"alg":"none","typ":"JWT"})", payload, "x"), "\"none\"");
}

TEST(KeyPairTest, Hs256WithPublicKeyAsSecretRefused) {
  KeyPair key = NewKey();
  std::string header = R"({"alg":"HS256","typ":"JWT"})";
  std::string signing_input =
      Base64UrlEncode(header) + "." + Base64UrlEncode(SerializeClaims(SampleClaims()));
  for (const std::string& secret :
       {*Base64UrlDecode(key.PublicKeyBase64Url()), key.PublicKeyPem()}) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    ASSERT_NE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                   signing_input.size(), mac, &mac_size),
              nullptr);
    std::string forged =
        signing_input + "." +
        Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
    ExpectRefused(key, forged, "\"HS256\"");
  }
}

TEST(KeyPairTest, OtherAlgorithmsAndHeadersRefused) {
  KeyPair key = NewKey();
  std::string payload = SerializeClaims(SampleClaims());
  std::string signature = PartOf(key.SignPayload(payload), 2);
  ExpectRefused(key, Compact(R"({"alg":"ES256"})", payload, signature), "\"ES256\"");
  ExpectRefused(key, Compact(R"({"alg":"eddsa"})", payload, signature), "\"eddsa\"");
  ExpectRefused(key, Compact(R"({"typ":"JWT"})", payload, signature), "no \"alg\"");
  ExpectRefused(key, Compact(R"({"alg":5})", payload, signature), "no \"alg\"");
  ExpectRefused(key, Compact(R"(["EdDSA"])", payload, signature), "header");
  ExpectRefused(key, Compact("EdDSA", payload, signature), "header");
  ExpectRefused(key, Compact(R"({"alg":"EdDSA","crit":["b64"]})", payload, signature), "crit");
}

TEST(KeyPairTest, ExpiryChecked) {
  KeyPair key = NewKey();
  Claims claims = SampleClaims();

  claims.expires_at = kNow - 1;
  ExpectRefused(key, key.Sign(claims), "token expired");
  claims.expires_at = kNow;
  ExpectRefused(key, key.Sign(claims), "token expired");

  claims.expires_at = kNow + 1;
  EXPECT_TRUE(key.Verify(key.Sign(claims), kNow).ok());

  claims.expires_at.reset();
  Result<Claims> forever = key.Verify(key.Sign(claims), kNow + 100LL * 365 * 24 * 3600);
  ASSERT_TRUE(forever.ok()) << forever.status().ToString();
  EXPECT_FALSE(forever->expires_at.has_value());
}

TEST(KeyPairTest, NotBeforeChecked) {
  KeyPair key = NewKey();
  Claims claims = SampleClaims();
  claims.not_before = kNow + 60;
  ExpectRefused(key, key.Sign(claims), "not yet valid");
  EXPECT_TRUE(key.Verify(key.Sign(claims), kNow + 60).ok());
}

TEST(KeyPairTest, MalformedTokensRefused) {
  KeyPair key = NewKey();
  std::string jwt = key.Sign(SampleClaims());
  std::string header = PartOf(jwt, 0);
  std::string payload = PartOf(jwt, 1);
  std::string signature = PartOf(jwt, 2);

  ExpectRefused(key, "", "empty");
  ExpectRefused(key, "abc", "three");
  ExpectRefused(key, header + "." + payload, "three");
  ExpectRefused(key, jwt + ".", "three");
  ExpectRefused(key, jwt + "." + signature, "three");
  ExpectRefused(key, header + ".." + signature, "empty");
  ExpectRefused(key, "." + payload + "." + signature, "empty");
  ExpectRefused(key, header + "." + payload + ".", "empty");
  ExpectRefused(key, "!!!." + payload + "." + signature, "base64url");
  ExpectRefused(key, header + "." + payload + ".a+b/", "base64url");
  ExpectRefused(key, header + "." + payload + "." + signature.substr(0, 1), "base64url");
  ExpectRefused(key, std::string(KeyPair::kMaxTokenBytes + 1, 'a'), "longer");
  // A signed payload whose base64 is broken fails the signature first; whatever check fires,
  // the token is refused.
  ExpectRefused(key, header + ".@@@@." + signature, "");
}

TEST(KeyPairTest, SignedButInvalidPayloadRefused) {
  KeyPair key = NewKey();
  ExpectRefused(key, key.SignPayload("not json"), "not valid JSON");
  ExpectRefused(key, key.SignPayload("[1]"), "not a JSON object");
  ExpectRefused(key, key.SignPayload(R"({"ns":"*"})"), "\"a\"");
  ExpectRefused(key, key.SignPayload(R"({"a":"god","ns":"*"})"), "god");
  ExpectRefused(key, key.SignPayload(R"({"a":"rw","ns":"shop"})"), "\"ns\"");
  ExpectRefused(key, key.SignPayload(R"({"a":"rw","exp":"soon"})"), "\"exp\"");
}

TEST(KeyPairTest, PublicKeyForms) {
  KeyPair key = NewKey();
  std::optional<std::string> raw = Base64UrlDecode(key.PublicKeyBase64Url());
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 32u);
  EXPECT_EQ(key.PublicKeyBase64Url().find('='), std::string::npos);
  EXPECT_EQ(key.PublicKeyPem().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  EXPECT_EQ(key.PrivateKeyPem().rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_NE(NewKey().PublicKeyBase64Url(), key.PublicKeyBase64Url());
}

TEST(KeyPairTest, PrivateKeyPemRoundTrip) {
  KeyPair key = NewKey();
  Result<KeyPair> copy = KeyPair::FromPrivateKeyPem(key.PrivateKeyPem());
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->PublicKeyBase64Url(), key.PublicKeyBase64Url());
  EXPECT_TRUE(key.Verify(copy->Sign(SampleClaims()), kNow).ok());
}

TEST(KeyPairTest, FromPrivateKeyPemRefusesOtherKeys) {
  EXPECT_EQ(KeyPair::FromPrivateKeyPem("garbage").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(KeyPair::FromPrivateKeyPem(NewKey().PublicKeyPem()).ok());

  EVP_PKEY* ec_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec_key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ec_key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(ec_key);

  Result<KeyPair> refused = KeyPair::FromPrivateKeyPem(pem);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("ED25519"), std::string::npos)
      << refused.status().message();
}

TEST(KeyPairTest, LoadOrCreateWritesPrivateKey0600AndReloads) {
  TempDir dir;
  fs::path key_dir = dir.path() / "nested" / "keys";
  Result<KeyPair> created = KeyPair::LoadOrCreate(key_dir);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  fs::path private_path = key_dir / KeyPair::kPrivateKeyFile;
  fs::path public_path = key_dir / KeyPair::kPublicKeyFile;
  ASSERT_TRUE(fs::exists(private_path));
  ASSERT_TRUE(fs::exists(public_path));
  EXPECT_EQ(fs::status(private_path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(public_path).permissions() & fs::perms::owner_read, fs::perms::owner_read);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(key_dir), fs::directory_iterator()), 2);

  std::ifstream public_file(public_path);
  std::string public_pem((std::istreambuf_iterator<char>(public_file)),
                         std::istreambuf_iterator<char>());
  EXPECT_EQ(public_pem, created->PublicKeyPem());

  Result<KeyPair> reloaded = KeyPair::LoadOrCreate(key_dir);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->PublicKeyBase64Url(), created->PublicKeyBase64Url());
  EXPECT_TRUE(reloaded->Verify(created->Sign(SampleClaims()), kNow).ok());
}

TEST(KeyPairTest, LoadOrCreateRestoresMissingPublicKey) {
  TempDir dir;
  Result<KeyPair> created = KeyPair::LoadOrCreate(dir.path());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  fs::path public_path = dir.path() / KeyPair::kPublicKeyFile;
  fs::remove(public_path);

  Result<KeyPair> reloaded = KeyPair::LoadOrCreate(dir.path());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->PublicKeyBase64Url(), created->PublicKeyBase64Url());
  EXPECT_TRUE(fs::exists(public_path));
}

TEST(KeyPairTest, LoadOrCreateRefusesCorruptKeyFile) {
  TempDir dir;
  fs::create_directories(dir.path());
  fs::path private_path = dir.path() / KeyPair::kPrivateKeyFile;
  std::ofstream(private_path) << "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";

  Result<KeyPair> loaded = KeyPair::LoadOrCreate(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kInternal);
  EXPECT_NE(loaded.status().message().find(private_path.string()), std::string::npos)
      << loaded.status().message();
  // The corrupt file is left for the operator, not replaced by a new key.
  std::ifstream file(private_path);
  std::string contents((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(contents.find("nope"), std::string::npos);
}

TEST(KeyPairTest, MovedKeyStillVerifies) {
  KeyPair key = NewKey();
  std::string jwt = key.Sign(SampleClaims());
  KeyPair moved = std::move(key);
  EXPECT_TRUE(moved.Verify(jwt, kNow).ok());
}

}  // namespace
}  // namespace quarry::auth
