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

/* "test-iovp nb-seeds DIR": writes into DIR the seed corpus of
 * tests/fuzz-northbound.c, controllers' byte streams encoded by
 * libopenvswitch in OpenFlow 1.3, 1.4 and 1.5: a hello, the requests that
 * os-ken and ovs-ofctl send (features, configuration, descriptions,
 * roles, asynchronous configuration, flow_mods with every kind of action
 * the northbound takes, groups, meters, bundles, packet-outs, statistics)
 * and, with the top bit of their xids set, the bridge's replies (see
 * fuzz-northbound.c). */

#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openvswitch/list.h>
#include <openvswitch/match.h>
#include <openvswitch/meta-flow.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofp-bundle.h>
#include <openvswitch/ofp-connection.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-group.h>
#include <openvswitch/ofp-meter.h>
#include <openvswitch/ofp-monitor.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-packet.h>
#include <openvswitch/ofp-parse.h>
#include <openvswitch/ofp-port.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofp-switch.h>
#include <openvswitch/ofp-table.h>
#include <openvswitch/ofp-util.h>
#include <openvswitch/ofpbuf.h>
#include <openflow/openflow-1.1.h>
#include <openflow/openflow-1.2.h>

#include "lib/util.h"
#include "tests/test-iovp.h"

struct seed {
    struct ofpbuf bytes;
    enum ofp_version version;
    uint32_t xid;
};

/* Appends 'msg' (freed) to 's', with the next xid, or with 'bridge_xid'
 * (top bit set: the bridge's) if it is nonzero. */
static void
put(struct seed *s, struct ofpbuf *msg, uint32_t bridge_xid)
{
    struct ofp_header *oh;

    ofpmsg_update_length(msg);
    oh = msg->data;
    oh->xid = htonl(bridge_xid ? bridge_xid : s->xid++);
    ofpbuf_put(&s->bytes, msg->data, msg->size);
    ofpbuf_delete(msg);
}

static enum ofputil_protocol
protocol(const struct seed *s)
{
    return ofputil_protocol_from_ofp_version(s->version);
}

static void
put_flow_mod(struct seed *s, const char *text, int command)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, text, NULL, NULL, command,
                                         &usable);
    if (error) {
        iovp_fatal(0, "%s: %s", text, error);
    }
    put(s, ofputil_encode_flow_mod(&fm, protocol(s)), 0);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
}

static void
put_group_mod(struct seed *s, const char *text, int command)
{
    struct ofputil_group_mod gm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_group_mod_str(&gm, command, text, NULL, NULL,
                                          &usable);
    if (error) {
        iovp_fatal(0, "%s: %s", text, error);
    }
    put(s, ofputil_encode_group_mod(s->version, &gm, NULL, -1), 0);
    ofputil_uninit_group_mod(&gm);
}

static void
put_meter_mod(struct seed *s, const char *text)
{
    struct ofputil_meter_mod mm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_meter_mod_str(&mm, text, OFPMC13_ADD, &usable);
    if (error) {
        iovp_fatal(0, "%s: %s", text, error);
    }
    put(s, ofputil_encode_meter_mod(s->version, &mm), 0);
    free(mm.meter.bands);
}

static void
put_flow_stats_request(struct seed *s, const char *text, bool aggregate)
{
    struct ofputil_flow_stats_request fsr;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_stats_request_str(&fsr, aggregate, text,
                                                   NULL, NULL, &usable);
    if (error) {
        iovp_fatal(0, "%s: %s", text, error);
    }
    put(s, ofputil_encode_flow_stats_request(&fsr, protocol(s)), 0);
}

static void
seed_init(struct seed *s, enum ofp_version version)
{
    ofpbuf_init(&s->bytes, 4096);
    s->version = version;
    s->xid = 1;
    put(s, ofputil_encode_hello(1u << version), 0);
}

static void
write_seed(struct seed *s, const char *dir, const char *name)
{
    char *file = iovp_xasprintf("%s-of1%d", name, s->version - 1);

    test_write_file(dir, file, s->bytes.data, s->bytes.size);
    free(file);
    ofpbuf_uninit(&s->bytes);
}

/* The handshake of a controller: what os-ken and ovs-ofctl ask first. */
static void
seed_handshake(struct seed *s)
{
    struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NORMAL, .miss_send_len = UINT16_MAX,
    };
    struct ofputil_async_cfg async = ofputil_async_cfg_default(s->version);
    struct ofputil_role_request rr = {
        .role = OFPCR12_ROLE_PRIMARY, .have_generation_id = true,
        .generation_id = 7,
    };

    put(s, ofpraw_alloc(OFPRAW_OFPT_FEATURES_REQUEST, s->version, 0), 0);
    put(s, ofputil_encode_set_config(&config, s->version), 0);
    put(s, ofpraw_alloc(OFPRAW_OFPT_GET_CONFIG_REQUEST, s->version, 0), 0);
    put(s, ofpraw_alloc(OFPRAW_OFPST_DESC_REQUEST, s->version, 0), 0);
    put(s, ofputil_encode_port_desc_stats_request(s->version, OFPP_ANY), 0);
    put(s, ofputil_encode_table_features_request(s->version), 0);
    put(s, ofpraw_alloc(OFPRAW_OFPST_TABLE_REQUEST, s->version, 0), 0);
    put(s, ofputil_encode_dump_ports_request(s->version, OFPP_ANY), 0);
    put(s, ofputil_encode_set_async_config(&async, UINT32_MAX, s->version),
        0);
    put(s, ofpraw_alloc(s->version == OFP13_VERSION
                        ? OFPRAW_OFPT13_GET_ASYNC_REQUEST
                        : OFPRAW_OFPT14_GET_ASYNC_REQUEST, s->version, 0), 0);
    struct ofpbuf *role = ofpraw_alloc(OFPRAW_OFPT12_ROLE_REQUEST,
                                       s->version, 0);
    struct ofp12_role_request *orr = ofpbuf_put_zeros(role, sizeof *orr);
    orr->role = htonl(rr.role);
    orr->generation_id = htobe64(rr.generation_id);
    put(s, role, 0);
    put(s, ofputil_encode_barrier_request(s->version), 0);
}

static void
seed_flows(struct seed *s)
{
    static const char *const adds[] = {
        "priority=0,actions=CONTROLLER:65535",
        "priority=10,in_port=1,actions=output:2",
        "priority=10,in_port=2,dl_vlan=5,actions=pop_vlan,output:IN_PORT",
        "priority=5,ip,nw_dst=10.0.0.0/24,actions=FLOOD,ALL",
        "table=1,priority=3,tcp,tp_dst=80,"
        "actions=write_metadata:0x5/0xff,goto_table:2",
        "table=2,metadata=0x5/0xff,actions=write_actions(output:2)",
        "table=3,actions=meter:1,push_vlan:0x8100,"
        "set_field:4102->vlan_vid,group:1",
        "cookie=0x77,idle_timeout=5,hard_timeout=10,send_flow_rem,"
        "priority=8,udp,actions=drop",
        "priority=9,actions=resubmit(,5)",
        "priority=9,reg0=1,actions=drop",
        "priority=9,actions=LOCAL",
        "table=40,actions=drop",
    };

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(adds); i++) {
        put_flow_mod(s, adds[i], OFPFC_ADD);
    }
    put_flow_mod(s, "in_port=1,actions=output:4", OFPFC_MODIFY);
    put_flow_mod(s, "cookie=0x77/-1", OFPFC_DELETE);
    put_flow_mod(s, "priority=10,in_port=2", OFPFC_DELETE_STRICT);
    put_flow_mod(s, "out_port=2", OFPFC_DELETE);
    put_flow_stats_request(s, "", false);
    put_flow_stats_request(s, "table=1,out_port=2", false);
    put_flow_stats_request(s, "", true);
    put(s, ofputil_encode_barrier_request(s->version), 0);
}

static void
seed_groups_meters(struct seed *s)
{
    put_group_mod(s, "group_id=1,type=all,bucket=output:2,bucket=output:1",
                  OFPGC11_ADD);
    put_group_mod(s, "group_id=2,type=select,bucket=output:2,"
                  "bucket=output:IN_PORT", OFPGC11_ADD);
    put_group_mod(s, "group_id=3,type=ff,bucket=watch_port:1,output:1",
                  OFPGC11_ADD);
    put_group_mod(s, "group_id=2147483648,type=all", OFPGC11_ADD);
    put_group_mod(s, "group_id=1", OFPGC11_DELETE);
    put_meter_mod(s, "meter=1,kbps,band=type=drop,rate=1000");
    put_meter_mod(s, "meter=2,pktps,band=type=dscp_remark,rate=10,"
                  "prec_level=1");
    put(s, ofputil_encode_group_desc_request(s->version, OFPG_ALL), 0);
    put(s, ofputil_encode_group_stats_request(s->version, OFPG_ALL), 0);
    put(s, ofputil_encode_group_features_request(s->version), 0);
    put(s, ofputil_encode_meter_request(s->version, OFPUTIL_METER_CONFIG,
                                        OFPM13_ALL), 0);
    put(s, ofputil_encode_meter_request(s->version, OFPUTIL_METER_STATS,
                                        OFPM13_ALL), 0);
    put(s, ofputil_encode_meter_request(s->version, OFPUTIL_METER_FEATURES,
                                        0), 0);
}

static void
seed_bundle(struct seed *s)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = 9, .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;

    put(s, ofputil_encode_bundle_ctrl_request(s->version, &bc), 0);
    free(parse_ofp_flow_mod_str(&fm, "in_port=1,actions=output:2", NULL,
                                NULL, OFPFC_ADD, &usable));
    struct ofpbuf *inner = ofputil_encode_flow_mod(&fm, protocol(s));
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    ((struct ofp_header *) inner->data)->xid = htonl(s->xid);
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = 9, .flags = bc.flags, .msg = inner->data,
    };
    put(s, ofputil_encode_bundle_add(s->version, &bam), 0);
    ofpbuf_delete(inner);
    bc.type = OFPBCT_COMMIT_REQUEST;
    put(s, ofputil_encode_bundle_ctrl_request(s->version, &bc), 0);
}

static void
seed_packet_out(struct seed *s)
{
    static const uint8_t frame[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0x99, 0x08, 0x06,
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x99, 10, 0, 0, 9,
        0, 0, 0, 0, 0, 0, 10, 0, 0, 4,
    };
    uint64_t stub[64];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofputil_packet_out po = {
        .packet = frame, .packet_len = sizeof frame, .buffer_id = UINT32_MAX,
    };

    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, OFPP_CONTROLLER);
    ofpact_put_OUTPUT(&ofpacts)->port = (OVS_FORCE ofp_port_t) 2;
    ofpact_put_OUTPUT(&ofpacts)->port = OFPP_TABLE;
    po.ofpacts = ofpacts.data;
    po.ofpacts_len = ofpacts.size;
    put(s, ofputil_encode_packet_out(&po, protocol(s)), 0);
    ofpbuf_uninit(&ofpacts);
}

/* The bridge's answers, by the order of what the switch sent it (its
 * set_config, set_async, port description request and flow monitor come
 * first, 0 to 3). */
static void
seed_bridge_replies(struct seed *s)
{
    for (uint32_t i = 4; i < 10; i++) {
        put(s, ofpraw_alloc(OFPRAW_OFPT11_BARRIER_REPLY, OFP15_VERSION, 0),
            0x80000000 | i);
        struct ofpbuf *fm = ofpraw_alloc(OFPRAW_OFPT11_FLOW_MOD,
                                         OFP15_VERSION, 0);
        put(s, ofperr_encode_reply(OFPERR_OFPFMFC_OVERLAP, fm->data),
            0x80000000 | i);
        ofpbuf_delete(fm);
    }
}

/* The bridge's own messages about its table 100, the controller's table 0,
 * which the switch copies for offload: its port descriptions (the answer
 * to the switch's third message) and a port status, its flow monitor's
 * initial flows (the answer to the fourth) and an update; then the
 * controller's changes to that table, which the switch follows. */
static void
seed_table0(struct seed *s)
{
    struct ofpbuf *request = ofputil_encode_port_desc_stats_request(
        OFP15_VERSION, OFPP_ANY);
    struct ofputil_phy_port pp;
    struct ovs_list replies;
    struct ofpbuf *msg;

    memset(&pp, 0, sizeof pp);
    pp.port_no = (OVS_FORCE ofp_port_t) 1;
    strcpy(pp.name, "vm1");
    pp.config = OFPUTIL_PC_NO_FWD;
    ofpmp_init(&replies, request->data);
    ofputil_append_port_desc_stats_reply(&pp, &replies);
    LIST_FOR_EACH_POP (msg, list_node, &replies) {
        put(s, msg, 0x80000000 | 2);
    }
    ofpbuf_delete(request);

    pp.config = 0;
    struct ofputil_port_status ps = { .reason = OFPPR_MODIFY, .desc = pp };
    put(s, ofputil_encode_port_status(&ps, OFPUTIL_P_OF15_OXM),
        0x80000000 | 2);

    /* The bridge's form of "output:2" (northbound/xlate.h). */
    uint64_t stub[64];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpact_nest *clone = ofpact_put_CLONE(&ofpacts);
    size_t ofs = (char *) clone - (char *) ofpacts.data;
    ovs_be32 reg7 = htonl(2);
    ofpact_put_set_field(&ofpacts, mf_from_id(MFF_REG7), &reg7, NULL);
    struct ofpact_resubmit *r = ofpact_put_RESUBMIT(&ofpacts);
    r->in_port = OFPP_IN_PORT;
    r->table_id = 60;
    clone = ofpbuf_at_assert(&ofpacts, ofs, sizeof *clone);
    ofpacts.header = clone;
    ofpact_finish_CLONE(&ofpacts, &clone);

    struct ofputil_flow_update fu;
    memset(&fu, 0, sizeof fu);
    fu.event = OFPFME_INITIAL;
    fu.table_id = 100;
    fu.priority = 10;
    match_init_catchall(&fu.match);
    match_set_in_port(&fu.match, (OVS_FORCE ofp_port_t) 1);
    fu.ofpacts = ofpacts.data;
    fu.ofpacts_len = ofpacts.size;
    ofputil_start_flow_update(&replies, OFPUTIL_P_OF15_OXM);
    ofputil_append_flow_update(&fu, &replies, NULL);
    fu.priority = 20;
    match_set_dl_type(&fu.match, htons(0x0800));
    fu.ofpacts = NULL;
    fu.ofpacts_len = 0;
    ofputil_append_flow_update(&fu, &replies, NULL);
    LIST_FOR_EACH_POP (msg, list_node, &replies) {
        put(s, msg, 0x80000000 | 3);
    }

    fu.event = OFPFME_ADDED;
    fu.priority = 30;
    fu.hard_timeout = 5;
    ofputil_start_flow_update(&replies, OFPUTIL_P_OF15_OXM);
    ofputil_append_flow_update(&fu, &replies, NULL);
    LIST_FOR_EACH_POP (msg, list_node, &replies) {
        put(s, msg, 0x80000000 | 3);
    }
    ofpbuf_uninit(&ofpacts);

    put_flow_mod(s, "table=0,priority=40,in_port=1,ip,actions=output:2",
                 OFPFC_ADD);
    put_flow_mod(s, "table=0,priority=10,in_port=1", OFPFC_DELETE_STRICT);
    put_flow_mod(s, "table=0,ip", OFPFC_DELETE);
    put_flow_mod(s, "priority=5,udp,actions=drop", OFPFC_ADD);
    put(s, ofputil_encode_barrier_request(s->version), 0);
}

int
test_nb_seeds_main(int argc, char *argv[])
{
    static const enum ofp_version versions[] = {
        OFP13_VERSION, OFP14_VERSION, OFP15_VERSION,
    };
    struct seed s;

    if (argc != 2) {
        iovp_fatal(0, "usage: test-iovp nb-seeds DIR");
    }
    const char *dir = argv[1];
    mkdir(dir, 0777);

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(versions); i++) {
        seed_init(&s, versions[i]);
        seed_handshake(&s);
        write_seed(&s, dir, "handshake");

        seed_init(&s, versions[i]);
        seed_flows(&s);
        seed_bridge_replies(&s);
        write_seed(&s, dir, "flows");

        seed_init(&s, versions[i]);
        seed_table0(&s);
        seed_bridge_replies(&s);
        write_seed(&s, dir, "table0");

        seed_init(&s, versions[i]);
        seed_groups_meters(&s);
        seed_packet_out(&s);
        seed_bundle(&s);
        seed_bridge_replies(&s);
        write_seed(&s, dir, "groups");
    }
    return 0;
}
