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

#include "ofp/ofconn.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/list.h>
#include <openvswitch/ofp-errors.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofp-util.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(ofconn);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct ofconn {
    uint32_t allowed_versions;  /* Bitmap of 1 << OFPxx_VERSION. */
    enum ofconn_state state;
    enum ofp_version version;   /* Negotiated; valid when ACTIVE. */

    char *rx;                   /* Bytes of the message being framed. */
    size_t rx_len;
    size_t rx_allocated;

    struct ovs_list outbox;     /* "struct ofpbuf"s to send. */
    struct ovs_list inbox;      /* "struct ofpbuf"s for the owner. */
    struct ofconn_stats stats;
};

const char *
ofconn_state_to_string(enum ofconn_state state)
{
    switch (state) {
#define OFCONN_STATE(ENUM, NAME) case OFCONN_##ENUM: return NAME;
        OFCONN_STATES
#undef OFCONN_STATE
    }
    return "(unknown)";
}

/* Creates a connection's protocol that allows the OpenFlow versions in the
 * bitmap 'allowed_versions' (bit N set for version N, as OVS's
 * OFPUTIL_DEFAULT_VERSIONS), disconnected. */
struct ofconn *
ofconn_create(uint32_t allowed_versions)
{
    struct ofconn *c = iovp_xzalloc(sizeof *c);

    c->allowed_versions = allowed_versions;
    c->state = OFCONN_DISCONNECTED;
    ovs_list_init(&c->outbox);
    ovs_list_init(&c->inbox);
    return c;
}

static void
ofconn_flush_list(struct ovs_list *list)
{
    struct ofpbuf *b;

    LIST_FOR_EACH_POP (b, list_node, list) {
        ofpbuf_delete(b);
    }
}

/* Frees 'c'.  Accepts NULL. */
void
ofconn_destroy(struct ofconn *c)
{
    if (c) {
        ofconn_flush_list(&c->outbox);
        ofconn_flush_list(&c->inbox);
        free(c->rx);
        free(c);
    }
}

/* Queues 'msg' (taken) for sending. */
void
ofconn_send(struct ofconn *c, struct ofpbuf *msg)
{
    /* A message built piece by piece has its header's length set now, as
     * OVS's vconn_send() does. */
    ofpmsg_update_length(msg);
    ovs_list_push_back(&c->outbox, &msg->list_node);
    c->stats.n_sent++;
}

/* A connection is up: says hello. */
void
ofconn_connected(struct ofconn *c)
{
    ofconn_flush_list(&c->outbox);
    ofconn_flush_list(&c->inbox);
    c->rx_len = 0;
    c->state = OFCONN_HELLO;
    ofconn_send(c, ofputil_encode_hello(c->allowed_versions));
}

/* The connection is gone. */
void
ofconn_disconnected(struct ofconn *c)
{
    ofconn_flush_list(&c->outbox);
    c->rx_len = 0;
    c->state = OFCONN_DISCONNECTED;
}

/* Returns the highest version in bitmap 'versions', or 0 if it is empty. */
static enum ofp_version
ofconn_highest_version(uint32_t versions)
{
    return versions ? 31 - __builtin_clz(versions) : 0;
}

/* Queues 'oh', a message of 'len' bytes, for the owner.  Returns NULL. */
static char *
ofconn_hand_on(struct ofconn *c, const struct ofp_header *oh, size_t len)
{
    struct ofpbuf *msg = ofpbuf_clone_data(oh, len);

    ovs_list_push_back(&c->inbox, &msg->list_node);
    return NULL;
}

/* Handles one whole message 'oh' of 'len' bytes.  Returns NULL, or a
 * malloc()'d reason to drop the connection. */
static char *
ofconn_handle(struct ofconn *c, const struct ofp_header *oh, size_t len)
{
    enum ofptype type;
    enum ofperr error;

    c->stats.n_received++;
    error = ofptype_decode(&type, oh);
    if (error) {
        if (c->state != OFCONN_ACTIVE || oh->version != c->version) {
            return iovp_xasprintf("undecodable message (%s)",
                                  ofperr_to_string(error));
        }
        /* A type or a length this end does not know, on a live session:
         * the owner says so to the peer (a switch answers it with an
         * error) or ignores it. */
        return ofconn_hand_on(c, oh, len);
    }

    if (type == OFPTYPE_HELLO) {
        uint32_t theirs;
        if (!ofputil_decode_hello(oh, &theirs)) {
            /* OVS's own parser is lenient; it still reports versions. */
            VLOG_DBG("hello with unknown elements");
        }
        uint32_t common = theirs & c->allowed_versions;
        if (!common) {
            ofconn_send(c, ofperr_encode_hello(OFPERR_OFPHFC_INCOMPATIBLE,
                                               oh->version,
                                               "no common OpenFlow version"));
            return iovp_xasprintf("no common OpenFlow version (switch "
                                  "allows 0x%"PRIx32", iovpd 0x%"PRIx32")",
                                  theirs, c->allowed_versions);
        }
        if (c->state == OFCONN_HELLO) {
            c->version = ofconn_highest_version(common);
            c->state = OFCONN_ACTIVE;
            VLOG_INFO("negotiated OpenFlow version %s",
                      ofputil_version_to_string(c->version));
        }
        return NULL;
    }

    if (c->state != OFCONN_ACTIVE) {
        return iovp_xasprintf("%s before the hello",
                              ofptype_get_name(type));
    } else if (oh->version != c->version && type != OFPTYPE_ERROR) {
        return iovp_xasprintf("message of version 0x%02x on a connection "
                              "of version 0x%02x", oh->version, c->version);
    }

    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        c->stats.n_echo_requests++;
        ofconn_send(c, ofputil_encode_echo_reply(oh));
        return NULL;

    case OFPTYPE_ECHO_REPLY:
        c->stats.n_echo_replies++;
        return NULL;

    case OFPTYPE_ERROR:
        /* The owner knows which request it answers, and says so. */
        c->stats.n_errors++;
        VLOG_DBG_RL(&rl, "switch reported an error: %s",
                    ofperr_to_string(ofperr_decode_msg(oh, NULL)));
        break;

    default:
        break;
    }

    /* Everything else, errors too, goes to the owner. */
    return ofconn_hand_on(c, oh, len);
}

/* Frames the 'n' bytes at 'data' that arrived into messages and handles
 * each.  Returns NULL, or a malloc()'d reason to drop the connection (a
 * message that cannot be framed or decoded, or no common version). */
char *
ofconn_receive(struct ofconn *c, const char *data, size_t n)
{
    if (c->state == OFCONN_DISCONNECTED) {
        return iovp_xasprintf("data while disconnected");
    }

    while (n) {
        /* Take the header first, then the rest of the message it
         * announces. */
        size_t want = sizeof(struct ofp_header);
        if (c->rx_len >= want) {
            const struct ofp_header *oh = (const void *) c->rx;
            want = ntohs(oh->length);
        }

        size_t take = MIN(n, want - c->rx_len);
        if (c->rx_len + take > c->rx_allocated) {
            c->rx_allocated = MAX(c->rx_len + take, 2 * c->rx_allocated);
            c->rx = iovp_xrealloc(c->rx, c->rx_allocated);
        }
        memcpy(c->rx + c->rx_len, data, take);
        c->rx_len += take;
        data += take;
        n -= take;

        if (c->rx_len >= sizeof(struct ofp_header)) {
            const struct ofp_header *oh = (const void *) c->rx;
            size_t len = ntohs(oh->length);
            if (len < sizeof *oh) {
                return iovp_xasprintf("message length %zu is shorter than "
                                      "a header", len);
            } else if (c->rx_len == len) {
                char *error = ofconn_handle(c, oh, len);
                c->rx_len = 0;
                if (error) {
                    return error;
                }
            }
        }
    }
    return NULL;
}

/* Queues an echo request, as an inactivity probe. */
void
ofconn_probe(struct ofconn *c)
{
    if (c->state == OFCONN_ACTIVE) {
        ofconn_send(c, ofputil_encode_echo_request(c->version));
    }
}

/* Returns the next message to send (the caller owns it), or NULL. */
struct ofpbuf *
ofconn_pop(struct ofconn *c)
{
    if (ovs_list_is_empty(&c->outbox)) {
        return NULL;
    }
    struct ofpbuf *b = CONTAINER_OF(ovs_list_pop_front(&c->outbox),
                                    struct ofpbuf, list_node);
    return b;
}

/* Returns the next message received for the owner (who owns it), or
 * NULL. */
struct ofpbuf *
ofconn_pop_received(struct ofconn *c)
{
    if (ovs_list_is_empty(&c->inbox)) {
        return NULL;
    }
    return CONTAINER_OF(ovs_list_pop_front(&c->inbox), struct ofpbuf,
                        list_node);
}

enum ofconn_state
ofconn_get_state(const struct ofconn *c)
{
    return c->state;
}

/* Returns the negotiated version, when the connection is active. */
enum ofp_version
ofconn_get_version(const struct ofconn *c)
{
    return c->version;
}

const struct ofconn_stats *
ofconn_get_stats(const struct ofconn *c)
{
    return &c->stats;
}

/* Returns a short description of 'msg', a message from the switch, for log
 * messages: its type, and for an error the error's name.  The caller frees
 * it. */
char *
ofconn_msg_brief(const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return iovp_xasprintf("undecodable message of %"PRIu32" bytes",
                              msg->size);
    } else if (type == OFPTYPE_ERROR) {
        return iovp_xasprintf("error %s (xid %#"PRIx32")",
                              ofperr_get_name(ofperr_decode_msg(oh, NULL)),
                              ntohl(oh->xid));
    }
    return iovp_xasprintf("%s (xid %#"PRIx32")", ofptype_get_name(type),
                          ntohl(oh->xid));
}
