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

#include "northbound/xlate.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openvswitch/match.h>
#include <openvswitch/meta-flow.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofp-table.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "agent/pipeline-tables.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(nb_xlate);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* If 'bridge_table' is one of the controller's tables, stores its number
 * for the controller in '*table' and returns true. */
bool
nbx_table_from_bridge(uint8_t bridge_table, uint8_t *table)
{
    if (bridge_table >= PIPELINE_OF_TABLE0
        && bridge_table < PIPELINE_OF_TABLE0 + PIPELINE_OF_N_TABLES) {
        *table = bridge_table - PIPELINE_OF_TABLE0;
        return true;
    }
    return false;
}

/* Returns the bridge's table for the controller's 'table', which must be
 * below PIPELINE_OF_N_TABLES. */
uint8_t
nbx_table_to_bridge(uint8_t table)
{
    ovs_assert(table < PIPELINE_OF_N_TABLES);
    return PIPELINE_OF_TABLE0 + table;
}

/* The fields that the controller may match and set: OpenFlow's own (the
 * OXM basic class) that OVS supports. */
static const enum mf_field_id nbx_fields[] = {
    MFF_PACKET_TYPE, MFF_IN_PORT, MFF_IN_PORT_OXM, MFF_METADATA,
    MFF_ETH_SRC, MFF_ETH_DST, MFF_ETH_TYPE, MFF_VLAN_VID, MFF_VLAN_PCP,
    MFF_MPLS_LABEL, MFF_MPLS_TC, MFF_MPLS_BOS, MFF_MPLS_TTL,
    MFF_IPV4_SRC, MFF_IPV4_DST, MFF_IPV6_SRC, MFF_IPV6_DST, MFF_IPV6_LABEL,
    MFF_IP_PROTO, MFF_IP_DSCP, MFF_IP_DSCP_SHIFTED, MFF_IP_ECN, MFF_IP_TTL,
    MFF_ARP_OP, MFF_ARP_SPA, MFF_ARP_TPA, MFF_ARP_SHA, MFF_ARP_THA,
    MFF_TCP_SRC, MFF_TCP_DST, MFF_TCP_FLAGS, MFF_UDP_SRC, MFF_UDP_DST,
    MFF_SCTP_SRC, MFF_SCTP_DST, MFF_ICMPV4_TYPE, MFF_ICMPV4_CODE,
    MFF_ICMPV6_TYPE, MFF_ICMPV6_CODE, MFF_ND_TARGET, MFF_ND_SLL,
    MFF_ND_TLL, MFF_TUN_ID,
};

/* Returns true if the controller may use field 'id'. */
static bool
nbx_field_allowed(enum mf_field_id id)
{
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(nbx_fields); i++) {
        if (nbx_fields[i] == id) {
            return true;
        }
    }
    return false;
}

static void
nbx_bitmap_set(unsigned long *bm, size_t i)
{
    size_t bits = sizeof *bm * CHAR_BIT;

    bm[i / bits] |= 1UL << (i % bits);
}

/* The actions that the controller's flows may have. */
static const enum ofpact_type nbx_ofpacts[] = {
    OFPACT_OUTPUT, OFPACT_GROUP, OFPACT_SET_FIELD, OFPACT_STRIP_VLAN,
    OFPACT_PUSH_VLAN, OFPACT_SET_IP_TTL, OFPACT_DEC_TTL,
    OFPACT_SET_MPLS_TTL, OFPACT_DEC_MPLS_TTL, OFPACT_PUSH_MPLS,
    OFPACT_POP_MPLS, OFPACT_SET_QUEUE,
};

/* Stores in '*tf' the features of the controller's table 'table': what
 * its flows may match, set and do, and which tables they may go to. */
void
nbx_table_features(uint8_t table, struct ofputil_table_features *tf)
{
    memset(tf, 0, sizeof *tf);
    tf->table_id = table;
    snprintf(tf->name, sizeof tf->name, "table%"PRIu8, table);
    tf->metadata_match = OVS_BE64_MAX;
    tf->metadata_write = OVS_BE64_MAX;
    tf->max_entries = 1000000;
    tf->any_properties = true;
    tf->supports_eviction = -1;
    tf->supports_vacancy_events = -1;

    struct ofputil_table_instruction_features *inst = &tf->nonmiss;
    for (uint8_t t = table + 1; t < PIPELINE_OF_N_TABLES; t++) {
        nbx_bitmap_set(inst->next, t);
    }
    inst->instructions = ((1u << OVSINST_OFPIT13_METER)
                          | (1u << OVSINST_OFPIT11_APPLY_ACTIONS)
                          | (1u << OVSINST_OFPIT11_CLEAR_ACTIONS)
                          | (1u << OVSINST_OFPIT11_WRITE_ACTIONS)
                          | (1u << OVSINST_OFPIT11_WRITE_METADATA)
                          | (table + 1 < PIPELINE_OF_N_TABLES
                             ? 1u << OVSINST_OFPIT11_GOTO_TABLE : 0));
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(nbx_ofpacts); i++) {
        inst->apply.ofpacts |= UINT64_C(1) << nbx_ofpacts[i];
        inst->write.ofpacts |= UINT64_C(1) << nbx_ofpacts[i];
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(nbx_fields); i++) {
        enum mf_field_id id = nbx_fields[i];
        const struct mf_field *mf = mf_from_id(id);

        nbx_bitmap_set(tf->match.bm, id);
        nbx_bitmap_set(tf->wildcard.bm, id);
        if (mf->maskable != MFM_NONE) {
            nbx_bitmap_set(tf->mask.bm, id);
        }
        if (mf->writable && id != MFF_IN_PORT && id != MFF_IN_PORT_OXM
            && id != MFF_TUN_ID) {
            nbx_bitmap_set(inst->apply.set_fields.bm, id);
            nbx_bitmap_set(inst->write.set_fields.bm, id);
        }
    }
    tf->miss = tf->nonmiss;
}

/* Returns 0 if the controller may match what 'm' matches: only fields of
 * nbx_fields[] (by their bits: VLAN_VID and VLAN_PCP cover the TCI, for
 * one), else OFPERR_OFPBMC_BAD_FIELD. */
enum ofperr
nbx_check_match(const struct match *m)
{
    static struct flow_wildcards allowed;
    static bool inited;

    if (!inited) {
        /* Each field's bits apart, then together: masking a field in
         * wildcards that have others sets the flow's member as a whole
         * (ICMP's type, a byte, would clear the top byte of tp_src). */
        memset(&allowed, 0, sizeof allowed);
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(nbx_fields); i++) {
            struct flow_wildcards one;
            memset(&one, 0, sizeof one);
            mf_mask_field(mf_from_id(nbx_fields[i]), &one);

            uint8_t *dst = (uint8_t *) &allowed.masks;
            const uint8_t *src = (const uint8_t *) &one.masks;
            for (size_t j = 0; j < sizeof one.masks; j++) {
                dst[j] |= src[j];
            }
        }
        inited = true;
    }

    /* A word at a time: 'struct flow' is a whole number of them. */
    const uint64_t *want = (const uint64_t *) &m->wc.masks;
    const uint64_t *may = (const uint64_t *) &allowed.masks;
    for (size_t i = 0; i < sizeof m->wc.masks / sizeof *want; i++) {
        if (want[i] & ~may[i]) {
            return OFPERR_OFPBMC_BAD_FIELD;
        }
    }
    return 0;
}

/* Clears from 'm', a match that the bridge reported (a packet-in's
 * metadata), every field that the controller may not see. */
void
nbx_strip_match(struct match *m)
{
    struct match stripped;

    match_init_catchall(&stripped);
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(nbx_fields); i++) {
        const struct mf_field *mf = mf_from_id(nbx_fields[i]);
        union mf_value value, mask;

        if (mf_is_all_wild(mf, &m->wc)) {
            continue;
        }
        mf_get(mf, m, &value, &mask);
        mf_set(mf, &value, &mask, &stripped, NULL);
    }
    *m = stripped;
}

static uint16_t
nbx_port_u16(ofp_port_t port)
{
    return (OVS_FORCE uint16_t) port;
}

/* Closes the clone that starts at offset 'ofs' of 'ofpacts'. */
static void
nbx_finish_clone(struct ofpbuf *ofpacts, size_t ofs)
{
    struct ofpact_nest *clone = ofpbuf_at_assert(ofpacts, ofs,
                                                 sizeof *clone);
    ofpacts->header = clone;
    ofpact_finish_CLONE(ofpacts, &clone);
}

static void
nbx_put_resubmit(struct ofpbuf *ofpacts, uint8_t table)
{
    struct ofpact_resubmit *r = ofpact_put_RESUBMIT(ofpacts);

    r->in_port = OFPP_IN_PORT;
    r->table_id = table;
}

/* Closes the clone begun at offset 'ofs' of 'ofpacts', unless 'ofs' is
 * SIZE_MAX (no clone: in an action set). */
static void
nbx_end(struct ofpbuf *ofpacts, size_t ofs)
{
    if (ofs != SIZE_MAX) {
        nbx_finish_clone(ofpacts, ofs);
    }
}

/* Begins in 'ofpacts' the clone that an output is, unless in an action set
 * ('action_set'), which executes one output, as a copy, at its end; returns
 * what nbx_end() needs. */
static size_t
nbx_begin(struct ofpbuf *ofpacts, bool action_set)
{
    size_t ofs = ofpacts->size;

    if (action_set) {
        return SIZE_MAX;
    }
    ofpact_put_CLONE(ofpacts);
    return ofs;
}

static void
nbx_put_output__(struct ofpbuf *ofpacts, ofp_port_t port, bool action_set)
{
    size_t ofs = nbx_begin(ofpacts, action_set);
    ovs_be32 reg7 = htonl(nbx_port_u16(port));

    ofpact_put_set_field(ofpacts, mf_from_id(MFF_REG7), &reg7, NULL);
    nbx_put_resubmit(ofpacts, PIPELINE_T_OF_OUTPUT);
    nbx_end(ofpacts, ofs);
}

/* Puts in 'ofpacts' what the controller's "output:'port'" becomes for a
 * port number (not a reserved port): a clone that takes the frame, as it
 * is, to the port's output through its egress ACL (table 60). */
void
nbx_put_output(struct ofpbuf *ofpacts, ofp_port_t port)
{
    nbx_put_output__(ofpacts, port, false);
}

/* Puts in 'ofpacts' the output to the port a frame came in on. */
static void
nbx_put_in_port(struct ofpbuf *ofpacts, bool action_set)
{
    size_t ofs = nbx_begin(ofpacts, action_set);
    struct ofpact_reg_move *move;
    ovs_be16 none = htons(0);

    move = ofpact_put_REG_MOVE(ofpacts);
    move->src = (struct mf_subfield) { mf_from_id(MFF_IN_PORT), 0, 16 };
    move->dst = (struct mf_subfield) { mf_from_id(MFF_REG7), 0, 16 };
    ofpact_put_set_field(ofpacts, mf_from_id(MFF_IN_PORT), &none, NULL);
    nbx_put_resubmit(ofpacts, PIPELINE_T_OF_OUTPUT);
    nbx_end(ofpacts, ofs);
}

/* Puts in 'ofpacts' what sends the frame through bridge table 'table' (the
 * controller's FLOOD or ALL). */
static void
nbx_put_flood(struct ofpbuf *ofpacts, uint8_t table, bool action_set)
{
    size_t ofs = nbx_begin(ofpacts, action_set);

    nbx_put_resubmit(ofpacts, table);
    nbx_end(ofpacts, ofs);
}

/* Translates the controller's output to 'port' (with 'max_len', for the
 * controller) into 'out'. */
static enum ofperr
nbx_output_to_bridge(ofp_port_t port, uint16_t max_len,
                     enum nbx_context context, struct ofpbuf *out)
{
    bool action_set = (context == NBX_ACTION_SET
                       || context == NBX_WRITE_ACTIONS);

    if (context == NBX_WRITE_ACTIONS
        && (port == OFPP_CONTROLLER || port == OFPP_IN_PORT)) {
        /* An action set that several tables write keeps only the last
         * output, but OVS chooses among kinds of final action, not by
         * order, and an IN_PORT's change of in_port would outlive its
         * output: refused, rather than sent elsewhere. */
        return OFPERR_OFPBAC_UNSUPPORTED_ORDER;
    }

    if (nbx_port_u16(port) < nbx_port_u16(OFPP_MAX)) {
        nbx_put_output__(out, port, action_set);
    } else if (port == OFPP_IN_PORT) {
        nbx_put_in_port(out, action_set);
    } else if (port == OFPP_FLOOD) {
        nbx_put_flood(out, PIPELINE_T_OF_FLOOD, action_set);
    } else if (port == OFPP_ALL) {
        nbx_put_flood(out, PIPELINE_T_OF_ALL, action_set);
    } else if (port == OFPP_CONTROLLER) {
        struct ofpact_output *o = ofpact_put_OUTPUT(out);
        o->port = OFPP_CONTROLLER;
        o->max_len = max_len;
    } else if (port == OFPP_TABLE && context == NBX_PACKET_OUT) {
        nbx_put_resubmit(out, PIPELINE_OF_TABLE0);
    } else {
        /* LOCAL, NORMAL, ANY, TABLE in a flow: no such port here. */
        return OFPERR_OFPBAC_BAD_OUT_PORT;
    }
    return 0;
}

static enum ofperr nbx_list_to_bridge(const struct ofpact *, size_t len,
                                      enum nbx_context, struct ofpbuf *out);

/* Translates one action 'a' of the controller's into 'out', in
 * 'context'. */
static enum ofperr
nbx_action_to_bridge(const struct ofpact *a, enum nbx_context context,
                     struct ofpbuf *out)
{
    bool action_set = (context == NBX_ACTION_SET
                       || context == NBX_WRITE_ACTIONS);

    switch (a->type) {
    case OFPACT_OUTPUT: {
        const struct ofpact_output *o = ofpact_get_OUTPUT(a);
        return nbx_output_to_bridge(o->port, o->max_len, context, out);
    }

    case OFPACT_SET_FIELD: {
        const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
        if (!nbx_field_allowed(sf->field->id)
            || sf->field->id == MFF_IN_PORT
            || sf->field->id == MFF_IN_PORT_OXM
            || sf->field->id == MFF_TUN_ID) {
            return OFPERR_OFPBAC_BAD_SET_TYPE;
        }
        break;
    }

    case OFPACT_REG_MOVE: {
        /* OpenFlow 1.5's copy_field. */
        const struct ofpact_reg_move *move = ofpact_get_REG_MOVE(a);
        if (!nbx_field_allowed(move->src.field->id)
            || !nbx_field_allowed(move->dst.field->id)
            || move->dst.field->id == MFF_IN_PORT
            || move->dst.field->id == MFF_IN_PORT_OXM
            || move->dst.field->id == MFF_TUN_ID) {
            return OFPERR_OFPBAC_BAD_SET_TYPE;
        }
        break;
    }

    case OFPACT_GROUP:
        if (ofpact_get_GROUP(a)->group_id >= NBX_ID_LIMIT) {
            return OFPERR_OFPBAC_BAD_OUT_GROUP;
        }
        break;

    case OFPACT_METER:
        if (ofpact_get_METER(a)->meter_id >= NBX_ID_LIMIT) {
            return OFPERR_OFPBAC_BAD_METER;
        }
        break;

    case OFPACT_GOTO_TABLE: {
        uint8_t table = ofpact_get_GOTO_TABLE(a)->table_id;
        if (table >= PIPELINE_OF_N_TABLES) {
            return OFPERR_OFPBIC_BAD_TABLE_ID;
        }
        ofpact_put_GOTO_TABLE(out)->table_id = nbx_table_to_bridge(table);
        return 0;
    }

    case OFPACT_WRITE_ACTIONS: {
        const struct ofpact_nest *on = ofpact_get_WRITE_ACTIONS(a);
        size_t ofs = out->size;
        enum ofperr error;

        ofpact_put_WRITE_ACTIONS(out);
        error = nbx_list_to_bridge(on->actions,
                                   ofpact_nest_get_action_len(on),
                                   NBX_WRITE_ACTIONS, out);
        if (!error) {
            struct ofpact_nest *nest = ofpbuf_at_assert(out, ofs,
                                                        sizeof *nest);
            out->header = nest;
            ofpact_finish_WRITE_ACTIONS(out, &nest);
        }
        return error;
    }

    case OFPACT_SET_VLAN_VID:
    case OFPACT_SET_VLAN_PCP:
    case OFPACT_STRIP_VLAN:
    case OFPACT_PUSH_VLAN:
    case OFPACT_SET_ETH_SRC:
    case OFPACT_SET_ETH_DST:
    case OFPACT_SET_IPV4_SRC:
    case OFPACT_SET_IPV4_DST:
    case OFPACT_SET_IP_DSCP:
    case OFPACT_SET_IP_ECN:
    case OFPACT_SET_IP_TTL:
    case OFPACT_SET_L4_SRC_PORT:
    case OFPACT_SET_L4_DST_PORT:
    case OFPACT_DEC_TTL:
    case OFPACT_SET_MPLS_LABEL:
    case OFPACT_SET_MPLS_TC:
    case OFPACT_SET_MPLS_TTL:
    case OFPACT_DEC_MPLS_TTL:
    case OFPACT_PUSH_MPLS:
    case OFPACT_POP_MPLS:
    case OFPACT_SET_QUEUE:
    case OFPACT_CLEAR_ACTIONS:
    case OFPACT_WRITE_METADATA:
        break;

    case OFPACT_CONTROLLER: {
        /* Open vSwitch's form of output to the controller: to this
         * controller (id 0), without a meter of iovp's or a pause, whose
         * continuation the northbound could not relay. */
        const struct ofpact_controller *oc = ofpact_get_CONTROLLER(a);
        if (action_set) {
            return OFPERR_OFPBAC_UNSUPPORTED_ORDER;
        } else if (oc->controller_id || oc->pause
                   || (oc->meter_id != NX_CTLR_NO_METER
                       && oc->meter_id >= NBX_ID_LIMIT)) {
            return OFPERR_OFPBAC_BAD_ARGUMENT;
        }
        break;
    }

    default:
        /* Open vSwitch's own actions (resubmit, learn, ct, ...): the
         * controller's tables hold OpenFlow's only. */
        VLOG_DBG_RL(&rl, "action %s is not supported",
                    ofpact_name(a->type));
        return OFPERR_OFPBAC_BAD_TYPE;
    }

    ofpbuf_put(out, a, OFPACT_ALIGN(a->len));
    return 0;
}

static enum ofperr
nbx_list_to_bridge(const struct ofpact *ofpacts, size_t len,
                   enum nbx_context context, struct ofpbuf *out)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        enum ofperr error = nbx_action_to_bridge(a, context, out);
        if (error) {
            return error;
        }
    }
    return 0;
}

/* Translates the controller's actions and instructions, the 'len' bytes
 * at 'ofpacts', into 'out' (appended), in 'context'.  Returns 0, or the
 * error that OVS would give for an action it does not support. */
enum ofperr
nbx_actions_to_bridge(const struct ofpact *ofpacts, size_t len,
                      enum nbx_context context, struct ofpbuf *out)
{
    size_t start = out->size;
    enum ofperr error = nbx_list_to_bridge(ofpacts, len, context, out);

    if (error) {
        out->size = start;
    }
    return error;
}

/* If the 'n' actions at 'inner' (a clone's, or an action set's run up to
 * a resubmit) are an output that translation made, returns its port,
 * else OFPP_NONE. */
static ofp_port_t
nbx_output_from_bridge(const struct ofpact *const *inner, size_t n)
{
    if (!n || inner[n - 1]->type != OFPACT_RESUBMIT) {
        return OFPP_NONE;
    }
    uint8_t table = ofpact_get_RESUBMIT(inner[n - 1])->table_id;
    if (n == 1 && table == PIPELINE_T_OF_FLOOD) {
        return OFPP_FLOOD;
    } else if (n == 1 && table == PIPELINE_T_OF_ALL) {
        return OFPP_ALL;
    } else if (n == 2 && table == PIPELINE_T_OF_OUTPUT
               && inner[0]->type == OFPACT_SET_FIELD
               && ofpact_get_SET_FIELD(inner[0])->field->id == MFF_REG7) {
        uint32_t port = ntohl(ofpact_get_SET_FIELD(inner[0])->value->be32);
        return (OVS_FORCE ofp_port_t) port;
    } else if (n == 3 && table == PIPELINE_T_OF_OUTPUT
               && inner[0]->type == OFPACT_REG_MOVE) {
        return OFPP_IN_PORT;
    }
    return OFPP_NONE;
}

/* Returns true if 'a' is an action that translation puts before an
 * output's resubmit. */
static bool
nbx_is_output_prefix(const struct ofpact *a)
{
    return ((a->type == OFPACT_SET_FIELD
             && (ofpact_get_SET_FIELD(a)->field->id == MFF_REG7
                 || ofpact_get_SET_FIELD(a)->field->id == MFF_IN_PORT))
            || (a->type == OFPACT_REG_MOVE
                && ofpact_get_REG_MOVE(a)->dst.field->id == MFF_REG7));
}

/* Translates the actions of a bridge flow of the controller's tables (or,
 * with 'action_set', of an action set or a group's bucket), the 'len'
 * bytes at 'ofpacts', back into the controller's, into 'out' (appended). */
void
nbx_actions_from_bridge(const struct ofpact *ofpacts, size_t len,
                        bool action_set, struct ofpbuf *out)
{
    const struct ofpact *run[4];
    size_t n_run = 0;
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (action_set && (nbx_is_output_prefix(a)
                           || a->type == OFPACT_RESUBMIT)
            && n_run < IOVP_ARRAY_SIZE(run)) {
            run[n_run++] = a;
            if (a->type == OFPACT_RESUBMIT) {
                ofp_port_t port = nbx_output_from_bridge(run, n_run);
                if (port != OFPP_NONE) {
                    ofpact_put_OUTPUT(out)->port = port;
                } else {
                    for (size_t i = 0; i < n_run; i++) {
                        ofpbuf_put(out, run[i], OFPACT_ALIGN(run[i]->len));
                    }
                }
                n_run = 0;
            }
            continue;
        }

        switch (a->type) {
        case OFPACT_CLONE: {
            const struct ofpact_nest *on = ofpact_get_CLONE(a);
            const struct ofpact *inner[4];
            size_t n = 0;
            const struct ofpact *b;

            OFPACT_FOR_EACH (b, on->actions, ofpact_nest_get_action_len(on)) {
                if (n < IOVP_ARRAY_SIZE(inner)) {
                    inner[n] = b;
                }
                n++;
            }
            ofp_port_t port = (n <= IOVP_ARRAY_SIZE(inner)
                               ? nbx_output_from_bridge(inner, n)
                               : OFPP_NONE);
            if (port != OFPP_NONE) {
                ofpact_put_OUTPUT(out)->port = port;
                continue;
            }
            break;
        }

        case OFPACT_GOTO_TABLE: {
            uint8_t table;
            if (nbx_table_from_bridge(ofpact_get_GOTO_TABLE(a)->table_id,
                                      &table)) {
                ofpact_put_GOTO_TABLE(out)->table_id = table;
                continue;
            }
            break;
        }

        case OFPACT_WRITE_ACTIONS: {
            const struct ofpact_nest *on = ofpact_get_WRITE_ACTIONS(a);
            size_t ofs = out->size;

            ofpact_put_WRITE_ACTIONS(out);
            nbx_actions_from_bridge(on->actions,
                                    ofpact_nest_get_action_len(on), true,
                                    out);
            struct ofpact_nest *nest = ofpbuf_at_assert(out, ofs,
                                                        sizeof *nest);
            out->header = nest;
            ofpact_finish_WRITE_ACTIONS(out, &nest);
            continue;
        }

        default:
            break;
        }
        ofpbuf_put(out, a, OFPACT_ALIGN(a->len));
    }
    for (size_t i = 0; i < n_run; i++) {
        ofpbuf_put(out, run[i], OFPACT_ALIGN(run[i]->len));
    }
}

/* Says what a bridge flow of the controller's tables, with the 'len'
 * bytes of actions at 'ofpacts', does with a frame, in the terms of
 * offload: drops it (no action at all), outputs it to one port, stored
 * in '*port', as the controller's "output:N" and nothing else does, or
 * anything else (NBX_FATE_OTHER). */
enum nbx_fate
nbx_flow_fate(const struct ofpact *ofpacts, size_t len, ofp_port_t *port)
{
    uint64_t stub[256 / 8];
    struct ofpbuf out = OFPBUF_STUB_INITIALIZER(stub);
    enum nbx_fate fate = NBX_FATE_OTHER;

    *port = OFPP_NONE;
    if (!len) {
        return NBX_FATE_DROP;
    }
    nbx_actions_from_bridge(ofpacts, len, false, &out);

    const struct ofpact *a = out.data;
    if (out.size && OFPACT_ALIGN(a->len) == out.size
        && a->type == OFPACT_OUTPUT
        && nbx_port_u16(ofpact_get_OUTPUT(a)->port) < nbx_port_u16(OFPP_MAX)) {
        *port = ofpact_get_OUTPUT(a)->port;
        fate = NBX_FATE_OUTPUT;
    }
    ofpbuf_uninit(&out);
    return fate;
}
