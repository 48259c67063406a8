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

/* "test-iovp ofp-seeds DIR": writes into DIR the seed corpus of
 * tests/fuzz-ofp.c, switches' byte streams encoded by libopenvswitch: a
 * hello, the read of the switch's flows, the bundle's replies, flow
 * monitor updates of every kind (OpenFlow 1.5, and 1.3's extension), a
 * refused flow, a refused monitor.  Their xids 1, 2, 3... stand for the
 * requests that ofctrl sent, in order (see fuzz-ofp.c). */

#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openvswitch/list.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofp-bundle.h>
#include <openvswitch/ofp-errors.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-monitor.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-parse.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofp-util.h>
#include <openvswitch/ofpbuf.h>

#include "lib/util.h"
#include "ofp/ofctrl.h"
#include "tests/test-iovp.h"

/* A stream being written: the messages' bytes one after another. */
struct seed {
    struct ofpbuf bytes;
    enum ofp_version version;
};

/* Appends 'msg' (freed) to 's' with xid 'xid'. */
static void
put(struct seed *s, struct ofpbuf *msg, uint32_t xid)
{
    struct ofp_header *oh;

    ofpmsg_update_length(msg);  /* As a switch does before it sends. */
    oh = msg->data;
    oh->xid = htonl(xid);
    ofpbuf_put(&s->bytes, msg->data, msg->size);
    ofpbuf_delete(msg);
}

/* Appends every message on 'msgs' (freed) to 's' with xid 'xid'. */
static void
put_list(struct seed *s, struct ovs_list *msgs, uint32_t xid)
{
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        put(s, msg, xid);
    }
}

/* A request header of 'raw' with xid 'xid', for the replies to it. */
static struct ofpbuf *
request(const struct seed *s, enum ofpraw raw, uint32_t xid)
{
    struct ofpbuf *msg = ofpraw_alloc_xid(raw, s->version, htonl(xid), 0);
    return msg;
}

/* Parses 'text' in ovs-ofctl's flow syntax into 'fs', with 'ofpacts' to
 * hold its actions. */
static void
parse_flow(const char *text, uint64_t cookie, struct ofputil_flow_stats *fs,
           struct ofpbuf *ofpacts)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, text, NULL, NULL, OFPFC_ADD,
                                         &usable);

    if (error) {
        iovp_fatal(0, "%s: %s", text, error);
    }
    memset(fs, 0, sizeof *fs);
    minimatch_expand(&fm.match, &fs->match);
    fs->cookie = htobe64(cookie);
    fs->table_id = fm.table_id == 0xff ? 0 : fm.table_id;
    fs->priority = fm.priority;
    fs->idle_age = fs->hard_age = -1;
    ofpbuf_clear(ofpacts);
    ofpbuf_put(ofpacts, fm.ofpacts, fm.ofpacts_len);
    fs->ofpacts = ofpacts->data;
    fs->ofpacts_len = ofpacts->size;
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
}

static void
put_hello(struct seed *s)
{
    put(s, ofputil_encode_hello(1u << s->version), 0);
}

/* Appends a flow stats reply to request 'xid' with the flows 'texts'. */
static void
put_flow_stats(struct seed *s, uint32_t xid, const char *const *texts,
               size_t n)
{
    struct ofputil_flow_stats_request fsr;
    struct ovs_list replies;
    struct ofpbuf ofpacts;

    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.table_id = 0xff;
    struct ofpbuf *rq = ofputil_encode_flow_stats_request(
        &fsr, ofputil_protocol_from_ofp_version(s->version));
    ofpmp_init(&replies, rq->data);
    ofpbuf_init(&ofpacts, 64);
    for (size_t i = 0; i < n; i++) {
        struct ofputil_flow_stats fs;
        parse_flow(texts[i], ofctrl_cookie(i), &fs, &ofpacts);
        fs.packet_count = 10 * i;
        fs.byte_count = 1000 * i;
        ofputil_append_flow_stats_reply(&fs, &replies, NULL);
    }
    ofpbuf_uninit(&ofpacts);
    ofpbuf_delete(rq);
    put_list(s, &replies, xid);
}

/* Appends the replies to a bundle: its open (xid 'open'), its commit and
 * the barrier's. */
static void
put_bundle_replies(struct seed *s, uint32_t open, uint32_t commit,
                   uint32_t barrier)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = 1,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ofpbuf *rq = ofputil_encode_bundle_ctrl_request(s->version, &bc);

    bc.type = OFPBCT_OPEN_REPLY;
    put(s, ofputil_encode_bundle_ctrl_reply(rq->data, &bc), open);
    bc.type = OFPBCT_COMMIT_REPLY;
    put(s, ofputil_encode_bundle_ctrl_reply(rq->data, &bc), commit);
    ofpbuf_delete(rq);

    rq = request(s, OFPRAW_OFPT11_BARRIER_REQUEST, barrier);
    put(s, ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY, rq->data, 0),
        barrier);
    ofpbuf_delete(rq);
}

/* Appends an error 'error' in answer to request 'xid'. */
static void
put_error(struct seed *s, enum ofperr error, uint32_t xid)
{
    struct ofpbuf *rq = request(s, OFPRAW_OFPT11_BARRIER_REQUEST, xid);
    put(s, ofperr_encode_reply(error, rq->data), xid);
    ofpbuf_delete(rq);
}

/* Appends a flow monitor reply with xid 'xid' that reports 'event' of
 * flow 'text' (in ovs-ofctl's syntax; NULL for an abbreviated update with
 * xid 'abbrev_xid'). */
static void
put_update(struct seed *s, uint32_t xid, enum ofp_flow_update_event event,
           const char *text, uint64_t cookie)
{
    enum ofputil_protocol protocol
        = ofputil_protocol_from_ofp_version(s->version);
    struct ofputil_flow_update fu;
    struct ovs_list msgs;
    struct ofpbuf ofpacts;

    memset(&fu, 0, sizeof fu);
    ofpbuf_init(&ofpacts, 64);
    fu.event = event;
    if (text) {
        struct ofputil_flow_stats fs;
        parse_flow(text, 0, &fs, &ofpacts);
        fu.reason = event == OFPFME_REMOVED ? OFPRR_DELETE : 0;
        fu.table_id = fs.table_id;
        fu.priority = fs.priority;
        fu.cookie = htobe64(cookie);
        fu.match = fs.match;
        fu.ofpacts = fs.ofpacts;
        fu.ofpacts_len = fs.ofpacts_len;
    } else {
        fu.xid = htonl(4);
    }
    ofputil_start_flow_update(&msgs, protocol);
    ofputil_append_flow_update(&fu, &msgs, NULL);
    ofpbuf_uninit(&ofpacts);
    put_list(s, &msgs, xid);
}

static void
put_pause(struct seed *s, enum ofp_flow_update_event event)
{
    put(s, ofputil_encode_flow_monitor_pause(
            event, ofputil_protocol_from_ofp_version(s->version)), 0);
}

/* Writes 's' to DIR/NAME and frees it. */
static void
write_seed(struct seed *s, const char *dir, const char *name)
{
    test_write_file(dir, name, s->bytes.data, s->bytes.size);
    ofpbuf_uninit(&s->bytes);
}

/* Writes 's' to DIR/PREFIX-of1N, where 1.N is its OpenFlow version, and
 * frees it. */
static void
write_versioned_seed(struct seed *s, const char *dir, const char *prefix)
{
    char *name = iovp_xasprintf("%s-of1%d", prefix, s->version - 1);
    write_seed(s, dir, name);
    free(name);
}

static void
seed_init(struct seed *s, enum ofp_version version)
{
    ofpbuf_init(&s->bytes, 4096);
    s->version = version;
}

int
test_ofp_seeds_main(int argc, char *argv[])
{
    /* What the switch holds at first: one flow that ofctrl wants (as
     * fuzz-ofp.c's desired flows, cookie 0) and one stale.  The put that
     * follows is 1 delete and 3 adds: xids 3 (open), 4 to 7, 8 (commit),
     * 9 (barrier); then reads of counters, 10 and 11. */
    static const char *const held[] = {
        "table=0,priority=0,actions=drop",
        "table=20,priority=7,tcp,tp_dst=80,actions=drop",
    };
    static const enum ofp_version versions[] = {
        OFP15_VERSION, OFP14_VERSION, OFP13_VERSION,
    };
    struct seed s;

    if (argc != 2) {
        iovp_fatal(0, "usage: test-iovp ofp-seeds DIR");
    }
    const char *dir = argv[1];
    mkdir(dir, 0777);

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(versions); i++) {
        enum ofp_version v = versions[i];

        /* The whole conversation: read, bundle, every kind of update. */
        seed_init(&s, v);
        put_hello(&s);
        put_update(&s, 1, OFPFME_ABBREV, NULL, 0);
        put_flow_stats(&s, 2, held, IOVP_ARRAY_SIZE(held));
        put_bundle_replies(&s, 3, 8, 9);
        put_update(&s, 0, OFPFME_ABBREV, NULL, 0);
        put_update(&s, 0, OFPFME_REMOVED,
                   "table=0,priority=0,actions=drop", ofctrl_cookie(0));
        put_update(&s, 0, OFPFME_ADDED,
                   "table=10,priority=9,ip,actions=drop", ofctrl_cookie(7));
        put_update(&s, 0, OFPFME_MODIFIED,
                   "table=30,priority=50,dl_dst=02:00:00:00:00:01,"
                   "actions=NORMAL", ofctrl_cookie(3));
        put_update(&s, 0, OFPFME_ADDED,
                   "table=0,priority=100,in_port=1,actions=drop", 5);
        put_flow_stats(&s, 10, held, 1);
        put_flow_stats(&s, 11, held, 0);
        write_versioned_seed(&s, dir, "conversation");

        /* A flow refused: the bundle fails. */
        seed_init(&s, v);
        put_hello(&s);
        put_flow_stats(&s, 2, held, IOVP_ARRAY_SIZE(held));
        put_error(&s, OFPERR_OFPFMFC_TABLE_FULL, 5);
        put_error(&s, OFPERR_OFPBFC_MSG_FAILED, 8);
        put_bundle_replies(&s, 3, 0, 9);
        write_versioned_seed(&s, dir, "refused-flow");

        /* The monitor paused, updates meanwhile, resumed: a new read. */
        seed_init(&s, v);
        put_hello(&s);
        put_flow_stats(&s, 2, held, IOVP_ARRAY_SIZE(held));
        put_pause(&s, OFPFME_PAUSED);
        put_update(&s, 0, OFPFME_REMOVED,
                   "table=20,priority=7,tcp,tp_dst=80,actions=drop",
                   ofctrl_cookie(1));
        put_pause(&s, OFPFME_RESUMED);
        put_bundle_replies(&s, 3, 8, 9);
        put_flow_stats(&s, 10, held, IOVP_ARRAY_SIZE(held));
        write_versioned_seed(&s, dir, "paused");
    }

    /* The monitor refused. */
    seed_init(&s, OFP15_VERSION);
    put_hello(&s);
    put_error(&s, OFPERR_OFPMOFC_UNKNOWN, 1);
    put_flow_stats(&s, 2, held, 1);
    write_seed(&s, dir, "monitor-refused");
    return 0;
}
