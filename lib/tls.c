/*
 * Copyright (c) 2026 The iovp authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#include <config.h>

#include "lib/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(tls);

struct tls_context {
    SSL_CTX *ctx;
    char *ca_file;              /* --ca-cert or --bootstrap-ca-cert. */
    bool bootstrap;             /* 'ca_file' is yet to be bootstrapped. */
};

struct tls_conn {
    struct tls_context *context;
    SSL *ssl;                   /* Owns 'rbio' and 'wbio'. */
    BIO *rbio;                  /* Bytes from the peer, for 'ssl'. */
    BIO *wbio;                  /* Bytes from 'ssl', for the peer. */
    bool bootstrap;             /* Takes the peer's CA, unverified. */
    bool established;           /* The handshake is done. */
    char *error;                /* Why it failed, or NULL. */
};

/* Returns a malloc()'d description of the first error in OpenSSL's queue
 * of this thread, or of 'dflt' if there is none, and clears the queue. */
static char *
tls_err_string(const char *dflt)
{
    unsigned long int code = ERR_peek_error();
    char *s;

    if (!code) {
        s = iovp_xstrdup(dflt);
    } else {
        const char *reason = ERR_reason_error_string(code);
        if (reason) {
            s = iovp_xstrdup(reason);
        } else {
            char buf[256];
            ERR_error_string_n(code, buf, sizeof buf);
            s = iovp_xstrdup(buf);
        }
    }
    ERR_clear_error();
    return s;
}

/* Returns true if any of the options in 'options' is set. */
bool
tls_options_given(const struct tls_options *options)
{
    return (options->private_key || options->certificate
            || options->ca_cert || options->bootstrap_ca_cert);
}

/* Makes a context for client connections from the files that 'options'
 * names: the private key, the certificate and exactly one of the CA
 * certificate and the CA certificate to bootstrap.  Returns NULL and the
 * context in '*contextp', or a malloc()'d error and NULL. */
char *
tls_context_create(const struct tls_options *options,
                   struct tls_context **contextp)
{
    struct tls_context *tc;
    char *why = NULL;

    *contextp = NULL;
    if (!options->private_key || !options->certificate
        || (!options->ca_cert == !options->bootstrap_ca_cert)) {
        return iovp_xasprintf("TLS needs --private-key, --certificate, and "
                              "one of --ca-cert and --bootstrap-ca-cert");
    }

    tc = iovp_xzalloc(sizeof *tc);
    tc->ca_file = iovp_xstrdup(options->ca_cert ? options->ca_cert
                               : options->bootstrap_ca_cert);
    tc->ctx = SSL_CTX_new(TLS_method());
    if (!tc->ctx) {
        why = tls_err_string("out of memory");
        tls_context_destroy(tc);
        char *error = iovp_xasprintf("cannot make a TLS context (%s)", why);
        free(why);
        return error;
    }
    SSL_CTX_set_min_proto_version(tc->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(tc->ctx,
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);

    const char *file = options->certificate;
    const char *what = "certificate";
    if (SSL_CTX_use_certificate_chain_file(tc->ctx, file) != 1) {
        goto error;
    }
    file = options->private_key;
    what = "private key";
    if (SSL_CTX_use_PrivateKey_file(tc->ctx, file, SSL_FILETYPE_PEM) != 1) {
        goto error;
    }
    if (SSL_CTX_check_private_key(tc->ctx) != 1) {
        what = "private key that matches the certificate";
        goto error;
    }
    file = tc->ca_file;
    what = "CA certificate";
    if (options->bootstrap_ca_cert && access(file, F_OK) && errno == ENOENT) {
        VLOG_INFO("%s: no CA certificate yet: it will be bootstrapped from "
                  "the first TLS peer", file);
        tc->bootstrap = true;
    } else if (SSL_CTX_load_verify_locations(tc->ctx, file, NULL) != 1) {
        goto error;
    }
    *contextp = tc;
    return NULL;

error:
    why = tls_err_string("unknown error");
    char *error = iovp_xasprintf("%s: cannot use as %s (%s)", file, what,
                                 why);
    free(why);
    tls_context_destroy(tc);
    return error;
}

/* Frees 'tc'.  Connections made from it may live on.  Accepts NULL. */
void
tls_context_destroy(struct tls_context *tc)
{
    if (tc) {
        SSL_CTX_free(tc->ctx);
        free(tc->ca_file);
        free(tc);
    }
}

/* Records 'format' as the reason why 'conn' failed, if it has not failed
 * already.  Returns -EPROTO. */
static int OVS_PRINTF_FORMAT(2, 3)
tls_conn_fail(struct tls_conn *conn, const char *format, ...)
{
    if (!conn->error) {
        va_list args;
        va_start(args, format);
        conn->error = iovp_xvasprintf(format, args);
        va_end(args);
    }
    return -EPROTO;
}

static struct tls_conn *
tls_conn_create__(struct tls_context *tc, bool server)
{
    struct tls_conn *conn = iovp_xzalloc(sizeof *conn);

    conn->context = tc;
    conn->ssl = SSL_new(tc->ctx);
    conn->rbio = BIO_new(BIO_s_mem());
    conn->wbio = BIO_new(BIO_s_mem());
    if (!conn->ssl || !conn->rbio || !conn->wbio) {
        BIO_free(conn->rbio);
        BIO_free(conn->wbio);
        conn->rbio = conn->wbio = NULL;
        tls_conn_fail(conn, "cannot start TLS (out of memory)");
        return conn;
    }
    /* An empty read BIO means "more to come", not the end. */
    BIO_set_mem_eof_return(conn->rbio, -1);
    SSL_set_bio(conn->ssl, conn->rbio, conn->wbio);
    if (server) {
        SSL_set_accept_state(conn->ssl);
        return conn;
    }
    SSL_set_connect_state(conn->ssl);
    if (tc->bootstrap) {
        conn->bootstrap = true;
        SSL_set_verify(conn->ssl, SSL_VERIFY_NONE, NULL);
    }
    tls_conn_input(conn, NULL, 0);
    return conn;
}

/* Makes a new client connection that uses 'tc' (which must outlive it).
 * Its ClientHello is ready at once: see tls_conn_output(). */
struct tls_conn *
tls_conn_create(struct tls_context *tc)
{
    return tls_conn_create__(tc, false);
}

/* Creates the server's side of a TLS session, in context 'tc', for a
 * connection a listener accepted: it waits for the client's hello.  The
 * client must present a certificate that verifies against the CA
 * certificate (a bootstrapped one, once it is there). */
struct tls_conn *
tls_conn_create_server(struct tls_context *tc)
{
    return tls_conn_create__(tc, true);
}

/* Frees 'conn'.  Accepts NULL. */
void
tls_conn_destroy(struct tls_conn *conn)
{
    if (conn) {
        SSL_free(conn->ssl);
        free(conn->error);
        free(conn);
    }
}

/* Saves the CA certificate at the end of the chain that the peer of
 * 'conn' presented as the context's CA file, and starts verifying peers
 * against it.  Either way, 'conn' fails, so that its owner connects again
 * and verifies the peer, as Open vSwitch does.  Returns -EAGAIN if the
 * certificate was saved, otherwise -EPROTO. */
static int
tls_conn_bootstrap(struct tls_conn *conn)
{
    struct tls_context *tc = conn->context;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(conn->ssl);
    int n = chain ? sk_X509_num(chain) : 0;

    if (!tc->bootstrap) {
        return tls_conn_fail(conn, "CA certificate bootstrapped by another "
                             "connection; reconnecting to verify the peer");
    }
    if (!n) {
        return tls_conn_fail(conn, "cannot bootstrap the CA certificate: "
                             "the peer presented no certificate");
    }
    X509 *ca = sk_X509_value(chain, n - 1);
    if (X509_check_issued(ca, ca) != X509_V_OK) {
        return tls_conn_fail(conn, "cannot bootstrap the CA certificate: "
                             "the peer's last certificate is not "
                             "self-signed (does the peer send its CA "
                             "certificate?)");
    }

    int fd = open(tc->ca_file, O_CREAT | O_EXCL | O_WRONLY, 0444);
    if (fd < 0) {
        return tls_conn_fail(conn, "%s: cannot create (%s)", tc->ca_file,
                             strerror(errno));
    }
    FILE *file = fdopen(fd, "w");
    bool ok = file && PEM_write_X509(file, ca);
    if (file ? fclose(file) : close(fd)) {
        ok = false;
    }
    if (!ok) {
        unlink(tc->ca_file);
        return tls_conn_fail(conn, "%s: cannot write the bootstrapped CA "
                             "certificate", tc->ca_file);
    }
    if (SSL_CTX_load_verify_locations(tc->ctx, tc->ca_file, NULL) != 1) {
        char *why = tls_err_string("unknown error");
        tls_conn_fail(conn, "%s: cannot use the bootstrapped CA certificate "
                      "(%s)", tc->ca_file, why);
        free(why);
        return -EPROTO;
    }
    tc->bootstrap = false;

    char *subject = X509_NAME_oneline(X509_get_subject_name(ca), NULL, 0);
    VLOG_INFO("%s: bootstrapped the CA certificate \"%s\" from the peer",
              tc->ca_file, subject ? subject : "?");
    OPENSSL_free(subject);
    tls_conn_fail(conn, "bootstrapped the CA certificate to %s; "
                  "reconnecting to verify the peer with it", tc->ca_file);
    return -EAGAIN;
}

/* Takes the 'n' bytes at 'data' that came from the peer of 'conn' and
 * advances the handshake with them.  Afterward, the caller reads what
 * they carried with tls_conn_read() and sends what tls_conn_output()
 * gives.  Returns 0, or -EPROTO if 'conn' failed, or -EAGAIN if it
 * bootstrapped the CA certificate and must be made again (either way,
 * tls_conn_error() says why). */
int
tls_conn_input(struct tls_conn *conn, const char *data, size_t n)
{
    if (conn->error) {
        return -EPROTO;
    }
    if (n && BIO_write(conn->rbio, data, n) != (int) n) {
        return tls_conn_fail(conn, "TLS: out of memory");
    }
    if (conn->established) {
        return 0;
    }

    ERR_clear_error();
    int retval = SSL_do_handshake(conn->ssl);
    if (retval == 1) {
        conn->established = true;
        return conn->bootstrap ? tls_conn_bootstrap(conn) : 0;
    }

    int error = SSL_get_error(conn->ssl, retval);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return 0;
    }

    long int verify = SSL_get_verify_result(conn->ssl);
    if (verify != X509_V_OK) {
        ERR_clear_error();
        return tls_conn_fail(conn, "TLS handshake failed: the peer's "
                             "certificate does not verify (%s)",
                             X509_verify_cert_error_string(verify));
    }
    char *why = tls_err_string("protocol error");
    tls_conn_fail(conn, "TLS handshake failed (%s)", why);
    free(why);
    return -EPROTO;
}

/* Reads into the 'n' bytes at 'buf' what the peer of 'conn' sent, once
 * the handshake is done.  Returns the number of bytes read, 0 if there are
 * none for now, or -EPROTO if 'conn' failed or the peer ended the TLS
 * session (see tls_conn_error()). */
ssize_t
tls_conn_read(struct tls_conn *conn, char *buf, size_t n)
{
    if (conn->error) {
        return -EPROTO;
    }
    if (!conn->established || !n) {
        return 0;
    }

    ERR_clear_error();
    int retval = SSL_read(conn->ssl, buf, n);
    if (retval > 0) {
        return retval;
    }
    int error = SSL_get_error(conn->ssl, retval);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return 0;
    } else if (error == SSL_ERROR_ZERO_RETURN) {
        return tls_conn_fail(conn, "the peer ended the TLS session");
    }
    char *why = tls_err_string("protocol error");
    tls_conn_fail(conn, "TLS error (%s)", why);
    free(why);
    return -EPROTO;
}

/* Encrypts the 'n' bytes at 'data' for the peer of 'conn', whose
 * handshake must be done; the caller sends what tls_conn_output() gives.
 * Returns 0, -ENOTCONN during the handshake, or -EPROTO if 'conn'
 * failed. */
int
tls_conn_write(struct tls_conn *conn, const char *data, size_t n)
{
    if (conn->error) {
        return -EPROTO;
    }
    if (!conn->established) {
        return -ENOTCONN;
    }

    /* A memory BIO takes everything, so SSL_write() writes all 'n' bytes
     * or fails; it takes at most INT_MAX at a time. */
    while (n) {
        int chunk = n > (1 << 30) ? (1 << 30) : n;
        ERR_clear_error();
        if (SSL_write(conn->ssl, data, chunk) != chunk) {
            char *why = tls_err_string("protocol error");
            tls_conn_fail(conn, "TLS error (%s)", why);
            free(why);
            return -EPROTO;
        }
        data += chunk;
        n -= chunk;
    }
    return 0;
}

/* Ends the TLS session of 'conn' politely, if its handshake was done
 * (the session may have failed since, as one that bootstrapped its CA
 * certificate does; OpenSSL sends nothing after a fatal error):
 * tls_conn_output() then gives a close_notify alert for the peer. */
void
tls_conn_close_notify(struct tls_conn *conn)
{
    if (conn->established) {
        ERR_clear_error();
        SSL_shutdown(conn->ssl);
        ERR_clear_error();
    }
}

/* Returns the bytes that 'conn' has for its peer, malloc()'d, with their
 * number in '*n', or NULL if there are none. */
char *
tls_conn_output(struct tls_conn *conn, size_t *n)
{
    size_t pending = conn->wbio ? BIO_ctrl_pending(conn->wbio) : 0;
    char *data;

    *n = 0;
    if (!pending) {
        return NULL;
    }
    data = iovp_xmalloc(pending);
    int retval = BIO_read(conn->wbio, data, pending);
    if (retval <= 0) {
        free(data);
        return NULL;
    }
    *n = retval;
    return data;
}

/* Returns true once the handshake of 'conn' is done. */
bool
tls_conn_is_established(const struct tls_conn *conn)
{
    return conn->established && !conn->error;
}

/* Returns why 'conn' failed, or NULL. */
const char *
tls_conn_error(const struct tls_conn *conn)
{
    return conn->error;
}

/* Returns a malloc()'d description of the established session of 'conn'
 * for a log message: protocol, cipher and the peer's subject. */
char *
tls_conn_describe(const struct tls_conn *conn)
{
    X509 *peer = SSL_get1_peer_certificate(conn->ssl);
    char *subject = (peer
                     ? X509_NAME_oneline(X509_get_subject_name(peer), NULL, 0)
                     : NULL);
    char *s = iovp_xasprintf("%s, %s, peer \"%s\"",
                             SSL_get_version(conn->ssl),
                             SSL_get_cipher_name(conn->ssl),
                             subject ? subject : "?");

    OPENSSL_free(subject);
    X509_free(peer);
    return s;
}
