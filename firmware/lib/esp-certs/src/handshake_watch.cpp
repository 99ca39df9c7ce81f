#include "handshake_watch.h"

namespace {

// BearSSL's X.509 validator with its start_chain replaced, so that the engine's call to it
// is seen; every other call goes straight to the validator.
br_x509_class watchedVtable;
HandshakeWatch *watching = nullptr;

}  // namespace

void HandshakeWatch::installCertStore(br_x509_minimal_context *ctx) {
  _chainSeen = false;
  watching = this;
  // Copied field by field from br_x509_minimal_vtable (it may live in flash on the chip).
  const br_x509_class &minimal = br_x509_minimal_vtable;
  watchedVtable.context_size = minimal.context_size;
  watchedVtable.start_chain = startChain;
  watchedVtable.start_cert = minimal.start_cert;
  watchedVtable.append = minimal.append;
  watchedVtable.end_cert = minimal.end_cert;
  watchedVtable.end_chain = minimal.end_chain;
  watchedVtable.get_pkey = minimal.get_pkey;
  ctx->vtable = &watchedVtable;
}

void HandshakeWatch::startChain(const br_x509_class **ctx, const char *serverName) {
  if (watching != nullptr) watching->_chainSeen = true;
  br_x509_minimal_vtable.start_chain(ctx, serverName);
}
