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

#include "agent/agent.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/vlog.h>

#include "lib/control.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(agent);

struct agent {
    uv_loop_t *loop;
    struct control_server *control;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool exiting;
};

/* "exit": replies, then shuts the agent down. */
static void
agent_cmd_exit(struct control_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;

    control_reply(conn, "");
    agent_shutdown(agent);
}

static void
agent_signal_cb(uv_signal_t *handle, int signum)
{
    struct agent *agent = handle->data;

    VLOG_INFO("%s received, exiting", strsignal(signum));
    agent_shutdown(agent);
}

/* Creates the agent on 'loop' as 'options' say: opens its control socket
 * and starts handling SIGTERM and SIGINT.  Returns 0 and the agent in
 * '*agentp', or a negative errno value and NULL (having logged why). */
int
agent_create(uv_loop_t *loop, const struct agent_options *options,
             struct agent **agentp)
{
    struct agent *agent = iovp_xzalloc(sizeof *agent);
    int error;

    *agentp = NULL;
    agent->loop = loop;

    error = control_server_open(loop, options->control_path,
                                options->version, &agent->control);
    if (error) {
        VLOG_ERR("%s: cannot listen for control connections (%s)",
                 options->control_path, uv_strerror(error));
        free(agent);
        return error;
    }
    control_register_vlog(agent->control);
    control_register(agent->control, "exit", "", 0, 0, agent_cmd_exit,
                     agent);

    uv_signal_init(loop, &agent->sigterm);
    uv_signal_init(loop, &agent->sigint);
    agent->sigterm.data = agent->sigint.data = agent;
    uv_signal_start(&agent->sigterm, agent_signal_cb, SIGTERM);
    uv_signal_start(&agent->sigint, agent_signal_cb, SIGINT);

    *agentp = agent;
    return 0;
}

/* Begins an orderly shutdown: closes every handle the agent owns, so that
 * the loop's uv_run() returns once libuv has closed them.  Calling it again
 * does nothing. */
void
agent_shutdown(struct agent *agent)
{
    if (agent->exiting) {
        return;
    }
    agent->exiting = true;
    VLOG_INFO("shutting down");
    control_server_close(agent->control);
    agent->control = NULL;
    uv_close((uv_handle_t *) &agent->sigterm, NULL);
    uv_close((uv_handle_t *) &agent->sigint, NULL);
}

/* Frees 'agent', which must have been shut down and its loop run until its
 * handles closed.  Accepts NULL. */
void
agent_destroy(struct agent *agent)
{
    free(agent);
}
