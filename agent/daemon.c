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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

/* Initializes 'd' for a daemon that neither detaches nor has a pidfile. */
void
daemon_init(struct daemon *d)
{
    d->notify_fd = -1;
    d->chdir_root = false;
    d->pidfile = NULL;
    d->pidfile_fd = -1;
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
 * for as long as the process lives.  Returns 0, or a negative errno value
 * with a malloc()'d message in '*errorp' (-EBUSY if another live process
 * holds it). */
int
daemon_pidfile_create(struct daemon *d, const char *file_name, char **errorp)
{
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    char buf[32];
    int fd;

    *errorp = NULL;
    fd = open(file_name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int error = -errno;
        *errorp = iovp_xasprintf("%s: open failed (%s)", file_name,
                                 strerror(errno));
        return error;
    }
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        int error = errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
        if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK) {
            *errorp = iovp_xasprintf("%s: already locked by running process "
                                     "with pid %ld", file_name,
                                     (long int) lock.l_pid);
        } else {
            *errorp = iovp_xasprintf("%s: cannot lock (%s)", file_name,
                                     strerror(-error));
        }
        close(fd);
        return error;
    }

    int n = snprintf(buf, sizeof buf, "%ld\n", (long int) getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, buf, n) != n) {
        int error = -errno;
        *errorp = iovp_xasprintf("%s: write failed (%s)", file_name,
                                 strerror(errno));
        close(fd);
        unlink(file_name);
        return error;
    }

    d->pidfile = iovp_xstrdup(file_name);
    d->pidfile_fd = fd;
    return 0;
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
}
