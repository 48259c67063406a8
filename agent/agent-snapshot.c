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

/* The hardware_vtep replica that iovpd saves when it exits, and starts
 * from the next time: a restart then asks the database only for what
 * changed meanwhile (monitor_cond_since from the saved transaction), and
 * the database sends a complete copy instead when it cannot tell (it is
 * not clustered, or no longer has that transaction in its history).  The
 * saved rows are translated while the database confirms them, but no flow
 * made from them is put before it has confirmed or replaced them: until
 * its monitor's reply, the replica is not current (agent_current()).
 *
 * The file holds JSON texts one after the other.  The first has the
 * switch's identity and the saved session (odb_session_save()) with the
 * rows that the monitor's conditions read; the others, the rows of the
 * tables that they do not read (vtep_scope_unread_tables[], the ACLs'
 * entries), SNAPSHOT_ROWS_PER_TEXT at a time, which load once the first
 * monitor request has left.  A file of one text is read as well. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openvswitch/vlog.h>

#include "agent/agent-private.h"
#include "agent/vtep-scope.h"
#include "lib/json-decode.h"
#include "lib/json-encode.h"
#include "lib/util.h"
#include "ovsdb/client.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(agent_snapshot);

/* The rows of a table that loads after the first monitor request go in
 * JSON texts of this many: one text's tree is all that a restart holds of
 * them at once.  (At 100,000 ACL entries, their tree as one text took
 * 90 MB, which a new process had to take from the kernel a page at a
 * time.) */
#define SNAPSHOT_ROWS_PER_TEXT 10000

/* Appends 'json''s text to 'fd'.  Returns 0 or an errno value. */
static int
snapshot_write_json(int fd, const json_t *json)
{
    size_t len;
    char *text = iovp_json_encode(json, &len);
    int error = text ? 0 : EINVAL;

    for (size_t n = 0; !error && n < len; ) {
        ssize_t retval = write(fd, text + n, len - n);
        if (retval > 0) {
            n += retval;
        } else if (!retval || errno != EINTR) {
            error = retval ? errno : EIO;
        }
    }
    free(text);
    return error;
}

/* Appends to 'fd' the rows that 'later' holds ({TABLE: {"columns": [...],
 * "rows": [...]}}, as odb_replica_save() gives them) as JSON texts of at
 * most SNAPSHOT_ROWS_PER_TEXT rows each.  Returns 0 or an errno value. */
static int
snapshot_write_later(int fd, const json_t *later)
{
    const char *name;
    json_t *table;
    int error = 0;

    json_object_foreach (CONST_CAST(json_t *, later), name, table) {
        json_t *columns = json_object_get(table, "columns");
        json_t *rows = json_object_get(table, "rows");
        size_t n = json_array_size(rows);

        for (size_t i = 0; !error && i < n; i += SNAPSHOT_ROWS_PER_TEXT) {
            json_t *part = json_array();
            for (size_t j = i; j < MIN(n, i + SNAPSHOT_ROWS_PER_TEXT); j++) {
                json_array_append(part, json_array_get(rows, j));
            }
            json_t *text = json_pack("{s:{s:O, s:o}}", name, "columns",
                                     columns, "rows", part);
            error = snapshot_write_json(fd, text);
            json_decref(text);
        }
    }
    return error;
}

/* Writes to a new file 'name', that only its owner can read (it holds the
 * switch's whole policy), 'snapshot', then the rows that 'later' holds
 * (see snapshot_write_later()).  Returns 0 or an errno value. */
static int
snapshot_write(const char *name, const json_t *snapshot, const json_t *later)
{
    /* A file left by a process that died while writing keeps its mode. */
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int error = fd < 0 || fchmod(fd, 0600) ? errno : 0;

    if (!error) {
        error = snapshot_write_json(fd, snapshot);
    }
    if (!error) {
        error = snapshot_write_later(fd, later);
    }
    if (fd >= 0 && close(fd) && !error) {
        error = errno;
    }
    return error;
}

/* Reads file 'name' whole.  Returns its contents, malloc()'d, and their
 * length in '*lenp', or NULL with a malloc()'d error in '*errorp'.  (Whole,
 * then parsed from memory: json_load_file() reads a byte at a time through
 * stdio, which took 0.55 s of a 15.5-MB file, against 0.49 s.) */
static char *
snapshot_read(const char *name, size_t *lenp, char **errorp)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;

    if (fd < 0 || fstat(fd, &st)) {
        *errorp = iovp_xstrdup(strerror(errno));
    } else {
        size_t n = 0;
        ssize_t retval = 0;

        buf = iovp_xmalloc(MAX(1, st.st_size));
        while (n < st.st_size
               && ((retval = read(fd, buf + n, st.st_size - n)) > 0
                   || (retval < 0 && errno == EINTR))) {
            n += MAX(retval, 0);
        }
        if (retval < 0) {
            *errorp = iovp_xstrdup(strerror(errno));
            free(buf);
            buf = NULL;
        }
        *lenp = n;
    }
    if (fd >= 0) {
        close(fd);
    }
    return buf;
}

/* Saves the hardware_vtep replica in the agent's snapshot file, or removes
 * the file when the replica could not be resumed from (see
 * odb_session_save()): an older snapshot would only cost its reading.  A
 * replica that the database never confirmed leaves the file as it is: the
 * next process resumes from it as this one would have. */
void
agent_snapshot_save(struct agent *agent)
{
    if (!agent->snapshot || !agent->vtep_db) {
        return;
    }

    uint64_t start = uv_hrtime();
    json_t *vtep = odb_client_save(agent->vtep_db);
    if (!vtep) {
        if (agent->vtep_unconfirmed) {
            VLOG_INFO("%s: kept, as the database has not answered",
                      agent->snapshot);
        } else if (unlink(agent->snapshot) && errno != ENOENT) {
            VLOG_WARN("%s: cannot remove (%s)", agent->snapshot,
                      strerror(errno));
        }
        return;
    }

    /* The rows that the monitor's conditions do not read follow, in texts
     * of their own: the next process loads them while the database
     * answers its first monitor request. */
    json_t *rows = json_object_get(vtep, "rows");
    json_t *later = json_object();
    for (const char *const *t = vtep_scope_unread_tables; *t; t++) {
        json_t *table = json_object_get(rows, *t);
        if (table) {
            json_object_set(later, *t, table);
            json_object_del(rows, *t);
        }
    }

    /* The identity that the conditions were made for: the next process
     * takes what its options do not give from it, until it has read
     * Open_vSwitch, so that its first conditions are the saved ones. */
    json_t *snapshot = json_pack("{s:s?, s:s?, s:o}",
                                 "switch_name", agent->scope_name,
                                 "tunnel_ip", agent->scope_tunnel_ip,
                                 "hardware_vtep", vtep);
    char *tmp = iovp_xasprintf("%s.tmp", agent->snapshot);
    int error = snapshot_write(tmp, snapshot, later);
    if (!error && rename(tmp, agent->snapshot)) {
        error = errno;
    }
    if (error) {
        VLOG_WARN("%s: cannot write (%s)", agent->snapshot, strerror(error));
        unlink(tmp);
    } else {
        VLOG_INFO("%s: saved %zu rows of hardware_vtep in %.0f ms",
                  agent->snapshot,
                  odb_replica_n_rows(odb_client_replica(agent->vtep_db)),
                  (uv_hrtime() - start) / 1e6);
    }
    free(tmp);
    json_decref(snapshot);
    json_decref(later);
}

/* Gives the hardware_vtep client the replica that the agent's snapshot
 * file holds, if there is one and it is valid; otherwise, says why and
 * starts without it. */
void
agent_snapshot_restore(struct agent *agent)
{
    struct stat st;

    if (!agent->snapshot
        || (stat(agent->snapshot, &st) && errno == ENOENT)) {
        return;
    }

    uint64_t start = uv_hrtime();
    size_t len = 0, used = 0;
    char *error = NULL;
    char *buf = snapshot_read(agent->snapshot, &len, &error);
    json_t *snapshot = buf ? iovp_json_decode(buf, len, &used, &error) : NULL;
    json_t *name = NULL, *tunnel_ip = NULL, *vtep = NULL;
    if (!snapshot) {
        /* 'error' says why. */
    } else if (json_unpack(snapshot, "{s:o, s:o, s:o}",
                           "switch_name", &name, "tunnel_ip", &tunnel_ip,
                           "hardware_vtep", &vtep)
               || !(json_is_string(name) || json_is_null(name))
               || !(json_is_string(tunnel_ip) || json_is_null(tunnel_ip))) {
        error = iovp_xasprintf("not an iovpd snapshot");
    } else {
        /* The texts after the first, the ACLs' entries, load while the
         * database answers the monitor request, which does not depend on
         * them. */
        error = odb_client_restore(agent->vtep_db, vtep, buf + used,
                                   len - used);
    }
    if (error) {
        VLOG_WARN("%s: %s; the database will send every row",
                  agent->snapshot, error);
        free(error);
    } else {
        free(agent->scope_name);
        agent->scope_name = iovp_nullable_xstrdup(json_string_value(name));
        free(agent->scope_tunnel_ip);
        agent->scope_tunnel_ip = iovp_nullable_xstrdup(
            json_string_value(tunnel_ip));
        agent->scope_restored = agent->vtep_unconfirmed = true;
        VLOG_INFO("%s: read %zu rows of hardware_vtep in %.0f ms; asking "
                  "the database for what changed since", agent->snapshot,
                  odb_replica_n_rows(odb_client_replica(agent->vtep_db)),
                  (uv_hrtime() - start) / 1e6);
    }
    json_decref(snapshot);
    free(buf);
}
