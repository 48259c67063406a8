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

#ifndef IOVP_OFP_OFCONN_H
#define IOVP_OFP_OFCONN_H 1

/* The OpenFlow protocol of one connection to a switch, as a state machine
 * that does no I/O; OpenFlow's encoding and decoding are libopenvswitch's.
 *
 * The transport tells it when a connection is up or gone and hands it the
 * bytes that arrive; it frames them into messages by their headers'
 * lengths, answers echo requests, and negotiates the version: it sends a
 * hello for the versions it was created with and, on the switch's hello,
 * takes the highest version both allow.  What it sends comes out of
 * ofconn_pop(); the messages it does not handle itself come out of
 * ofconn_pop_received(), for the owner (ofctrl, or the northbound's
 * switch), those of a type or length that libopenvswitch does not decode
 * too, once the session is active: a switch answers them with an error, a
 * controller ignores them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openflow/openflow.h>

struct ofpbuf;
struct ofconn;

#define OFCONN_STATES                           \
    OFCONN_STATE(DISCONNECTED, "disconnected")  \
    OFCONN_STATE(HELLO, "negotiating")          \
    OFCONN_STATE(ACTIVE, "active")

enum ofconn_state {
#define OFCONN_STATE(ENUM, NAME) OFCONN_##ENUM,
    OFCONN_STATES
#undef OFCONN_STATE
};

const char *ofconn_state_to_string(enum ofconn_state);

/* Counters, for inspection. */
struct ofconn_stats {
    unsigned long long int n_received;  /* Messages. */
    unsigned long long int n_sent;      /* Messages. */
    unsigned long long int n_echo_requests;     /* Received, answered. */
    unsigned long long int n_echo_replies;      /* To our probes. */
    unsigned long long int n_errors;    /* OFPT_ERROR received. */
};

struct ofconn *ofconn_create(uint32_t allowed_versions);
void ofconn_destroy(struct ofconn *);

void ofconn_connected(struct ofconn *);
void ofconn_disconnected(struct ofconn *);
char *ofconn_receive(struct ofconn *, const char *data, size_t n);
void ofconn_probe(struct ofconn *);
void ofconn_send(struct ofconn *, struct ofpbuf *);

struct ofpbuf *ofconn_pop(struct ofconn *);
struct ofpbuf *ofconn_pop_received(struct ofconn *);

enum ofconn_state ofconn_get_state(const struct ofconn *);
enum ofp_version ofconn_get_version(const struct ofconn *);
const struct ofconn_stats *ofconn_get_stats(const struct ofconn *);

char *ofconn_msg_brief(const struct ofpbuf *);

#endif /* ofp/ofconn.h */
