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

#include "agent/daemon.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openvswitch/dynamic-string.h>

#include "lib/util.h"

/* Initializes 'd' for a daemon that neither detaches nor has a pidfile. */
void
daemon_init(struct daemon *d)
{
    d->notify_fd = -1;
    d->chdir_root = false;
    d->pidfile = NULL;
    d->pidfile_fd = -1;
    d->switch_user = false;
    d->user = NULL;
    d->uid = 0;
    d->gid = 0;
}

/* Forks.  The parent waits for the child to call daemon_ready() and exits
 * with status 0 then, or with the child's failure status if the child exits
 * first; it never returns.  The child starts a new session and returns 0.
 * Returns a negative errno value if it cannot fork.  Call this before
 * creating any libuv loop or thread. */
int
daemon_detach_start(struct daemon *d)
{
    int fds[2];
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -errno;
    }

    pid = fork();
    if (pid < 0) {
        int error = -errno;
        close(fds[0]);
        close(fds[1]);
        return error;
    } else if (pid > 0) {
        /* Parent: wait for the child's word. */
        char c;
        ssize_t n;
        int status;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(EXIT_SUCCESS);
        }
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)
            && WEXITSTATUS(status)) {
            _exit(WEXITSTATUS(status));
        }
        _exit(EXIT_FAILURE);
    }

    /* Child. */
    close(fds[0]);
    d->notify_fd = fds[1];
    setsid();
    return 0;
}

/* Creates the pidfile 'file_name' holding this process's pid and locks it
 * for as long as the process lives.  Returns NULL if successful, otherwise
 * a malloc()'d error message for the caller to free (one that names the
 * holder's pid if another live process holds the pidfile). */
char *
daemon_pidfile_create(struct daemon *d, const char *file_name)
{
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    char buf[32];
    char *error;
    int fd;

    fd = open(file_name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return iovp_xasprintf("%s: open failed (%s)", file_name,
                              strerror(errno));
    }
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        int lock_error = errno == EACCES || errno == EAGAIN ? EBUSY : errno;
        if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK) {
            error = iovp_xasprintf("%s: already locked by running process "
                                   "with pid %ld", file_name,
                                   (long int) lock.l_pid);
        } else {
            error = iovp_xasprintf("%s: cannot lock (%s)", file_name,
                                   strerror(lock_error));
        }
        close(fd);
        return error;
    }

    int n = snprintf(buf, sizeof buf, "%ld\n", (long int) getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, buf, n) != n) {
        error = iovp_xasprintf("%s: write failed (%s)", file_name,
                               strerror(errno));
        close(fd);
        unlink(file_name);
        return error;
    }

    d->pidfile = iovp_xstrdup(file_name);
    d->pidfile_fd = fd;
    return NULL;
}

/* Makes 'd' drop, in daemon_drop_privileges(), to the user and group that
 * 'user_spec' names, "USER[:GROUP]" as Open vSwitch's --user takes it:
 * USER's primary group unless GROUP is given, an empty USER meaning the
 * current one.  GROUP must be USER's primary group or list USER as a
 * member.  Only root may switch.  Returns NULL if successful, otherwise a
 * malloc()'d error message for the caller to free. */
char *
daemon_set_user(struct daemon *d, const char *user_spec)
{
    const char *colon = strchr(user_spec, ':');
    size_t len = colon ? (size_t) (colon - user_spec) : strlen(user_spec);
    char *name = iovp_xasprintf("%.*s", (int) len, user_spec);
    struct passwd *pw;
    char *error;

    if (getuid() || geteuid()) {
        error = iovp_xasprintf("--user=%s: only root can switch to another "
                               "user", user_spec);
        free(name);
        return error;
    }

    pw = name[0] ? getpwnam(name) : getpwuid(getuid());
    if (!pw) {
        error = iovp_xasprintf("--user=%s: user %s not found", user_spec,
                               name[0] ? name : "(current)");
        free(name);
        return error;
    }
    free(d->user);
    d->user = iovp_xstrdup(pw->pw_name);
    d->uid = pw->pw_uid;
    d->gid = pw->pw_gid;
    free(name);

    if (colon && colon[1]) {
        struct group *gr;

        gr = getgrnam(colon + 1);
        if (!gr) {
            return iovp_xasprintf("--user=%s: group %s not found",
                                  user_spec, colon + 1);
        }
        if (gr->gr_gid != d->gid) {
            char **member = gr->gr_mem;
            while (*member && strcmp(*member, d->user)) {
                member++;
            }
            if (!*member) {
                return iovp_xasprintf("--user=%s: user %s is not in group "
                                      "%s", user_spec, d->user, colon + 1);
            }
        }
        d->gid = gr->gr_gid;
    }
    d->switch_user = true;
    return NULL;
}

/* Gives the file 'file_name' to the user and group of --user, if 'd' is to
 * switch user, so that the daemon can still remove or reopen it once it
 * runs as that user.  Returns NULL if successful, otherwise a malloc()'d
 * error message for the caller to free. */
char *
daemon_chown(const struct daemon *d, const char *file_name)
{
    if (d->switch_user && chown(file_name, d->uid, d->gid) < 0) {
        return iovp_xasprintf("%s: cannot change owner to %s (%s)",
                              file_name, d->user, strerror(errno));
    }
    return NULL;
}

/* Returns a malloc()'d list of the capabilities in 'caps' (bit N for
 * capability N), as "cap_bpf, cap_net_admin", or "none". */
char *
daemon_capabilities_to_string(uint64_t caps)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (int cap = 0; cap < 64; cap++) {
        if (caps & (UINT64_C(1) << cap)) {
            const char *name = capng_capability_to_name(cap);
            ds_put_format(&s, "%scap_%s", s.length ? ", " : "",
                          name ? name : "unknown");
        }
    }
    return s.length ? ds_steal_cstr(&s) : iovp_xstrdup("none");
}

/* If 'd' is to switch user (daemon_set_user()), becomes that user and
 * group, with no supplementary group, keeping of its capabilities only
 * those in 'keep' (bit N for capability N) in the effective and permitted
 * sets and none in the bounding set, and checks that it did.  Call it
 * before any thread starts: capabilities belong to each thread.  Returns
 * NULL if successful, otherwise a malloc()'d error message for the caller
 * to free. */
char *
daemon_drop_privileges(struct daemon *d, uint64_t keep)
{
    const capng_type_t sets = CAPNG_EFFECTIVE | CAPNG_PERMITTED;

    if (!d->switch_user) {
        return NULL;
    }

    capng_clear(CAPNG_SELECT_BOTH);
    for (int cap = 0; cap < 64; cap++) {
        if (keep & (UINT64_C(1) << cap)
            && capng_update(CAPNG_ADD, sets, cap)) {
            return iovp_xasprintf("libcap-ng does not know capability %d",
                                  cap);
        }
    }
    if (capng_change_id(d->uid, d->gid,
                        CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING)) {
        return iovp_xasprintf("libcap-ng could not switch to user %s (uid "
                              "%ld, gid %ld)", d->user, (long int) d->uid,
                              (long int) d->gid);
    }

    /* Check, rather than trust, the result ("Setuid Demystified"). */
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (getresuid(&ruid, &euid, &suid) || getresgid(&rgid, &egid, &sgid)
        || ruid != d->uid || euid != d->uid || suid != d->uid
        || rgid != d->gid || egid != d->gid || sgid != d->gid
        || getgroups(0, NULL) != 0) {
        return iovp_xasprintf("still not user %s and its group after "
                              "switching", d->user);
    }
    if (capng_get_caps_process()) {
        return iovp_xstrdup("cannot read the capabilities it kept");
    }
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        bool want = keep & (UINT64_C(1) << cap);
        if (capng_have_capability(CAPNG_EFFECTIVE, cap) != want
            || capng_have_capability(CAPNG_PERMITTED, cap) != want) {
            const char *name = capng_capability_to_name(cap);
            return iovp_xasprintf("capability cap_%s %s after switching "
                                  "user", name ? name : "?",
                                  want ? "lost" : "still held");
        }
    }
    return NULL;
}

/* Tells a waiting parent that the daemon is ready, so that it exits, and
 * detaches from the terminal: standard input, output and error go to
 * /dev/null and, unless --no-chdir, the working directory becomes "/". */
void
daemon_ready(struct daemon *d)
{
    if (d->notify_fd < 0) {
        return;
    }

    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        if (null_fd > STDERR_FILENO) {
            close(null_fd);
        }
    }
    if (d->chdir_root && chdir("/") < 0) {
        /* Nothing to report to: stderr is gone.  Staying put is harmless. */
    }

    ssize_t n;
    do {
        n = write(d->notify_fd, "", 1);
    } while (n < 0 && errno == EINTR);
    close(d->notify_fd);
    d->notify_fd = -1;
}

/* Removes the pidfile, if any, and frees what 'd' holds. */
void
daemon_destroy(struct daemon *d)
{
    if (d->pidfile) {
        unlink(d->pidfile);
        close(d->pidfile_fd);
        free(d->pidfile);
        d->pidfile = NULL;
    }
    if (d->notify_fd >= 0) {
        close(d->notify_fd);
        d->notify_fd = -1;
    }
    free(d->user);
    d->user = NULL;
}
