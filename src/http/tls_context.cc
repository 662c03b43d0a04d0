#include "http/tls_context.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace quarry::http {
namespace {

namespace ssl = boost::asio::ssl;

Result<std::string> ReadPemFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot read " + flag + " file '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot read " + flag + " file '" + path + "': " + std::strerror(errno));
  }
  return text.str();
}

// OpenSSL's reason for the last failure on this thread (and clears its error queue).
std::string OpenSslReason(const boost::system::error_code& ec) {
  ERR_clear_error();
  return ec.message();
}

std::string Describe(X509* cert) {
  std::string out = "subject ";
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    out += "'";
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    out.append(data, static_cast<size_t>(size));
    out += "', expires ";
    (void)BIO_reset(bio);
    ASN1_TIME_print(bio, X509_get0_notAfter(cert));
    size = BIO_get_mem_data(bio, &data);
    out.append(data, static_cast<size_t>(size));
    BIO_free(bio);
  }
  if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(serial)) {
      out += ", serial 0x";
      out += hex;
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  return out;
}

}  // namespace

Result<std::string> TlsContext::Load(const std::string& cert_file, const std::string& key_file) {
  QUARRY_ASSIGN_OR_RETURN(std::string cert_pem, ReadPemFile("--tls-cert", cert_file));
  QUARRY_ASSIGN_OR_RETURN(std::string key_pem, ReadPemFile("--tls-key", key_file));

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  // The key first, then the certificate: a certificate that is not the key's then leaves the
  // context without a key, which the check below names as a mismatch.
  boost::system::error_code ec;
  context->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) {
    return Status(
        ErrorCode::kInvalidArgument,
        "--tls-key file '" + key_file + "' holds no usable PEM private key: " + OpenSslReason(ec));
  }
  context->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument,
                  "--tls-cert file '" + cert_file +
                      "' holds no usable PEM certificate: " + OpenSslReason(ec));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Status(ErrorCode::kInvalidArgument, "--tls-key file '" + key_file +
                                                   "' is not the private key of the certificate "
                                                   "in --tls-cert file '" +
                                                   cert_file + "'");
  }
  std::string description = Describe(SSL_CTX_get0_certificate(native));
  std::lock_guard lock(mutex_);
  current_ = std::move(context);
  return description;
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace quarry::http
