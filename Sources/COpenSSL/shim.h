// The only C header of OpenSSL (libcrypto) that Swift sees: includes, and tiny wrappers for macros and
// for stack operations Swift cannot call.
#ifndef TONGBAO_COPENSSL_SHIM_H
#define TONGBAO_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

static inline void tongbao_openssl_free(void *pointer) { OPENSSL_free(pointer); }

static inline STACK_OF(X509) *tongbao_x509_stack_new(void) { return sk_X509_new_null(); }
static inline int tongbao_x509_stack_push(STACK_OF(X509) *stack, X509 *certificate) { return sk_X509_push(stack, certificate); }
static inline void tongbao_x509_stack_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
static inline int tongbao_x509_stack_count(STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *tongbao_x509_stack_value(STACK_OF(X509) *stack, int index) { return sk_X509_value(stack, index); }
/// The chain a successful X509_verify_cert built, leaf first (owned by the context).
static inline STACK_OF(X509) *tongbao_x509_verified_chain(X509_STORE_CTX *context) { return X509_STORE_CTX_get0_chain(context); }

/// The number of URI subjectAltNames of a certificate.
static inline int tongbao_x509_uri_count(X509 *certificate) {
    GENERAL_NAMES *names = X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return 0;
    int count = 0;
    for (int index = 0; index < sk_GENERAL_NAME_num(names); index++) {
        if (sk_GENERAL_NAME_value(names, index)->type == GEN_URI) count++;
    }
    GENERAL_NAMES_free(names);
    return count;
}

/// Copies the `wanted`-th URI subjectAltName into `buffer`; returns its length, or -1.
static inline int tongbao_x509_uri(X509 *certificate, int wanted, char *buffer, int capacity) {
    GENERAL_NAMES *names = X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return -1;
    int seen = 0, length = -1;
    for (int index = 0; index < sk_GENERAL_NAME_num(names); index++) {
        GENERAL_NAME *name = sk_GENERAL_NAME_value(names, index);
        if (name->type != GEN_URI) continue;
        if (seen++ != wanted) continue;
        int size = ASN1_STRING_length(name->d.uniformResourceIdentifier);
        if (size < capacity) {
            memcpy(buffer, ASN1_STRING_get0_data(name->d.uniformResourceIdentifier), (size_t)size);
            length = size;
        }
        break;
    }
    GENERAL_NAMES_free(names);
    return length;
}

// ECDSA signing with a nonce computed ahead (OpenSSL's ECDSA_sign_setup and ECDSA_do_sign_ex, documented
// for this use). Both are EC_KEY functions, deprecated in OpenSSL 3 without an EVP replacement; they are
// called only here.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"

/// A reference to the EC_KEY of a P-256 `key` (to be freed with `tongbao_ec_key_free`), or NULL.
static inline EC_KEY *tongbao_ec_key(EVP_PKEY *key) { return EVP_PKEY_get1_EC_KEY(key); }
static inline void tongbao_ec_key_free(EC_KEY *key) { EC_KEY_free(key); }

/// Computes one signing nonce for `key` ahead of the signature: k⁻¹ and r, owned by the caller (free them
/// with `BN_clear_free`). 1 on success.
static inline int tongbao_ecdsa_precompute(EC_KEY *key, BIGNUM **inverse, BIGNUM **r) {
    *inverse = NULL;
    *r = NULL;
    return ECDSA_sign_setup(key, NULL, inverse, r);
}

/// Signs a digest with a nonce from `tongbao_ecdsa_precompute` (each used once) and writes the signature
/// as raw r‖s, 32 + 32 bytes, into `raw`. 1 on success.
static inline int tongbao_ecdsa_sign_precomputed(EC_KEY *key, const unsigned char *digest, int length,
                                                 const BIGNUM *inverse, const BIGNUM *r, unsigned char *raw) {
    ECDSA_SIG *signature = ECDSA_do_sign_ex(digest, length, inverse, r, key);
    if (signature == NULL) return 0;
    int written = BN_bn2binpad(ECDSA_SIG_get0_r(signature), raw, 32) == 32
        && BN_bn2binpad(ECDSA_SIG_get0_s(signature), raw + 32, 32) == 32;
    ECDSA_SIG_free(signature);
    return written;
}

#pragma clang diagnostic pop

#endif
