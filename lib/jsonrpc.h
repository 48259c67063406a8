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

#ifndef IOVP_JSONRPC_H
#define IOVP_JSONRPC_H 1

/* JSON-RPC 1.0 as OVSDB (RFC 7047, section 4) and Open vSwitch's unixctl
 * protocol use it: messages, and the framing of a byte stream into them.
 *
 * Nothing here does I/O.  A byte stream carries concatenated JSON values
 * with no other delimiter; a jrpc_parser is fed whatever bytes arrive,
 * parses them as they come and says when one whole value has been seen,
 * so a transport feeds it bytes and hands each finished message on.
 *
 * The prefix is "jrpc_" because libopenvswitch, linked into the same
 * programs, already defines "jsonrpc_" names. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The four kinds of JSON-RPC message, with their names. */
#define JRPC_MSG_TYPES                          \
    JRPC_MSG_TYPE(REQUEST, "request")           \
    JRPC_MSG_TYPE(NOTIFY, "notification")       \
    JRPC_MSG_TYPE(REPLY, "reply")               \
    JRPC_MSG_TYPE(ERROR, "error")

enum jrpc_msg_type {
#define JRPC_MSG_TYPE(ENUM, NAME) JRPC_##ENUM,
    JRPC_MSG_TYPES
#undef JRPC_MSG_TYPE
};

const char *jrpc_msg_type_to_string(enum jrpc_msg_type);

/* A JSON-RPC message, as a view into the JSON object that carries it.  Every
 * pointer is borrowed from that object and lives as long as it does. */
struct jrpc_msg {
    enum jrpc_msg_type type;
    const char *method;         /* REQUEST, NOTIFY: the method's name. */
    json_t *params;             /* REQUEST, NOTIFY: an array. */
    json_t *result;             /* REPLY: any value. */
    json_t *error;              /* ERROR: any value but null. */
    json_t *id;                 /* REQUEST, REPLY, ERROR: any value but
                                 * null; NULL for NOTIFY. */
};

char *jrpc_msg_parse(json_t *, struct jrpc_msg *);

json_t *jrpc_request(const char *method, json_t *params, json_t *id);
json_t *jrpc_notify(const char *method, json_t *params);
json_t *jrpc_reply(json_t *result, const json_t *id);
json_t *jrpc_error(json_t *error, const json_t *id);

/* Framing: the JSON values of a byte stream, each parsed as its bytes
 * arrive (lib/json-decode.h), so that a large message is parsed over the
 * reads that bring it and its text is never held whole. */
struct iovp_json_decoder;
struct jrpc_parser {
    struct iovp_json_decoder *decoder;
    size_t len;                 /* Bytes of the current value so far. */
    size_t max_size;            /* Longest value accepted, in bytes. */
    size_t last_size;           /* Of the last value taken, in bytes. */
    bool too_long;              /* Failed by exceeding 'max_size'? */
    char *error;                /* Sticky error message, or NULL. */
};

void jrpc_parser_init(struct jrpc_parser *, size_t max_size);
void jrpc_parser_destroy(struct jrpc_parser *);
size_t jrpc_parser_feed(struct jrpc_parser *, const char *data, size_t n);
bool jrpc_parser_is_done(const struct jrpc_parser *);
void jrpc_parser_release(const struct jrpc_parser *, json_t *msg);
const char *jrpc_parser_get_error(const struct jrpc_parser *);
bool jrpc_parser_is_too_long(const struct jrpc_parser *);
char *jrpc_parser_finish(struct jrpc_parser *, json_t **jsonp);

#endif /* jsonrpc.h */
