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

/* iovp-ofctl: inspects a running iovpd through its control socket. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openvswitch/dynamic-string.h>
#include <openvswitch/util.h>

#include "lib/control-client.h"
#include "lib/util.h"
#include "utilities/ofctl-capture.h"

/* The exit status of "trace" when OVS's outcome cannot be read from its
 * trace (statuses 1 and 2 are taken: see iovp-ofctl(8)). */
#define OFCTL_EXIT_CANNOT_COMPARE 3

/* One iovp-ofctl command: its name and usage as the user types it, what it
 * does in a line for --help, how many arguments it takes, and the iovpd
 * control command that answers it. */
struct ofctl_command {
    const char *name;
    const char *usage;
    const char *description;
    int min_args, max_args;
    const char *daemon_command;
};

static const struct ofctl_command ofctl_commands[] = {
    {"show", "", "print the switch, its VM ports and VLANs",
     0, 0, "switch/show"},
    {"version", "", "print iovpd's version", 0, 0, "version"},
    {"list-commands", "", "list the commands iovpd's socket serves",
     0, 0, "list-commands"},
    {"ovsdb/status", "", "print the state of the OVSDB sessions",
     0, 0, "ovsdb/status"},
    {"ovsdb/dump", "DB", "print iovpd's replica of DB as JSON",
     1, 1, "ovsdb/dump"},
    {"ovsdb/conditions", "DB", "print iovpd's monitor conditions for DB",
     1, 1, "ovsdb/conditions"},
    {"ofp/status", "", "print the OpenFlow connection's state",
     0, 0, "ofp/status"},
    {"controller/show", "", "print the OpenFlow northbound's state",
     0, 0, "controller/show"},
    {"memory/show", "", "print what iovpd holds in memory",
     0, 0, "memory/show"},
    {"engine/show", "", "print the translation engine's nodes",
     0, 0, "engine/show"},
    {"debug/recompute", "", "translate everything anew",
     0, 0, "debug/recompute"},
    {"dump-flows", "[PORT|TUNNEL]", "print the switch's flows vs iovpd's",
     0, 1, "flows/dump"},
    {"dump-policy", "[PORT]", "print the ACLs in force, with counters",
     0, 1, "policy/dump"},
    {"trace", "PORT|TUNNEL FLOW", "trace FLOW from there; check OVS agrees",
     2, 2, "acl/trace"},
    {"dump-offload", "[PORT]", "print the fast paths in the NIC",
     0, 1, "offload/show"},
    {"verify-offload", "PORT [COUNT [SEED]]",
     "check PORT's fast path and OVS agree", 1, 3, "offload/verify"},
    {"capture", "PORT [MATCH]", "print PORT's frames, or write pcap (-w)",
     1, 2, "capture/start"},
};

/* The command line, parsed. */
struct ofctl_options {
    const char *target;         /* Daemon name or socket file name. */
    int timeout_ms;             /* Negative: wait forever. */
    bool json;                  /* --format=json? */

    /* "capture"'s. */
    const char *write_file;     /* -w FILE, or NULL. */
    int snaplen;                /* -s SNAPLEN; 0: whole frames. */
    long long int count;        /* -c COUNT; 0: no limit. */
    bool capture_options;       /* One of those was given. */
};

static void ofctl_usage(void);
static int ofctl_parse_options(int argc, char *argv[],
                               struct ofctl_options *);

static const struct ofctl_command *
ofctl_find_command(const char *name)
{
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(ofctl_commands); i++) {
        if (!strcmp(ofctl_commands[i].name, name)) {
            return &ofctl_commands[i];
        }
    }
    return NULL;
}

/* Sends 'command' with its 'argc' arguments 'argv' on 'client' and waits
 * for the reply.  Returns 0 and the result in '*resultp' (a new reference),
 * or prints why not and returns the program's exit status. */
static int
ofctl_transact(struct control_client *client,
               const struct ofctl_options *options, const char *command,
               int argc, const char *argv[], json_t **resultp)
{
    json_t *error;
    int retval;

    retval = control_client_transact(client, command, argc, argv,
                                     resultp, &error);
    if (retval) {
        fprintf(stderr, "%s: %s: transaction error (%s)\n",
                ovs_get_program_name(), options->target, strerror(-retval));
        return EXIT_FAILURE;
    } else if (error) {
        if (json_is_string(error)) {
            fputs(json_string_value(error), stderr);
        } else {
            char *s = json_dumps(error, JSON_ENCODE_ANY);
            fprintf(stderr, "%s\n", s ? s : "(unprintable error)");
            free(s);
        }
        fprintf(stderr, "%s: %s: server returned an error\n",
                ovs_get_program_name(), options->target);
        json_decref(error);
        return 2;
    }
    return 0;
}

/* Prints 'result' as 'options' ask: JSON, or the text that it holds. */
static int
ofctl_print(const struct ofctl_options *options, const json_t *result)
{
    if (options->json) {
        char *s = json_dumps(result, JSON_ENCODE_ANY | JSON_INDENT(2));
        if (s) {
            puts(s);
            free(s);
        }
    } else if (json_is_string(result)) {
        fputs(json_string_value(result), stdout);
    } else {
        fprintf(stderr, "%s: %s: unexpected reply (not text)\n",
                ovs_get_program_name(), options->target);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

/* Returns "permit" or "deny" for the datapath actions in 'trace', the
 * output of OVS's ofproto/trace, and sets '*actions' to those actions
 * (malloc()'d), or returns NULL if it has none. */
static const char *
ofctl_ovs_fate(const char *trace, char **actions)
{
    const char *line = strstr(trace, "Datapath actions: ");

    *actions = NULL;
    if (!line) {
        return NULL;
    }
    line += strlen("Datapath actions: ");
    *actions = iovp_xmemdup(line, strcspn(line, "\n") + 1);
    (*actions)[strcspn(line, "\n")] = '\0';
    return !strcmp(*actions, "drop") ? "deny" : "permit";
}

/* Connects to ovs-vswitchd's control socket (in $OVS_RUNDIR), or exits
 * with a message. */
static struct control_client *
ofctl_open_vswitchd(const struct ofctl_options *o)
{
    const char *rundir = getenv("OVS_RUNDIR");
    struct control_client *ovs;
    char *path, *error;

    error = control_client_daemon_path(rundir ? rundir
                                       : "/var/run/openvswitch",
                                       "ovs-vswitchd", &path);
    if (error) {
        iovp_fatal(0, "%s", error);
    }
    int retval = control_client_open(path, o->timeout_ms, &ovs);
    if (retval) {
        iovp_fatal(retval, "cannot connect to \"%s\"", path);
    }
    free(path);
    return ovs;
}

/* Runs "ofproto/trace BRIDGE FLOW" on 'ovs' (ovs-vswitchd) and stores its
 * text in '*tracep' (a new reference).  Returns 0 or the program's exit
 * status. */
static int
ofctl_ovs_trace(struct control_client *ovs, const struct ofctl_options *o,
                const char *bridge, const char *flow, json_t **tracep)
{
    struct ofctl_options vswitchd = *o;
    const char *args[] = { bridge, flow };

    vswitchd.target = "ovs-vswitchd";
    return ofctl_transact(ovs, &vswitchd, "ofproto/trace", 2, args, tracep);
}

/* Prints 'delivery', verify-offload's check that frames the NIC forwards
 * arrive (see nicctrl_verify_delivery()), as text. */
static void
ofctl_print_delivery(const json_t *delivery)
{
    const char *unchecked = json_string_value(json_object_get(delivery,
                                                              "unchecked"));
    const json_t *s;
    size_t i;

    if (!delivery) {
        return;
    } else if (unchecked) {
        printf("delivery: could not check (%s)\n", unchecked);
        return;
    }
    json_int_t checked = json_integer_value(json_object_get(delivery,
                                                            "checked"));
    if (!checked) {
        printf("delivery: no forward entry in the NIC to check\n");
        return;
    }
    printf("delivery: %"JSON_INTEGER_FORMAT" forward entries checked, "
           "%"JSON_INTEGER_FORMAT" delivered\n", checked,
           json_integer_value(json_object_get(delivery, "delivered")));
    json_array_foreach (json_object_get(delivery, "not_delivered"), i, s) {
        printf("  not delivered: %s (%s)\n",
               json_string_value(json_object_get(s, "entry")),
               json_string_value(json_object_get(s, "why")));
    }
    json_array_foreach (json_object_get(delivery, "not_confirmed"), i, s) {
        printf("  delivery not confirmed: %s (%s)\n",
               json_string_value(json_object_get(s, "entry")),
               json_string_value(json_object_get(s, "why")));
    }
}

static const char *ofctl_odp_action_end(const char *p, const char *end);
static long long int ofctl_odp_to_ofport(const char *dpif_show,
                                         const char *bridge,
                                         long long int odp);

/* Returns "permit" or "deny" for the datapath 'actions' (top level) of a
 * trace on 'bridge' (with 'dpif_show', OVS's "dpif/show"), leaving out the
 * copies to the capture ports in 'captures' (their OpenFlow ports): a
 * capture copies frames whatever their fate, which the copies are not. */
static const char *
ofctl_fate_without_captures(const char *actions, const char *dpif_show,
                            const char *bridge, const json_t *captures)
{
    const char *end = actions + strlen(actions);

    for (const char *p = actions; p && p < end; ) {
        const char *a_end = ofctl_odp_action_end(p, end);
        size_t len = a_end ? a_end - p : end - p;
        char *a = iovp_xmalloc(len + 1);
        memcpy(a, p, len);
        a[len] = '\0';
        char *tail;
        long long int odp = strtoll(a, &tail, 10);
        bool copy = false;
        if (a[0] && !*tail) {
            long long int ofport = ofctl_odp_to_ofport(dpif_show, bridge,
                                                       odp);
            size_t i;
            const json_t *c;
            json_array_foreach (captures, i, c) {
                copy = copy || json_integer_value(c) == ofport;
            }
        }
        bool inert = !strncmp(a, "trunc(", 6) || !strcmp(a, "drop");
        free(a);
        if (!copy && !inert) {
            return "permit";
        }
        p = a_end ? a_end + 1 : NULL;
    }
    return "deny";
}

/* "verify-offload PORT [COUNT [SEED]]": asks iovpd to check PORT's fast
 * path against its reference model, then checks the reference model
 * against OVS: each frame of the sample iovpd returns goes through OVS's
 * ofproto/trace, whose fate (dropped or not) must be the reference's, and
 * which must encapsulate (tnl_push()) a frame to a remote MAC; and
 * prints whether the frames iovpd sent through some of PORT's forward
 * entries arrived.  Returns the exit status: failure on any disagreement,
 * or a frame not delivered. */
static int
ofctl_verify_offload(struct control_client *client,
                     const struct ofctl_options *o, int argc,
                     const char *argv[])
{
    const char *set_options[] = { "--format", "json" };
    json_t *result = NULL, *verify = NULL;
    int retval;

    retval = ofctl_transact(client, o, "set-options", 2, set_options,
                            &result);
    json_decref(result);
    if (!retval) {
        retval = ofctl_transact(client, o, "offload/verify", argc, argv,
                                &verify);
    }
    if (retval) {
        return retval;
    }

    const char *bridge = json_string_value(json_object_get(verify,
                                                           "bridge"));
    const json_t *sample = json_object_get(verify, "sample");
    const json_t *captures = json_object_get(verify, "capture_ofports");
    struct control_client *ovs = ofctl_open_vswitchd(o);
    json_t *dpif_show = NULL;
    if (json_array_size(captures)) {
        struct ofctl_options vswitchd = *o;
        vswitchd.target = "ovs-vswitchd";
        retval = ofctl_transact(ovs, &vswitchd, "dpif/show", 0, NULL,
                                &dpif_show);
    }
    size_t n_traced = 0, n_tunnel = 0, n_ovs_disagreements = 0;
    json_t *ovs_examples = json_array();
    size_t i;
    json_t *s;
    json_array_foreach (sample, i, s) {
        const char *flow = json_string_value(json_object_get(s, "flow"));
        const char *ref = json_string_value(json_object_get(s, "reference"));
        json_t *trace = NULL;
        char *actions;

        retval = retval ? retval : ofctl_ovs_trace(ovs, o, bridge, flow,
                                                   &trace);
        if (retval) {
            break;
        }
        const char *fate = ofctl_ovs_fate(json_string_value(trace),
                                          &actions);
        if (fate && json_array_size(captures)) {
            fate = ofctl_fate_without_captures(
                actions, json_string_value(dpif_show), bridge, captures);
        }
        bool tunnel = !strcmp(ref, "tunnel");
        n_traced++;
        n_tunnel += tunnel;
        if (fate && (!strcmp(fate, "deny") != !strcmp(ref, "drop")
                     || (tunnel && !strstr(actions, "tnl_push(")))) {
            n_ovs_disagreements++;
            json_array_append_new(ovs_examples, json_pack(
                "{s:s, s:s, s:s}", "flow", flow, "reference", ref,
                "datapath_actions", actions));
        }
        free(actions);
        json_decref(trace);
    }
    control_client_close(ovs);
    json_decref(dpif_show);
    if (retval) {
        json_decref(ovs_examples);
        json_decref(verify);
        return retval;
    }

    json_int_t disagreements = json_integer_value(
        json_object_get(verify, "disagreements"));
    if (o->json) {
        json_object_del(verify, "sample");
        json_object_set_new(verify, "ovs", json_pack(
            "{s:I, s:I, s:I, s:o}", "traced", (json_int_t) n_traced,
            "to_tunnels", (json_int_t) n_tunnel,
            "disagreements", (json_int_t) n_ovs_disagreements,
            "examples", ovs_examples));
        ofctl_print(o, verify);
    } else {
        printf("%s: %"JSON_INTEGER_FORMAT" frames, %"JSON_INTEGER_FORMAT
               " decided in the NIC, %"JSON_INTEGER_FORMAT" disagreements "
               "with the reference model\n",
               json_string_value(json_object_get(verify, "port")),
               json_integer_value(json_object_get(verify, "frames")),
               json_integer_value(json_object_get(verify, "decided_in_nic")),
               disagreements);
        json_array_foreach (json_object_get(verify, "examples"), i, s) {
            printf("  NIC %s for %s; reference: %s (%s)\n",
                   json_string_value(json_object_get(s, "nic")),
                   json_string_value(json_object_get(s, "flow")),
                   json_string_value(json_object_get(s, "reference")),
                   json_string_value(json_object_get(s, "why")));
        }
        printf("reference model vs OVS (ofproto/trace): %zu frames traced, "
               "%zu disagreements\n", n_traced, n_ovs_disagreements);
        if (n_tunnel) {
            printf("  of them %zu to a remote MAC's tunnel, each encapsulated "
                   "by OVS\n", n_tunnel);
        }
        json_array_foreach (ovs_examples, i, s) {
            printf("  %s: reference %s, OVS %s\n",
                   json_string_value(json_object_get(s, "flow")),
                   json_string_value(json_object_get(s, "reference")),
                   json_string_value(json_object_get(s,
                                                     "datapath_actions")));
        }
        json_decref(ovs_examples);
        ofctl_print_delivery(json_object_get(verify, "delivery"));
    }
    const json_t *delivery = json_object_get(verify, "delivery");
    size_t n_lost = json_array_size(json_object_get(delivery,
                                                    "not_delivered"));
    json_decref(verify);
    return (disagreements || n_ovs_disagreements || n_lost) ? EXIT_FAILURE
                                                  : EXIT_SUCCESS;
}

/* Returns the OpenFlow port number of datapath port 'odp' of bridge
 * 'bridge' in 'dpif_show', what ovs-vswitchd's "dpif/show" prints (under
 * "  BRIDGE:", a line "    NAME OFPORT/ODPPORT: (TYPE...)" for each port),
 * or -1 if it names none. */
static long long int
ofctl_odp_to_ofport(const char *dpif_show, const char *bridge,
                    long long int odp)
{
    char *header = iovp_xasprintf("\n  %s:\n", bridge);
    const char *p = dpif_show ? strstr(dpif_show, header) : NULL;
    long long int ofport = -1;

    if (p) {
        p += strlen(header);
        while (ofport < 0 && !strncmp(p, "    ", 4)) {
            long long int of, dp;
            const char *space = strchr(p + 4, ' ');
            if (space && sscanf(space, " %lld/%lld:", &of, &dp) == 2
                && dp == odp) {
                ofport = of;
            }
            p = strchr(p, '\n');
            p = p ? p + 1 : "";
        }
    }
    free(header);
    return ofport;
}

/* Datapath actions, by their names as OVS's odp-util.c prints them, that
 * neither output the packet nor change its VLAN tag: they change other
 * fields, or hand the packet to a recirculation, whose own actions have a
 * "Datapath actions:" line of their own.  (A meter or trunc may drop or
 * cut a packet by rate or size; a trace can tell neither, and neither
 * changes where the packet goes.)  Any action not here and not understood
 * by ofctl_parse_odp_action() makes the comparison impossible, rather than
 * be taken for one that does not output. */
static const char *const ofctl_odp_inert[] = {
    "add_mpls", "ct", "ct_clear", "drop", "hash", "meter", "pop_eth",
    "pop_mpls", "pop_nsh", "push_eth", "push_mpls", "push_nsh", "recirc",
    "set", "trunc",
};

/* What ofctl_parse_odp_actions() needs to name an output. */
struct ofctl_odp_ctx {
    const char *dpif_show;      /* ovs-vswitchd's "dpif/show". */
    const char *bridge;
    const json_t *ofports;      /* For ofctl_outputs_text(). */
    const json_t *tunnels;      /* {"ADDRESS": OFPORT}: the tunnels. */
};

/* Returns the end of the action that starts at 'p' (before 'end'): the
 * first comma outside parentheses, or 'end'; or NULL if its parentheses
 * do not balance. */
static const char *
ofctl_odp_action_end(const char *p, const char *end)
{
    int depth = 0;

    for (; p < end && (depth || *p != ','); p++) {
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
        if (depth < 0) {
            return NULL;
        }
    }
    return depth ? NULL : p;
}

/* In the arguments 'args' to 'end' of a datapath action, finds the one
 * written "NAME(...)" outside any parentheses, and returns what is inside
 * its parentheses, from the return value to '*inner_end'; or NULL if
 * there is none. */
static const char *
ofctl_odp_find_arg(const char *args, const char *end, const char *name,
                   const char **inner_end)
{
    size_t len = strlen(name);

    for (const char *p = args; p && p < end; ) {
        const char *a_end = ofctl_odp_action_end(p, end);
        if (a_end && (size_t) (a_end - p) > len + 1
            && !strncmp(p, name, len)
            && p[len] == '(' && a_end[-1] == ')') {
            *inner_end = a_end - 1;
            return p + len + 1;
        }
        p = a_end ? a_end + 1 : NULL;
    }
    return NULL;
}

static char *ofctl_outputs_text(json_t *outputs, const json_t *ofports);
static char *ofctl_parse_odp_actions(const char *p, const char *end,
                                     const struct ofctl_odp_ctx *,
                                     int depth, long long int *vlan,
                                     json_t *outputs);

/* Appends to 'outputs' an output to datapath port 'odp', tagged 'vlan'. */
static void
ofctl_odp_output(const struct ofctl_odp_ctx *ctx, long long int odp,
                 long long int vlan, json_t *outputs)
{
    json_array_append_new(outputs, json_pack(
        "{s:I, s:I, s:I}", "ofport",
        (json_int_t) ofctl_odp_to_ofport(ctx->dpif_show, ctx->bridge, odp),
        "odp_port", (json_int_t) odp, "vlan", (json_int_t) vlan));
}

/* Adds to 'outputs' the outputs of the nested actions from 'p' to 'end'
 * and stores them as text ("a drop", "output to ..."), malloc()'d, in
 * '*textp'.  Returns NULL if successful, otherwise why they cannot be
 * known, malloc()'d for the caller to free, with '*textp' set to NULL.  A
 * VLAN tag changed in them stays in them, as in clone(). */
static char *
ofctl_parse_odp_nested(const char *p, const char *end,
                       const struct ofctl_odp_ctx *ctx, int depth,
                       long long int vlan, json_t *outputs, char **textp)
{
    json_t *inner = json_array();
    char *error;

    *textp = NULL;
    error = ofctl_parse_odp_actions(p, end, ctx, depth + 1, &vlan, inner);
    if (!error) {
        json_array_extend(outputs, inner);
        *textp = ofctl_outputs_text(inner, ctx->ofports);
    }
    json_decref(inner);
    return error;
}

/* Adds to 'outputs' the tunnel that "tnl_push(ARGS)" sends the packet
 * into, its arguments from 'args' to 'end', tagged 'vlan' inside:
 * {"ofport", "odp_port", "vlan", "vni"}, the OpenFlow port of the tunnel
 * toward the outer header's destination (as 'ctx''s tunnels name it, else
 * -1) and the VNI from its VXLAN header.  (The outer frame leaves by the
 * underlay's port, out_port(), which is no port of the bridge.)  Returns
 * NULL, or why the tunnel cannot be known (malloc()'d). */
static char *
ofctl_parse_tnl_push(const char *args, const char *end,
                     const struct ofctl_odp_ctx *ctx, long long int vlan,
                     json_t *outputs)
{
    const char *header, *header_end, *ip, *ip_end, *vx, *vx_end, *odp,
        *odp_end;

    header = ofctl_odp_find_arg(args, end, "header", &header_end);
    odp = ofctl_odp_find_arg(args, end, "tnl_port", &odp_end);
    ip = header ? ofctl_odp_find_arg(header, header_end, "ipv4",
                                     &ip_end) : NULL;
    vx = header ? ofctl_odp_find_arg(header, header_end, "vxlan",
                                     &vx_end) : NULL;
    if (!odp || !ip || !vx) {
        return iovp_xasprintf("tnl_push(%.*s) is not VXLAN over IPv4",
                              (int) (end - args), args);
    }

    /* "ipv4(src=A,dst=B,...)" and "vxlan(flags=F,vni=0xN)". */
    char *ip_args = iovp_xmemdup(ip, ip_end - ip + 1);
    char *vx_args = iovp_xmemdup(vx, vx_end - vx + 1);
    ip_args[ip_end - ip] = '\0';
    vx_args[vx_end - vx] = '\0';
    const char *dst = strstr(ip_args, "dst=");
    const char *vni = strstr(vx_args, "vni=");
    char *error = NULL;
    if (!dst || !vni) {
        error = iovp_xasprintf("tnl_push(%.*s) has no destination or VNI",
                               (int) (end - args), args);
    } else {
        char *remote = iovp_xmemdup(dst + 4, strcspn(dst + 4, ",") + 1);
        remote[strcspn(dst + 4, ",")] = '\0';
        const json_t *ofport = json_object_get(ctx->tunnels, remote);
        json_array_append_new(outputs, json_pack(
            "{s:I, s:I, s:I, s:I}",
            "ofport", (json_int_t) (ofport ? json_integer_value(ofport)
                                    : -1),
            "odp_port", (json_int_t) strtoll(odp, NULL, 10),
            "vlan", (json_int_t) vlan,
            "vni", (json_int_t) strtoll(vni + 4, NULL, 0)));
        free(remote);
    }
    free(ip_args);
    free(vx_args);
    return error;
}

/* Adds to 'outputs' the ports where the one datapath action from 'a' to
 * 'end' outputs the packet, as ofctl_parse_odp_actions() does.  Returns
 * NULL, or why the action's outcome cannot be known (malloc()'d). */
static char *
ofctl_parse_odp_action(const char *a, const char *end,
                       const struct ofctl_odp_ctx *ctx, int depth,
                       long long int *vlan, json_t *outputs)
{
    /* "NAME" or "NAME(ARGS)". */
    const char *paren = memchr(a, '(', end - a);
    size_t name_len = paren ? paren - a : end - a;
    const char *args = paren ? paren + 1 : end;
    const char *args_end = paren ? end - 1 : end;
    const char *inner, *inner_end;
    char *name = iovp_xmemdup(a, name_len + 1);
    char *error = NULL;
    char *text;

    name[name_len] = '\0';
    if (paren && end[-1] != ')') {
        error = iovp_xasprintf("malformed datapath action %.*s",
                               (int) (end - a), a);
    } else if (name_len && strspn(name, "0123456789") == name_len) {
        ofctl_odp_output(ctx, strtoll(name, NULL, 10), *vlan, outputs);
    } else if (!strcmp(name, "pop_vlan")) {
        *vlan = 0;
    } else if (!strcmp(name, "push_vlan")) {
        const char *vid = strstr(args, "vid=");
        *vlan = vid && vid < args_end ? strtoll(vid + 4, NULL, 10) : *vlan;
    } else if (!strcmp(name, "clone")) {
        error = ofctl_parse_odp_nested(args, args_end, ctx, depth, *vlan,
                                       outputs, &text);
        free(text);
    } else if (!strcmp(name, "tnl_push")) {
        error = ofctl_parse_tnl_push(args, args_end, ctx, *vlan, outputs);
    } else if (!strcmp(name, "sample")) {
        /* "sample(sample=P%,actions(...))": the actions are taken with
         * probability P, which a trace cannot decide unless it is 100%. */
        double percent = strtod(strncmp(args, "sample=", 7) ? "0"
                                : args + 7, NULL);
        json_t *inner_outputs = json_array();
        inner = ofctl_odp_find_arg(args, args_end, "actions", &inner_end);
        if (!inner) {
            error = iovp_xstrdup("sample() without actions()");
        } else {
            error = ofctl_parse_odp_nested(inner, inner_end, ctx, depth,
                                           *vlan, inner_outputs, &text);
            free(text);
        }
        if (!error && json_array_size(inner_outputs) && percent < 100.0) {
            error = iovp_xasprintf("sample() outputs with probability "
                                   "%g%%", percent);
        }
        json_array_extend(outputs, inner_outputs);
        json_decref(inner_outputs);
    } else if (!strcmp(name, "check_pkt_len")) {
        /* "check_pkt_len(size=N,gt(...),le(...))": one of the two by the
         * packet's length, which a trace's packet does not have; fine if
         * both do the same. */
        const char *le, *le_end;
        inner = ofctl_odp_find_arg(args, args_end, "gt", &inner_end);
        le = ofctl_odp_find_arg(args, args_end, "le", &le_end);
        if (!inner || !le) {
            error = iovp_xstrdup("check_pkt_len() without gt() and le()");
        } else {
            json_t *gt_outputs = json_array(), *le_outputs = json_array();
            char *gt_text, *le_text = NULL;
            error = ofctl_parse_odp_nested(inner, inner_end, ctx, depth,
                                           *vlan, gt_outputs, &gt_text);
            if (!error) {
                error = ofctl_parse_odp_nested(le, le_end, ctx, depth, *vlan,
                                               le_outputs, &le_text);
            }
            if (!error && strcmp(gt_text, le_text)) {
                error = iovp_xasprintf("check_pkt_len() does %s or %s, by "
                                       "the packet's length", gt_text,
                                       le_text);
            } else if (!error) {
                json_array_extend(outputs, gt_outputs);
            }
            free(gt_text);
            free(le_text);
            json_decref(gt_outputs);
            json_decref(le_outputs);
        }
    } else if (!strcmp(name, "userspace")) {
        /* To ovs-vswitchd: a sampling upcall (sFlow, IPFIX) outputs
         * nothing, but a packet-in or the slow path decides elsewhere. */
        char *a_args = iovp_xmemdup(args, args_end - args + 1);
        a_args[args_end - args] = '\0';
        if (strstr(a_args, "controller") || strstr(a_args, "slow_path")) {
            error = iovp_xasprintf("%.*s goes to the controller or the "
                                   "slow path", (int) (end - a), a);
        }
        free(a_args);
    } else {
        bool inert = false;
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(ofctl_odp_inert); i++) {
            inert = inert || !strcmp(name, ofctl_odp_inert[i]);
        }
        if (!inert) {
            error = iovp_xasprintf("datapath action %.*s is not understood",
                                   (int) (end - a), a);
        }
    }
    free(name);
    return error;
}

/* Adds to 'outputs' the ports where OVS's datapath actions from 'p' to
 * 'end' (one "Datapath actions:" line of ofproto/trace, without the
 * prefix, or actions nested in one of them at 'depth') output the packet,
 * as {"ofport", "odp_port", "vlan"}: the OpenFlow port ('ctx' names it,
 * see ofctl_odp_to_ofport()) and the VLAN the packet is tagged with there,
 * from '*vlan' (0: untagged), which push_vlan and pop_vlan change on the
 * way; a tunnel with "vni" too (ofctl_parse_tnl_push()), and nothing
 * after it in its list, which is the outer frame's.  Outputs nested in
 * clone(), sample() and check_pkt_len() count.  Returns NULL, or why
 * what OVS does cannot be known from the actions (malloc()'d): an action
 * that is neither understood nor known not to output (ofctl_odp_inert),
 * or a choice the trace does not make. */
static char *
ofctl_parse_odp_actions(const char *p, const char *end,
                        const struct ofctl_odp_ctx *ctx, int depth,
                        long long int *vlan, json_t *outputs)
{
    if (depth > 32) {
        return iovp_xstrdup("datapath actions nested too deep");
    }
    while (p < end) {
        const char *a_end = ofctl_odp_action_end(p, end);
        if (!a_end) {
            return iovp_xasprintf("unbalanced parentheses in datapath "
                                  "actions %.*s", (int) (end - p), p);
        }
        char *error = ofctl_parse_odp_action(p, a_end, ctx, depth, vlan,
                                             outputs);
        if (error) {
            return error;
        } else if (!strncmp(p, "tnl_push(", 9)) {
            /* What follows a tnl_push() in its list is the outer frame's
             * way through the underlay bridge (OVS wraps the two in a
             * clone() unless they come last). */
            break;
        }
        p = a_end + (a_end < end);
    }
    return NULL;
}

/* What begins each line of datapath actions in OVS's ofproto/trace. */
static const char ofctl_odp_prefix[] = "Datapath actions: ";

/* Returns the datapath actions in 'trace', the text of ofproto/trace: its
 * "Datapath actions:" lines (one for each recirculation) joined by "; ",
 * malloc()'d for the caller to free; or NULL if it has none. */
static char *
ofctl_ovs_actions(const char *trace)
{
    struct ds all = DS_EMPTY_INITIALIZER;

    for (const char *p = trace ? strstr(trace, ofctl_odp_prefix) : NULL; p;
         p = strstr(p, ofctl_odp_prefix)) {
        p += strlen(ofctl_odp_prefix);
        size_t len = strcspn(p, "\n");
        ds_put_format(&all, "%s%.*s", all.length ? "; " : "", (int) len, p);
    }

    char *actions = all.length ? ds_steal_cstr(&all) : NULL;
    ds_destroy(&all);
    return actions;
}

/* Stores in '*outputsp' a new reference to where OVS sends the packet that
 * 'trace', the text of ofproto/trace on 'bridge', followed (through every
 * recirculation: each has its "Datapath actions:" line), entering tagged
 * with 'vlan' (0: untagged): see ofctl_parse_odp_actions(), which finds
 * a tunnel's OpenFlow port in 'tunnels' ({"ADDRESS": OFPORT}).  Returns
 * NULL if successful, otherwise why OVS's outcome cannot be known from the
 * trace (malloc()'d for the caller to free, its ports named by 'ofports'
 * as ofctl_outputs_text() does), with '*outputsp' set to NULL. */
static char *
ofctl_ovs_outputs(const char *trace, const char *dpif_show,
                  const char *bridge, const json_t *ofports,
                  const json_t *tunnels, long long int vlan,
                  json_t **outputsp)
{
    const struct ofctl_odp_ctx ctx = { dpif_show, bridge, ofports, tunnels };
    json_t *outputs = json_array();
    bool any = false;
    char *error = NULL;

    *outputsp = NULL;
    for (const char *p = trace ? strstr(trace, ofctl_odp_prefix) : NULL;
         p && !error; p = strstr(p, ofctl_odp_prefix)) {
        p += strlen(ofctl_odp_prefix);
        size_t len = strcspn(p, "\n");
        any = any || len > 0;
        error = ofctl_parse_odp_actions(p, p + len, &ctx, 0, &vlan, outputs);
    }
    if (!any && !error) {
        error = iovp_xstrdup("OVS's trace has no \"Datapath actions:\" "
                             "line");
    }
    if (error) {
        json_decref(outputs);
        return error;
    }
    *outputsp = outputs;
    return NULL;
}

/* Orders "outputs" entries by OpenFlow port, then VLAN. */
static int
ofctl_compare_outputs(const void *a_, const void *b_)
{
    const json_t *const *a = a_, *const *b = b_;
    json_int_t pa = json_integer_value(json_object_get(*a, "ofport"));
    json_int_t pb = json_integer_value(json_object_get(*b, "ofport"));
    json_int_t va = json_integer_value(json_object_get(*a, "vlan"));
    json_int_t vb = json_integer_value(json_object_get(*b, "vlan"));

    return pa != pb ? (pa < pb ? -1 : 1) : va != vb ? (va < vb ? -1 : 1) : 0;
}

/* Returns 'outputs' (a JSON array of {"ofport", "vlan"}) described in
 * words, malloc()'d: "a drop", or "output to vm2, vm3 tagged 10", each port
 * named by 'ofports' ({"OFPORT": NAME}), else by its OpenFlow port number,
 * else its datapath port number.  Sorts 'outputs'. */
static char *
ofctl_outputs_text(json_t *outputs, const json_t *ofports)
{
    size_t n = json_array_size(outputs);
    const json_t **sorted = iovp_xmalloc(MAX(1, n) * sizeof *sorted);
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < n; i++) {
        sorted[i] = json_array_get(outputs, i);
    }
    qsort(sorted, n, sizeof *sorted, ofctl_compare_outputs);

    ds_put_cstr(&s, n ? "output to " : "a drop");
    for (size_t i = 0; i < n; i++) {
        json_int_t ofport = json_integer_value(json_object_get(sorted[i],
                                                               "ofport"));
        json_int_t vlan = json_integer_value(json_object_get(sorted[i],
                                                             "vlan"));
        char key[32];
        snprintf(key, sizeof key, "%"JSON_INTEGER_FORMAT, ofport);
        const char *name = json_string_value(json_object_get(ofports, key));

        ds_put_cstr(&s, i ? ", " : "");
        if (name) {
            ds_put_cstr(&s, name);
        } else if (ofport >= 0) {
            ds_put_format(&s, "OpenFlow port %"JSON_INTEGER_FORMAT, ofport);
        } else {
            ds_put_format(&s, "datapath port %"JSON_INTEGER_FORMAT,
                          json_integer_value(json_object_get(sorted[i],
                                                             "odp_port")));
        }
        if (vlan) {
            ds_put_format(&s, " tagged %"JSON_INTEGER_FORMAT, vlan);
        }
        const json_t *vni = json_object_get(sorted[i], "vni");
        if (vni) {
            ds_put_format(&s, " VNI %"JSON_INTEGER_FORMAT,
                          json_integer_value(vni));
        }
    }
    free(sorted);
    return ds_steal_cstr(&s);
}

/* "trace PORT FLOW": asks iovpd ('client') which ACL entries decide the
 * packet and where it leaves the bridge, then asks ovs-vswitchd
 * (ofproto/trace) what it does with the same packet, and compares the
 * whole outcome: the ports it is output to, the VLAN tag it carries on
 * each, or its drop.  Returns the exit status: failure if they disagree,
 * OFCTL_EXIT_CANNOT_COMPARE if OVS's outcome cannot be read from its
 * trace. */
static int
ofctl_trace(struct control_client *client, const struct ofctl_options *o,
            const char *port, const char *flow)
{
    const char *set_options[] = { "--format", "json" };
    const char *args[] = { port, flow };
    json_t *result = NULL, *trace = NULL;
    int retval;

    retval = ofctl_transact(client, o, "set-options", 2, set_options,
                            &result);
    json_decref(result);
    if (!retval) {
        retval = ofctl_transact(client, o, "acl/trace", 2, args, &trace);
    }
    if (retval) {
        return retval;
    }

    /* The same packet through OVS, and OVS's datapath ports, to name the
     * ports in its datapath actions. */
    const char *bridge = json_string_value(json_object_get(trace, "bridge"));
    const char *ovs_flow = json_string_value(json_object_get(trace,
                                                             "ovs_flow"));
    struct control_client *ovs = ofctl_open_vswitchd(o);
    struct ofctl_options vswitchd = *o;
    json_t *ovs_trace = NULL, *dpif_show = NULL;
    vswitchd.target = "ovs-vswitchd";
    retval = ofctl_ovs_trace(ovs, o, bridge, ovs_flow, &ovs_trace);
    if (!retval) {
        retval = ofctl_transact(ovs, &vswitchd, "dpif/show", 0, NULL,
                                &dpif_show);
    }
    control_client_close(ovs);
    if (retval) {
        json_decref(ovs_trace);
        json_decref(trace);
        return retval;
    }

    const json_t *ofports = json_object_get(trace, "ofports");
    char *actions = ofctl_ovs_actions(json_string_value(ovs_trace));
    json_t *ovs_outputs;
    char *unknown = ofctl_ovs_outputs(
        json_string_value(ovs_trace), json_string_value(dpif_show), bridge,
        ofports, json_object_get(trace, "tunnels"),
        json_integer_value(json_object_get(trace, "vlan")), &ovs_outputs);
    char *expects = ofctl_outputs_text(json_object_get(trace, "outputs"),
                                       ofports);
    char *does = unknown ? NULL : ofctl_outputs_text(ovs_outputs, ofports);
    bool disagrees = !unknown && strcmp(expects, does);
    char *verdict = (unknown
                     ? iovp_xasprintf("cannot compare: %s", unknown)
                     : disagrees
                     ? iovp_xasprintf("disagrees: iovpd expects %s, OVS "
                                      "does %s", expects, does)
                     : iovp_xstrdup("agrees"));

    if (o->json) {
        json_object_set_new(trace, "ovs", json_pack(
                                "{s:s, s:s?, s:s?, s:o, s:s}", "flow",
                                ovs_flow, "datapath_actions", actions,
                                "fate", (unknown ? NULL
                                         : json_array_size(ovs_outputs)
                                         ? "permit" : "deny"),
                                "outputs", (unknown ? json_null()
                                            : json_incref(ovs_outputs)),
                                "verdict", verdict));
        json_object_del(trace, "text");
        ofctl_print(o, trace);
    } else {
        fputs(json_string_value(json_object_get(trace, "text")), stdout);
        printf("OVS: ofproto/trace %s %s\n  datapath actions: %s: %s\n",
               bridge, ovs_flow, actions ? actions : "(none)", verdict);
    }
    free(verdict);
    free(expects);
    free(does);
    free(actions);
    json_decref(ovs_outputs);
    json_decref(dpif_show);
    json_decref(ovs_trace);
    json_decref(trace);
    retval = (unknown ? OFCTL_EXIT_CANNOT_COMPARE
              : disagrees ? EXIT_FAILURE : EXIT_SUCCESS);
    free(unknown);
    return retval;
}

int
main(int argc, char *argv[])
{
    const struct ofctl_command *command;
    struct control_client *client;
    struct ofctl_options options;
    char *path, *error;
    int n_args, retval;

    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    optind = ofctl_parse_options(argc, argv, &options);
    if (optind >= argc) {
        iovp_fatal(0, "missing command name; use --help for help");
    }

    command = ofctl_find_command(argv[optind]);
    if (!command) {
        iovp_fatal(0, "unknown command '%s'; use --help for help",
                   argv[optind]);
    }
    n_args = argc - optind - 1;
    if (n_args < command->min_args) {
        iovp_fatal(0, "'%s' command requires at least %d arguments",
                   command->name, command->min_args);
    } else if (n_args > command->max_args) {
        iovp_fatal(0, "'%s' command takes at most %d arguments",
                   command->name, command->max_args);
    }

    error = control_client_target_path(options.target, &path);
    if (error) {
        iovp_fatal(0, "%s", error);
    }
    if (!strcmp(command->name, "capture")) {
        /* It asks iovpd on connections of its own. */
        struct ofctl_capture_options co = {
            .control_path = path,
            .timeout_ms = options.timeout_ms,
            .port = argv[optind + 1],
            .match = n_args > 1 ? argv[optind + 2] : "",
            .file = options.write_file,
            .snaplen = options.snaplen,
            .count = options.count,
        };
        retval = ofctl_capture(&co);
        free(path);
        return retval;
    }
    if (options.capture_options) {
        iovp_fatal(0, "-w, -s and -c are options of 'capture' only");
    }
    retval = control_client_open(path, options.timeout_ms, &client);
    if (retval) {
        iovp_fatal(retval, "cannot connect to \"%s\"", path);
    }

    json_t *result = NULL;
    if (!strcmp(command->name, "trace")) {
        retval = ofctl_trace(client, &options, argv[optind + 1],
                             argv[optind + 2]);
        goto exit;
    }
    if (!strcmp(command->name, "verify-offload")) {
        retval = ofctl_verify_offload(client, &options, n_args,
                                      (const char **) &argv[optind + 1]);
        goto exit;
    }
    if (options.json) {
        const char *set_options[] = { "--format", "json" };
        retval = ofctl_transact(client, &options, "set-options", 2,
                                set_options, &result);
        json_decref(result);
        if (retval) {
            goto exit;
        }
    }
    retval = ofctl_transact(client, &options, command->daemon_command,
                            n_args, (const char **) &argv[optind + 1],
                            &result);
    if (!retval) {
        retval = ofctl_print(&options, result);
        json_decref(result);
    }

exit:
    control_client_close(client);
    free(path);
    return retval;
}

/* Parses the options in 'argv' into 'options', wherever they are on the
 * command line, as ovs-ofctl takes them: getopt_long() permutes 'argv' so
 * that the command and its arguments, in their order, come after the
 * options.  "--" ends the options.  Returns the index in 'argv' of the
 * first argument that is not an option, the command's name. */
static int
ofctl_parse_options(int argc, char *argv[], struct ofctl_options *options)
{
    static const struct option long_options[] = {
        {"target", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"format", required_argument, NULL, 'f'},
        {"write", required_argument, NULL, 'w'},
        {"snaplen", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };

    options->target = "iovpd";
    options->timeout_ms = -1;
    options->json = false;
    options->write_file = NULL;
    options->snaplen = 0;
    options->count = 0;
    options->capture_options = false;

    for (;;) {
        int c = getopt_long(argc, argv, "t:T:f:w:s:c:hV", long_options, NULL);
        if (c == -1) {
            break;
        }

        switch (c) {
        case 't':
            options->target = optarg;
            break;

        case 'T': {
            char *end;
            long int secs = strtol(optarg, &end, 10);
            if (*end || secs < 0 || secs > INT_MAX / 1000) {
                iovp_fatal(0, "--timeout takes a number of seconds, not "
                           "\"%s\"", optarg);
            }
            options->timeout_ms = secs ? secs * 1000 : -1;
            break;
        }

        case 'f':
            if (!strcmp(optarg, "json")) {
                options->json = true;
            } else if (!strcmp(optarg, "text")) {
                options->json = false;
            } else {
                iovp_fatal(0, "unknown --format \"%s\" (use text or json)",
                           optarg);
            }
            break;

        case 'w':
            options->write_file = optarg;
            options->capture_options = true;
            break;

        case 's': {
            char *end;
            long int n = strtol(optarg, &end, 10);
            if (!optarg[0] || *end || n < 0 || n > 65535
                || (n && n < 14)) {
                iovp_fatal(0, "-s takes a snap length from 14 to 65535 "
                           "bytes, or 0 for whole frames, not \"%s\"",
                           optarg);
            }
            options->snaplen = n;
            options->capture_options = true;
            break;
        }

        case 'c': {
            char *end;
            long long int n = strtoll(optarg, &end, 10);
            if (!optarg[0] || *end || n <= 0) {
                iovp_fatal(0, "-c takes a number of frames, not \"%s\"",
                           optarg);
            }
            options->count = n;
            options->capture_options = true;
            break;
        }

        case 'h':
            ofctl_usage();
            exit(EXIT_SUCCESS);

        case 'V':
            printf("iovp-ofctl (iovp) %s\n", PACKAGE_VERSION);
            exit(EXIT_SUCCESS);

        case '?':
            exit(EXIT_FAILURE);

        default:
            abort();
        }
    }
    return optind;
}

/* Prints a summary of the commands, each with its usage and a line of
 * description in aligned columns, and of the options. */
static void
ofctl_usage(void)
{
    int width = 0;

    /* The width of the longest "NAME USAGE". */
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(ofctl_commands); i++) {
        const struct ofctl_command *c = &ofctl_commands[i];
        width = MAX(width, (int) (strlen(c->name) + 1 + strlen(c->usage)));
    }

    printf("iovp-ofctl: inspects a running iovpd\n"
           "usage: iovp-ofctl [OPTIONS] COMMAND [ARG...]\n"
           "\nCommands:\n");
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(ofctl_commands); i++) {
        const struct ofctl_command *c = &ofctl_commands[i];
        int usage_width = width - (int) strlen(c->name) - 1;
        printf("  %s %-*s  %s\n",
               c->name, usage_width, c->usage, c->description);
    }
    printf("\n\
Options, before or after COMMAND and its arguments (\"--\" ends them):\n\
  -t, --target=TARGET     iovpd to talk to: a daemon name, whose pidfile is\n\
                          in $IOVP_RUNDIR (default /var/run/iovp), or a\n\
                          control socket's file name (default: iovpd)\n\
  -T, --timeout=SECS      wait at most SECS seconds for a reply\n\
  -f, --format=FORMAT     output as text (default) or json\n\
  -w, --write=FILE        capture: write the frames to FILE (\"-\": stdout)\n\
                          as pcap, for tcpdump -r and Wireshark\n\
  -s, --snaplen=SNAPLEN   capture: cut each frame to SNAPLEN bytes (at\n\
                          least 14; 0, the default: whole frames)\n\
  -c, --count=COUNT       capture: stop after COUNT frames (else at SIGINT\n\
                          or SIGTERM)\n\
  -h, --help              display this help message\n\
  -V, --version           display version information\n");
}
