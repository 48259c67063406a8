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

#include "lib/jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json-decode.h"
#include "lib/util.h"

const char *
jrpc_msg_type_to_string(enum jrpc_msg_type type)
{
    switch (type) {
#define JRPC_MSG_TYPE(ENUM, NAME) case JRPC_##ENUM: return NAME;
        JRPC_MSG_TYPES
#undef JRPC_MSG_TYPE
    }
    return "(unknown)";
}

/* Checks that 'json' is a well-formed JSON-RPC message and fills in 'msg' as
 * a view into it (borrowed references, valid as long as 'json' is).  Returns
 * NULL on success, otherwise a malloc()'d error message that the caller must
 * free, with 'msg' unspecified.
 *
 * As RFC 7047 and Open vSwitch read JSON-RPC 1.0: an object whose members
 * are among "method", "params", "result", "error" and "id"; a message with a
 * non-null "error" is an error reply, one with a "result" a reply, one with
 * a "method" a request, or a notification when its "id" is null or absent. */
char *
jrpc_msg_parse(json_t *json, struct jrpc_msg *msg)
{
    const char *key;
    json_t *value;

    memset(msg, 0, sizeof *msg);
    if (!json_is_object(json)) {
        return iovp_xasprintf("message is not a JSON object");
    }
    json_object_foreach (json, key, value) {
        if (strcmp(key, "method") && strcmp(key, "params")
            && strcmp(key, "result") && strcmp(key, "error")
            && strcmp(key, "id")) {
            return iovp_xasprintf("message has unexpected member \"%s\"", key);
        }
    }

    json_t *method = json_object_get(json, "method");
    json_t *params = json_object_get(json, "params");
    json_t *result = json_object_get(json, "result");
    json_t *error = json_object_get(json, "error");
    json_t *id = json_object_get(json, "id");
    if (id && json_is_null(id)) {
        id = NULL;
    }

    if (error && !json_is_null(error)) {
        if (method || params || (result && !json_is_null(result))) {
            return iovp_xasprintf("error reply has a method, params or "
                                  "result");
        }
        msg->type = JRPC_ERROR;
        msg->error = error;
    } else if (result) {
        if (method || params) {
            return iovp_xasprintf("reply has a method or params");
        }
        msg->type = JRPC_REPLY;
        msg->result = result;
    } else if (method) {
        if (!json_is_string(method)) {
            return iovp_xasprintf("\"method\" is not a string");
        } else if (!params || !json_is_array(params)) {
            return iovp_xasprintf("\"params\" is missing or not an array");
        }
        msg->type = id ? JRPC_REQUEST : JRPC_NOTIFY;
        msg->method = json_string_value(method);
        msg->params = params;
    } else {
        return iovp_xasprintf("message has no \"method\", \"result\" or "
                         "\"error\"");
    }

    if (msg->type != JRPC_NOTIFY && !id) {
        return iovp_xasprintf("%s has no \"id\"",
                         jrpc_msg_type_to_string(msg->type));
    }
    msg->id = id;
    return NULL;
}

/* Returns a new reference to a request that calls 'method' with 'params'
 * (an array, or NULL for an empty one) and 'id'.  Steals 'params' and 'id',
 * even on failure. */
json_t *
jrpc_request(const char *method, json_t *params, json_t *id)
{
    return json_pack("{s:s, s:o, s:o}", "method", method,
                     "params", params ? params : json_array(),
                     "id", id);
}

/* Returns a new reference to a notification of 'method' with 'params' (an
 * array, or NULL for an empty one).  Steals 'params', even on failure. */
json_t *
jrpc_notify(const char *method, json_t *params)
{
    return json_pack("{s:s, s:o, s:n}", "method", method,
                     "params", params ? params : json_array(), "id");
}

/* Returns a new reference to a reply with 'result' to the request whose id
 * is 'id'.  Steals 'result', even on failure; 'id' is borrowed. */
json_t *
jrpc_reply(json_t *result, const json_t *id)
{
    return json_pack("{s:o, s:n, s:O}", "result", result, "error",
                     "id", id);
}

/* Returns a new reference to an error reply with 'error' to the request
 * whose id is 'id'.  Steals 'error', even on failure; 'id' is borrowed. */
json_t *
jrpc_error(json_t *error, const json_t *id)
{
    return json_pack("{s:n, s:o, s:O}", "result", "error", error,
                     "id", id);
}

/* Initializes 'p' to parse JSON values of at most 'max_size' bytes. */
void
jrpc_parser_init(struct jrpc_parser *p, size_t max_size)
{
    memset(p, 0, sizeof *p);
    p->decoder = iovp_json_decoder_create();
    p->max_size = max_size;
}

/* Frees what 'p' holds. */
void
jrpc_parser_destroy(struct jrpc_parser *p)
{
    if (p) {
        iovp_json_decoder_destroy(p->decoder);
        free(p->error);
    }
}

/* The size of a message after which jrpc_parser_release() trims the
 * heap. */
#define JRPC_TRIM_SIZE (4 * 1024 * 1024)

/* Feeds 'p' up to 'n' bytes from 'data' and returns how many it took.  It
 * stops after the byte that ends a JSON value (then jrpc_parser_is_done()
 * is true and the rest of 'data' is for the next value) and takes nothing
 * once it has failed.
 *
 * Only objects and arrays are taken at the top level, as JSON-RPC sends; the
 * bytes between values may be white space only.  A value longer than the
 * parser's 'max_size' fails it. */
size_t
jrpc_parser_feed(struct jrpc_parser *p, const char *data, size_t n)
{
    size_t i = 0;

    if (p->error || iovp_json_decoder_is_done(p->decoder)) {
        return 0;
    }

    if (!p->len) {
        /* Between values: skip white space to the next one's start. */
        for (; i < n; i++) {
            char c = data[i];
            if (c == '{' || c == '[') {
                break;
            } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                p->error = iovp_xasprintf("syntax error: message does not "
                                          "begin with '{' or '['");
                return i;
            }
        }
    }

    size_t take = MIN(n - i, p->max_size - p->len);
    size_t used = iovp_json_decoder_feed(p->decoder, data + i, take);
    const char *error = iovp_json_decoder_get_error(p->decoder);

    p->len += used;
    if (error) {
        p->error = iovp_xstrdup(error);
    } else if (!iovp_json_decoder_is_done(p->decoder) && i + used < n) {
        p->too_long = true;
        p->error = iovp_xasprintf("message exceeds the %zu-byte limit",
                                  p->max_size);
    }
    return i + used;
}

/* Returns true if 'p' has seen a whole value, which jrpc_parser_finish()
 * then returns. */
bool
jrpc_parser_is_done(const struct jrpc_parser *p)
{
    return iovp_json_decoder_is_done(p->decoder);
}

/* Returns the reason 'p' failed, or NULL if it has not. */
const char *
jrpc_parser_get_error(const struct jrpc_parser *p)
{
    return p->error;
}

/* Returns true if 'p' failed because a value exceeded its size limit. */
bool
jrpc_parser_is_too_long(const struct jrpc_parser *p)
{
    return p->too_long;
}

/* Stores a new reference to the value that 'p' has seen in '*jsonp' and
 * resets 'p' for the next one.  Returns NULL if successful, otherwise a
 * malloc()'d error message for the caller to free, with '*jsonp' set to
 * NULL: when 'p' failed (on bytes that are not valid JSON, say), or when
 * it has not yet seen a whole value.  After an error 'p' stays failed. */
char *
jrpc_parser_finish(struct jrpc_parser *p, json_t **jsonp)
{
    *jsonp = NULL;
    if (!p->error && !iovp_json_decoder_is_done(p->decoder)) {
        p->error = iovp_xstrdup("unexpected end of input");
    }
    if (p->error) {
        return iovp_xstrdup(p->error);
    }

    *jsonp = iovp_json_decoder_take(p->decoder);
    p->last_size = p->len;
    p->len = 0;
    return NULL;
}

/* Frees 'msg', the message that 'p' parsed last.  After a large one (an
 * initial copy of a large database, say), gives the freed memory back to
 * the system: the message's tree took far more memory than what is kept
 * of it, and the heap would otherwise keep it for good. */
void
jrpc_parser_release(const struct jrpc_parser *p, json_t *msg)
{
    json_decref(msg);
    if (p->last_size > JRPC_TRIM_SIZE) {
        iovp_trim_heap();
    }
}
