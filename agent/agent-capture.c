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

/* Capture sessions: the temporary captures that "iovp-ofctl capture" asks
 * for, which iovpd keeps itself rather than in the database.
 *
 * "capture/start PID PORT [MATCH [SNAPLEN]]" checks what it is given and
 * makes a session: iovpd adds an internal port to the integration bridge
 * for it (bridge_ensure_capture_ports()), and once the port has an
 * OpenFlow port, translation makes the session's capture flows as it
 * makes an Iovp_Capture row's (agent/xlate-capture.h), which also keeps
 * what the capture selects out of the NIC's fast path.  The command
 * answers with the port's device name once the switch holds those flows,
 * so that its client misses nothing it reads from then on.
 *
 * A session ends with "capture/stop DEVICE", or when process PID, its
 * client, is gone (checked every second), so that a client killed outright
 * leaves nothing behind; its port then leaves the bridge, and so do the
 * ports of sessions that a previous iovpd left (they have
 * external_ids:iovp-capture). */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/list.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/agent-private.h"
#include "agent/bridge.h"
#include "agent/ports.h"
#include "agent/translate.h"
#include "agent/xlate-capture.h"
#include "lib/control.h"
#include "lib/util.h"
#include "model/vswitch-idl.h"
#include "ofp/ofctrl.h"

VLOG_DEFINE_THIS_MODULE(capture);

/* At most this many sessions at once. */
#define AGENT_CAPTURE_MAX 16

/* How long a session may take to start, in ms: its port on the bridge and
 * its flows in the switch. */
#define AGENT_CAPTURE_START_TIMEOUT 10000

/* How often the sessions' clients are looked for, in ms. */
#define AGENT_CAPTURE_CHECK_INTERVAL 1000

/* A capture session. */
struct agent_capture {
    struct ovs_list node;       /* In 'agent->captures'. */
    struct xlate_capture_session s;     /* 's.device' names it. */
    long int pid;               /* Its client. */
    struct control_deferred *reply;     /* "capture/start"'s, until it
                                         * has started; else NULL. */
    uint64_t deadline;          /* uv_now() by which it must start. */
};

static void agent_capture_timer_cb(uv_timer_t *);

/* Returns 'agent''s session on device 'device', or NULL. */
static struct agent_capture *
agent_capture_find(const struct agent *agent, const char *device)
{
    struct agent_capture *cap;

    LIST_FOR_EACH (cap, node, &agent->captures) {
        if (!strcmp(cap->s.device, device)) {
            return cap;
        }
    }
    return NULL;
}

/* Ends session 'cap': answers its "capture/start" with 'error' if it has
 * not yet, and frees it.  Its port leaves the bridge in the next run
 * pass. */
static void
agent_capture_end(struct agent *agent, struct agent_capture *cap,
                  const char *error)
{
    if (cap->reply) {
        control_deferred_reply_error(cap->reply, error);
    }
    ovs_list_remove(&cap->node);
    free(cap->s.device);
    free(cap->s.source);
    free(cap->s.match);
    free(cap);
    if (ovs_list_is_empty(&agent->captures)) {
        uv_timer_stop(&agent->capture_timer);
    }
    agent_wake(agent);
}

/* Returns true if process 'pid' may still be running: it exists (perhaps
 * as another user's, which iovpd may not signal) and is no zombie, which
 * has exited and waits only for its parent to reap it. */
static bool
agent_capture_owner_is_alive(long int pid)
{
    if (kill(pid, 0) && errno == ESRCH) {
        return false;
    }

    char name[64], line[512];
    snprintf(name, sizeof name, "/proc/%ld/stat", pid);
    FILE *stream = fopen(name, "r");
    bool alive = true;
    if (stream) {
        /* "PID (COMM) STATE ...", where COMM may hold ')'. */
        if (fgets(line, sizeof line, stream)) {
            const char *paren = strrchr(line, ')');
            alive = !paren || (paren[1] != ' '
                               || (paren[2] != 'Z' && paren[2] != 'X'));
        }
        fclose(stream);
    }
    return alive;
}

/* Ends the sessions whose clients are gone, and those that took too long
 * to start. */
static void
agent_capture_timer_cb(uv_timer_t *timer)
{
    struct agent *agent = timer->data;
    uint64_t now = uv_now(agent->loop);
    struct agent_capture *cap;

    LIST_FOR_EACH_SAFE (cap, node, &agent->captures) {
        if (!agent_capture_owner_is_alive(cap->pid)
            || (cap->reply && control_deferred_is_orphaned(cap->reply))) {
            VLOG_INFO("capture session %s on %s: process %ld is gone, "
                      "ending it", cap->s.device, cap->s.source, cap->pid);
            agent_capture_end(agent, cap, "its client is gone");
        } else if (cap->reply && now >= cap->deadline) {
            VLOG_WARN("capture session %s on %s did not start in %d ms",
                      cap->s.device, cap->s.source,
                      AGENT_CAPTURE_START_TIMEOUT);
            agent_capture_end(agent, cap, "the capture port or its flows "
                              "did not come up in time");
        }
    }
}

/* Returns a name for a new session's device that no session and no port
 * of the Open_vSwitch model has, or NULL if there is none.  The names go
 * round, so that a new session does not take the name of a port that is
 * still leaving. */
static char *
agent_capture_new_device(struct agent *agent)
{
    for (int i = 0; i < 1000; i++) {
        char *device = iovp_xasprintf("iovpcap%u",
                                      agent->capture_serial++ % 1000);
        if (!agent_capture_find(agent, device)
            && !vswitch_port_find_by_string(agent->ovs_idl,
                                            VSWITCH_PORT_COL_NAME, device)
            && !vswitch_interface_find_by_string(
                agent->ovs_idl, VSWITCH_INTERFACE_COL_NAME, device)) {
            return device;
        }
        free(device);
    }
    return NULL;
}

/* Parses 's' as an integer from 'min' to 'max' into '*value'.  Returns
 * true if it is one. */
static bool
agent_capture_parse_int(const char *s, long int min, long int max,
                        long int *value)
{
    char *end;

    errno = 0;
    *value = strtol(s, &end, 10);
    return s[0] && !*end && !errno && *value >= min && *value <= max;
}

/* "capture/start PID PORT [MATCH [SNAPLEN]]": starts a session for process
 * PID that copies what VM port PORT sends and receives that MATCH selects
 * (in ovs-ofctl's syntax; every frame if empty or none) cut to SNAPLEN
 * bytes (whole frames if 0 or none), to a new internal port, and answers
 * with its device's name once it captures. */
static void
agent_cmd_capture_start(struct control_conn *conn, int argc,
                        const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    const char *match = argc > 3 ? argv[3] : "";
    long int pid, snaplen = 0;

    if (!agent_capture_parse_int(argv[1], 1, INT32_MAX, &pid)) {
        control_reply_error(conn, "PID must be a process id");
        return;
    } else if (!agent_capture_owner_is_alive(pid)) {
        control_reply_error(conn, "no process has that PID");
        return;
    } else if (argc > 4 && (!agent_capture_parse_int(argv[4], 0, 65535,
                                                     &snaplen)
                            || (snaplen && snaplen < 14))) {
        control_reply_error(conn, "SNAPLEN must be 0 (whole frames) or from "
                            "14 to 65535");
        return;
    }

    const struct port *port = ports_find(translate_ports(agent->translate),
                                         argv[2]);
    if (!port || port->ofport < 0) {
        char *error = iovp_xasprintf("%s is not a VM port of this switch "
                                     "on the bridge", argv[2]);
        control_reply_error(conn, error);
        free(error);
        return;
    }

    char *fault = xlate_capture_check_match(match);
    if (fault) {
        /* "its match ..." is said of a capture. */
        char *error = iovp_xasprintf("bad match: %s", fault);
        control_reply_error(conn, error);
        free(error);
        free(fault);
        return;
    }

    if (!agent_current(agent->ovs_db)) {
        control_reply_error(conn, "no current copy of the Open_vSwitch "
                            "database yet");
        return;
    } else if (ovs_list_size(&agent->captures) >= AGENT_CAPTURE_MAX) {
        control_reply_error(conn, "too many capture sessions");
        return;
    }
    char *device = agent_capture_new_device(agent);
    if (!device) {
        control_reply_error(conn, "no free capture port name");
        return;
    }

    struct agent_capture *cap = iovp_xzalloc(sizeof *cap);
    cap->s = (struct xlate_capture_session) {
        .device = device,
        .source = iovp_xstrdup(port->name),
        .match = iovp_xstrdup(match),
        .snaplen = snaplen,
        .dest_ofport = -1,
    };
    cap->pid = pid;
    cap->deadline = uv_now(agent->loop) + AGENT_CAPTURE_START_TIMEOUT;
    cap->reply = control_defer(conn);
    if (ovs_list_is_empty(&agent->captures)) {
        uv_timer_start(&agent->capture_timer, agent_capture_timer_cb,
                       AGENT_CAPTURE_CHECK_INTERVAL,
                       AGENT_CAPTURE_CHECK_INTERVAL);
    }
    ovs_list_push_back(&agent->captures, &cap->node);
    VLOG_INFO("capture session %s on %s for process %ld: match \"%s\", "
              "snaplen %ld", device, port->name, pid, match, snaplen);
    agent_wake(agent);
}

/* "capture/stop DEVICE": ends the session on DEVICE. */
static void
agent_cmd_capture_stop(struct control_conn *conn, int argc OVS_UNUSED,
                       const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct agent_capture *cap = agent_capture_find(agent, argv[1]);

    if (!cap) {
        control_reply_error(conn, "no such capture session");
        return;
    }
    VLOG_INFO("capture session %s on %s stopped", cap->s.device,
              cap->s.source);
    agent_capture_end(agent, cap, "stopped");
    control_reply(conn, "");
}

/* Returns the text of "capture/list" for 'list'. */
static char *
agent_capture_list_text(const json_t *list)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const json_t *value;
    size_t i;

    json_array_foreach (list, i, value) {
        ds_put_format(&s, "%s: port %s, match \"%s\", snaplen %"
                      JSON_INTEGER_FORMAT", pid %"JSON_INTEGER_FORMAT"%s\n",
                      json_string_value(json_object_get(value, "device")),
                      json_string_value(json_object_get(value, "port")),
                      json_string_value(json_object_get(value, "match")),
                      json_integer_value(json_object_get(value, "snaplen")),
                      json_integer_value(json_object_get(value, "pid")),
                      json_is_true(json_object_get(value, "started"))
                      ? "" : " (starting)");
    }
    return ds_steal_cstr(&s);
}

/* "capture/list": the capture sessions. */
static void
agent_cmd_capture_list(struct control_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    json_t *list = json_array();
    struct agent_capture *cap;

    LIST_FOR_EACH (cap, node, &agent->captures) {
        json_array_append_new(list, json_pack(
            "{s:s, s:s, s:s, s:i, s:I, s:b}",
            "device", cap->s.device, "port", cap->s.source,
            "match", cap->s.match, "snaplen", cap->s.snaplen,
            "pid", (json_int_t) cap->pid, "started", !cap->reply));
    }
    if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        control_reply_json(conn, list);
    } else {
        char *s = agent_capture_list_text(list);
        control_reply(conn, s);
        free(s);
        json_decref(list);
    }
}

/* Brings the bridge's capture ports in line with the sessions, and gives
 * translation the sessions as they are now (each with its port's OpenFlow
 * port).  For the run pass, before the flows are reconciled. */
void
agent_capture_run(struct agent *agent)
{
    if (!agent_current(agent->ovs_db)) {
        return;
    }

    size_t n = ovs_list_size(&agent->captures), i = 0;
    const char **devices = iovp_xmalloc(MAX(n, 1) * sizeof *devices);
    struct xlate_capture_session *sessions
        = iovp_xmalloc(MAX(n, 1) * sizeof *sessions);
    struct agent_capture *cap;
    LIST_FOR_EACH (cap, node, &agent->captures) {
        cap->s.dest_ofport = bridge_capture_ofport(agent->ovs_idl,
                                                   agent->bridge,
                                                   cap->s.device);
        devices[i] = cap->s.device;
        sessions[i++] = cap->s;
    }

    if (!agent->ovs_txn.in_flight) {
        json_t *ops = bridge_ensure_capture_ports(agent->ovs_idl,
                                                  agent->bridge, devices, n);
        if (ops) {
            VLOG_INFO("setting up the capture ports");
            agent_transact(agent->ovs_db, &agent->ovs_txn, ops);
        }
    }
    translate_set_capture_sessions(agent->translate, sessions, n);
    free(devices);
    free(sessions);
}

/* Answers the "capture/start" of each session that has started since the
 * last run pass, or cannot.  For the run pass, after the flows are
 * reconciled. */
void
agent_capture_answer(struct agent *agent)
{
    struct agent_capture *cap;

    LIST_FOR_EACH_SAFE (cap, node, &agent->captures) {
        if (!cap->reply) {
            continue;
        }

        const char *fault;
        int state = xlate_capture_session_state(
            translate_xcap(agent->translate), cap->s.device,
            translate_desired(agent->translate),
            ofctrl_installed(agent->ofctrl), &fault);
        if (!state) {
            char *device = iovp_xasprintf("%s\n", cap->s.device);
            VLOG_INFO("capture session %s on %s started", cap->s.device,
                      cap->s.source);
            control_deferred_reply(cap->reply, device);
            free(device);
            cap->reply = NULL;
        } else if (state == -EINVAL) {
            VLOG_INFO("capture session %s on %s cannot start: %s",
                      cap->s.device, cap->s.source, fault);
            agent_capture_end(agent, cap, fault);
        }
    }
}

/* Sets up the timer of 'agent''s sessions. */
void
agent_capture_init(struct agent *agent)
{
    uv_timer_init(agent->loop, &agent->capture_timer);
    agent->capture_timer.data = agent;
}

/* Ends every session, at shutdown: their ports stay on the bridge until
 * iovpd runs again, which takes them away. */
void
agent_capture_close(struct agent *agent)
{
    struct agent_capture *cap;

    LIST_FOR_EACH_SAFE (cap, node, &agent->captures) {
        agent_capture_end(agent, cap, "iovpd is shutting down");
    }
    uv_close((uv_handle_t *) &agent->capture_timer, NULL);
}

/* Registers the capture sessions' control commands. */
void
agent_capture_register(struct agent *agent)
{
    control_register(agent->control, "capture/start",
                     "PID PORT [MATCH [SNAPLEN]]", 2, 4,
                     agent_cmd_capture_start, agent);
    control_register(agent->control, "capture/stop", "DEVICE", 1, 1,
                     agent_cmd_capture_stop, agent);
    control_register(agent->control, "capture/list", "", 0, 0,
                     agent_cmd_capture_list, agent);
}
