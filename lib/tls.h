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

#ifndef IOVP_TLS_H
#define IOVP_TLS_H 1

/* TLS for the client side of a connection, over OpenSSL, as a state
 * machine that does no I/O: the caller hands it the bytes that came from
 * the peer and sends the bytes it produces (memory BIOs inside), so that
 * it runs on any event loop (lib/byte-client.c drives it on libuv's).
 *
 * A context holds what every connection shares: this end's private key
 * and certificate, and the CA certificate that the peer's certificate must
 * chain to, named as Open vSwitch's daemons name them (--private-key,
 * --certificate, --ca-cert, --bootstrap-ca-cert).  As in Open vSwitch, the
 * peer's certificate is verified against the CA, and its name is not
 * compared with the remote's address.
 *
 * Bootstrap (--bootstrap-ca-cert, as in OVS): while the CA file does not
 * exist, a connection takes the peer's chain unverified, saves its last
 * certificate (which must be self-signed: a CA's) to the file, and then
 * fails, so that the caller connects again, this time verifying the peer
 * against the saved CA.
 *
 * This header does not include OpenSSL's headers. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_options {
    const char *private_key;        /* PEM file. */
    const char *certificate;        /* PEM file, this end's chain. */
    const char *ca_cert;            /* PEM file, or NULL. */
    const char *bootstrap_ca_cert;  /* PEM file, or NULL. */
};

struct tls_context;
struct tls_conn;

bool tls_options_given(const struct tls_options *);
char *tls_context_create(const struct tls_options *, struct tls_context **);
void tls_context_destroy(struct tls_context *);

struct tls_conn *tls_conn_create(struct tls_context *);
struct tls_conn *tls_conn_create_server(struct tls_context *);
void tls_conn_destroy(struct tls_conn *);

int tls_conn_input(struct tls_conn *, const char *data, size_t n);
ssize_t tls_conn_read(struct tls_conn *, char *buf, size_t n);
int tls_conn_write(struct tls_conn *, const char *data, size_t n);
void tls_conn_close_notify(struct tls_conn *);
char *tls_conn_output(struct tls_conn *, size_t *n);

bool tls_conn_is_established(const struct tls_conn *);
const char *tls_conn_error(const struct tls_conn *);
char *tls_conn_describe(const struct tls_conn *);

#endif /* tls.h */
