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

/* iovpd: the iovp host agent. */

#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/capability.h>
#include <uv.h>

#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/agent.h"
#include "agent/daemon.h"
#include "lib/control.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(iovpd);

/* The command line, parsed. */
struct iovpd_options {
    bool detach;
    bool no_chdir;
    char *pidfile;              /* NULL: none. */
    char *log_file;             /* NULL: none. */
    char *control_path;         /* NULL: the default. */
    int control_idle_timeout;   /* ms; 0: none. */
    char *rundir;
    char *user;                 /* --user=USER[:GROUP], or NULL. */
    char *ovs_db;               /* Open_vSwitch database remote. */
    char *vtep_db;              /* hardware_vtep database remotes. */
    bool leader_only;
    int probe_interval;         /* ms. */
    int min_backoff, max_backoff;   /* ms. */
    size_t max_message;         /* Bytes. */
    char *bridge;
    char *datapath_type;
    char *switch_name;
    char *tunnel_ip;
    long long int port_grace;   /* --port-grace, seconds. */
    char *ofp_remote;           /* The bridge's management socket. */
    char *offload;              /* --offload, or NULL. */
    char *openflow;             /* --openflow, or NULL. */
    int of_rate_limit, of_burst_limit;  /* --openflow-rate-limit. */
    char *private_key;          /* TLS: absolute file names, or NULL. */
    char *certificate;
    char *ca_cert;
    char *bootstrap_ca_cert;
};

static void iovpd_usage(void);
static void iovpd_parse_options(int argc, char *argv[],
                                struct iovpd_options *);

/* Returns a malloc()'d absolute form of 'name': as it is if it starts with
 * '/', otherwise relative to 'dir'. */
static char *
abs_file_name(const char *dir, const char *name)
{
    return (name[0] == '/'
            ? iovp_xstrdup(name)
            : iovp_xasprintf("%s/%s", dir, name));
}

/* Creates directory 'dir' and its parents as needed.  Returns 0 or a
 * negative errno value. */
static int
make_dirs(const char *dir)
{
    char *copy = iovp_xstrdup(dir);
    int error = 0;

    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                error = -errno;
                break;
            }
            *p = c;
            if (!c) {
                break;
            }
        }
    }
    free(copy);
    return error;
}

/* Returns true if process 'pid' exists and has not exited (a zombie, which
 * the init process of some machines reaps late, has exited). */
static bool
pid_is_running(long int pid)
{
    char *name = iovp_xasprintf("/proc/%ld/stat", pid);
    FILE *stream = fopen(name, "r");
    bool running = false;

    free(name);
    if (stream) {
        char state;
        running = fscanf(stream, "%*d (%*[^)]) %c", &state) != 1
                  || (state != 'Z' && state != 'X');
        fclose(stream);
    }
    return running;
}

/* Returns true if no one listens on the Unix socket 'name'. */
static bool
socket_is_dead(const char *name)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    bool dead = false;
    int fd;

    if (strlen(name) >= sizeof sun.sun_path) {
        return false;
    }
    strcpy(sun.sun_path, name);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        dead = (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0
                && errno == ECONNREFUSED);
        close(fd);
    }
    return dead;
}

/* Removes from 'rundir' the control sockets of earlier iovpd processes
 * that ended without removing them (kill -9, a crash): each
 * "iovpd.PID.ctl" that is a socket, whose PID is not a running process,
 * and on which no one listens (which guards against a PID that another
 * PID namespace shares 'rundir' with).  The name has the PID in it, so
 * nothing else would ever remove them. */
static void
iovpd_remove_stale_sockets(const char *rundir)
{
    DIR *dir = opendir(rundir);
    struct dirent *de;

    if (!dir) {
        return;
    }
    while ((de = readdir(dir)) != NULL) {
        const char *digits = de->d_name + strlen("iovpd.");
        char *end;
        long int pid;

        if (strncmp(de->d_name, "iovpd.", strlen("iovpd."))
            || !isdigit((unsigned char) *digits)) {
            continue;
        }
        errno = 0;
        pid = strtol(digits, &end, 10);
        if (errno || strcmp(end, ".ctl") || pid <= 0 || pid == getpid()) {
            continue;
        }

        char *name = iovp_xasprintf("%s/%s", rundir, de->d_name);
        struct stat st;
        if (!lstat(name, &st) && S_ISSOCK(st.st_mode)
            && !pid_is_running(pid) && socket_is_dead(name)) {
            if (!unlink(name)) {
                VLOG_INFO("%s: removed the control socket of process %ld, "
                          "which is gone", name, pid);
            } else {
                VLOG_WARN("%s: cannot remove stale control socket (%s)",
                          name, strerror(errno));
            }
        }
        free(name);
    }
    closedir(dir);
}

/* Gives the files iovpd made while it was root to the user of --user, so
 * that it can still remove its socket and pidfile and reopen its log: the
 * control socket 'control_path' (mode 0660, so that the user's group may
 * connect too), the pidfile, the log file, and the run directory unless
 * all may write there (as in /tmp).  Then drops to that user, keeping only
 * the capabilities that 'agent' needs (the offload backend's: none without
 * one).  Returns NULL if successful, otherwise a malloc()'d error message
 * for the caller to free. */
static char *
iovpd_become_user(struct daemon *d, const struct iovpd_options *options,
                  const char *control_path, const struct agent *agent)
{
    uint64_t keep = agent_privileges(agent);
    const char *files[] = { options->rundir, control_path, d->pidfile,
                            options->log_file };
    struct stat st;
    char *error;

    if (!d->switch_user) {
        return NULL;
    }

    /* On kernels before 5.11, BPF maps and programs count against
     * RLIMIT_MEMLOCK, whose hard limit only CAP_SYS_RESOURCE may raise:
     * raise it now, or at least the soft limit to the hard one.  (Later
     * kernels charge them to the memory cgroup instead.) */
    struct rlimit rlim;
    if (keep & (UINT64_C(1) << CAP_BPF) && !getrlimit(RLIMIT_MEMLOCK, &rlim)
        && rlim.rlim_cur != RLIM_INFINITY) {
        struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
        if (setrlimit(RLIMIT_MEMLOCK, &unlimited)) {
            VLOG_INFO("locked memory limit: %s; kernels before 5.11 count "
                      "BPF maps against it", strerror(errno));
            rlim.rlim_cur = rlim.rlim_max;
            setrlimit(RLIMIT_MEMLOCK, &rlim);
        }
    }

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(files); i++) {
        if (!files[i]
            || (i == 0 && (stat(files[i], &st) || st.st_mode & S_IWOTH))) {
            continue;
        }
        error = daemon_chown(d, files[i]);
        if (error) {
            return error;
        }
    }

    error = daemon_drop_privileges(d, keep);
    if (error) {
        return error;
    }
    char *caps = daemon_capabilities_to_string(keep);
    VLOG_INFO("running as user %s (uid %ld, gid %ld), capabilities: %s",
              d->user, (long int) d->uid, (long int) d->gid, caps);
    free(caps);
    return NULL;
}

int
main(int argc, char *argv[])
{
    struct iovpd_options options;
    struct daemon daemon;
    struct agent *agent;
    uv_loop_t loop;
    int status = EXIT_SUCCESS;
    char *error;

    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    iovpd_parse_options(argc, argv, &options);
    signal(SIGPIPE, SIG_IGN);

    daemon_init(&daemon);
    error = options.user ? daemon_set_user(&daemon, options.user) : NULL;
    if (error) {
        iovp_fatal(0, "%s", error);
    }

    int retval = make_dirs(options.rundir);
    if (retval) {
        iovp_fatal(retval, "%s: cannot create run directory",
                   options.rundir);
    }
    if (options.log_file) {
        char *dir = iovp_xstrdup(options.log_file);
        retval = make_dirs(dirname(dir));
        if (retval) {
            iovp_fatal(retval, "%s: cannot create log directory", dir);
        }
        free(dir);
    }

    daemon.chdir_root = !options.no_chdir;
    if (options.detach) {
        retval = daemon_detach_start(&daemon);
        if (retval) {
            iovp_fatal(retval, "could not fork");
        }
    }

    /* From here on, in the daemon's own process. */
    if (options.log_file && vlog_set_log_file(options.log_file)) {
        VLOG_FATAL("%s: cannot open log file", options.log_file);
    }
    error = (options.pidfile
             ? daemon_pidfile_create(&daemon, options.pidfile)
             : NULL);
    if (error) {
        VLOG_FATAL("%s", error);
    }

    iovpd_remove_stale_sockets(options.rundir);
    char *control_path = (options.control_path
                          ? abs_file_name(options.rundir,
                                          options.control_path)
                          : iovp_xasprintf("%s/iovpd.%ld.ctl",
                                           options.rundir,
                                           (long int) getpid()));
    char *version = iovp_xasprintf("iovpd (iovp) %s", PACKAGE_VERSION);
    const char *bridge = options.bridge ? options.bridge : "br-int";
    char *snapshot = (strchr(bridge, '/') ? NULL
                      : iovp_xasprintf("%s/iovpd.%s.snapshot",
                                       options.rundir, bridge));
    struct agent_options agent_options = {
        .control_path = control_path,
        .version = version,
        .control_idle_timeout = options.control_idle_timeout,
        .ovs_db = options.ovs_db,
        .vtep_db = options.vtep_db,
        .leader_only = options.leader_only,
        .probe_interval = options.probe_interval,
        .min_backoff = options.min_backoff,
        .max_backoff = options.max_backoff,
        .max_message = options.max_message,
        .bridge = options.bridge,
        .datapath_type = options.datapath_type,
        .snapshot = snapshot,
        .switch_name = options.switch_name,
        .tunnel_ip = options.tunnel_ip,
        .port_grace = options.port_grace,
        .ofp_remote = options.ofp_remote,
        .offload = options.offload,
        .openflow = options.openflow,
        .of_rate_limit = options.of_rate_limit,
        .of_burst_limit = options.of_burst_limit,
        .tls = {
            .private_key = options.private_key,
            .certificate = options.certificate,
            .ca_cert = options.ca_cert,
            .bootstrap_ca_cert = options.bootstrap_ca_cert,
        },
    };

    uv_loop_init(&loop);
    if (agent_create(&loop, &agent_options, &agent)) {
        status = EXIT_FAILURE;
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        /* The control socket, the pidfile and the log file are open: what
         * needs root is done. */
        error = iovpd_become_user(&daemon, &options, control_path, agent);
        if (error) {
            VLOG_ERR("--user: %s", error);
            free(error);
            status = EXIT_FAILURE;
            agent_shutdown(agent);
        } else {
            VLOG_INFO("%s started", version);
            daemon_ready(&daemon);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        agent_destroy(agent);
    }

    retval = uv_loop_close(&loop);
    if (retval) {
        VLOG_ERR("libuv loop still has open handles at exit (%s)",
                 uv_strerror(retval));
        status = EXIT_FAILURE;
    }
    VLOG_INFO("exiting");

    daemon_destroy(&daemon);
    free(control_path);
    free(snapshot);
    free(version);
    free(options.pidfile);
    free(options.log_file);
    free(options.control_path);
    free(options.rundir);
    free(options.user);
    free(options.ovs_db);
    free(options.vtep_db);
    free(options.bridge);
    free(options.datapath_type);
    free(options.switch_name);
    free(options.tunnel_ip);
    free(options.offload);
    free(options.openflow);
    free(options.ofp_remote);
    free(options.private_key);
    free(options.certificate);
    free(options.ca_cert);
    free(options.bootstrap_ca_cert);
    return status;
}

/* Replaces the malloc()'d string in '*s' by a copy of 'value'. */
static void
set_string(char **s, const char *value)
{
    free(*s);
    *s = iovp_xstrdup(value);
}

/* Parses 'arg', the value of 'option', as a whole number of milliseconds
 * from 0 to a day. */
static int
parse_ms(const char *arg, const char *option)
{
    char *end;
    long int ms = strtol(arg, &end, 10);

    if (!arg[0] || *end || ms < 0 || ms > 86400000) {
        iovp_fatal(0, "%s: \"%s\" is not a number of milliseconds",
                   option, arg);
    }
    return ms;
}

static void
iovpd_parse_options(int argc, char *argv[], struct iovpd_options *options)
{
    enum {
        OPT_DETACH = UCHAR_MAX + 1,
        OPT_NO_CHDIR,
        OPT_PIDFILE,
        OPT_LOG_FILE,
        OPT_UNIXCTL,
        OPT_CONTROL_IDLE_TIMEOUT,
        OPT_RUNDIR,
        OPT_USER,
        OPT_OVS_DB,
        OPT_VTEP_DB,
        OPT_LEADER_ONLY,
        OPT_PROBE_INTERVAL,
        OPT_BACKOFF,
        OPT_MAX_MESSAGE,
        OPT_BRIDGE,
        OPT_DATAPATH_TYPE,
        OPT_SWITCH_NAME,
        OPT_TUNNEL_IP,
        OPT_PORT_GRACE,
        OPT_OFFLOAD,
        OPT_OPENFLOW,
        OPT_OPENFLOW_RATE_LIMIT,
        OPT_BOOTSTRAP_CA_CERT,
    };
    static const struct option long_options[] = {
        {"detach", no_argument, NULL, OPT_DETACH},
        {"no-chdir", no_argument, NULL, OPT_NO_CHDIR},
        {"pidfile", optional_argument, NULL, OPT_PIDFILE},
        {"log-file", optional_argument, NULL, OPT_LOG_FILE},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"control-idle-timeout", required_argument, NULL,
         OPT_CONTROL_IDLE_TIMEOUT},
        {"rundir", required_argument, NULL, OPT_RUNDIR},
        {"user", required_argument, NULL, OPT_USER},
        {"ovs-db", required_argument, NULL, OPT_OVS_DB},
        {"vtep-db", required_argument, NULL, OPT_VTEP_DB},
        {"leader-only", no_argument, NULL, OPT_LEADER_ONLY},
        {"probe-interval", required_argument, NULL, OPT_PROBE_INTERVAL},
        {"backoff", required_argument, NULL, OPT_BACKOFF},
        {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
        {"bridge", required_argument, NULL, OPT_BRIDGE},
        {"datapath-type", required_argument, NULL, OPT_DATAPATH_TYPE},
        {"switch-name", required_argument, NULL, OPT_SWITCH_NAME},
        {"tunnel-ip", required_argument, NULL, OPT_TUNNEL_IP},
        {"port-grace", required_argument, NULL, OPT_PORT_GRACE},
        {"offload", required_argument, NULL, OPT_OFFLOAD},
        {"openflow", required_argument, NULL, OPT_OPENFLOW},
        {"openflow-rate-limit", required_argument, NULL,
         OPT_OPENFLOW_RATE_LIMIT},
        {"private-key", required_argument, NULL, 'p'},
        {"certificate", required_argument, NULL, 'c'},
        {"ca-cert", required_argument, NULL, 'C'},
        {"bootstrap-ca-cert", required_argument, NULL, OPT_BOOTSTRAP_CA_CERT},
        {"verbose", optional_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *pidfile = NULL;
    const char *log_file = NULL;
    bool want_pidfile = false;
    bool want_log_file = false;
    char cwd[4096];

    memset(options, 0, sizeof *options);
    options->probe_interval = 5000;
    options->control_idle_timeout = CONTROL_IDLE_TIMEOUT_DEFAULT;
    options->port_grace = 86400;
    if (!getcwd(cwd, sizeof cwd)) {
        iovp_fatal(errno, "cannot get current directory");
    }
    options->rundir = abs_file_name(cwd, iovp_rundir());

    for (;;) {
        int c = getopt_long(argc, argv, "hVv::p:c:C:", long_options, NULL);
        if (c == -1) {
            break;
        }

        switch (c) {
        case OPT_DETACH:
            options->detach = true;
            break;

        case OPT_NO_CHDIR:
            options->no_chdir = true;
            break;

        case OPT_PIDFILE:
            want_pidfile = true;
            pidfile = optarg;
            break;

        case OPT_LOG_FILE:
            want_log_file = true;
            log_file = optarg;
            break;

        case OPT_UNIXCTL:
            free(options->control_path);
            options->control_path = abs_file_name(cwd, optarg);
            break;

        case OPT_CONTROL_IDLE_TIMEOUT:
            options->control_idle_timeout
                = parse_ms(optarg, "--control-idle-timeout");
            break;

        case OPT_RUNDIR:
            free(options->rundir);
            options->rundir = abs_file_name(cwd, optarg);
            break;

        case OPT_USER:
            set_string(&options->user, optarg);
            break;

        case OPT_OVS_DB:
            free(options->ovs_db);
            options->ovs_db = iovp_xstrdup(optarg);
            break;

        case OPT_VTEP_DB:
            free(options->vtep_db);
            options->vtep_db = iovp_xstrdup(optarg);
            break;

        case OPT_LEADER_ONLY:
            options->leader_only = true;
            break;

        case OPT_PROBE_INTERVAL:
            options->probe_interval = parse_ms(optarg, "--probe-interval");
            break;

        case OPT_BACKOFF: {
            char *colon = strchr(optarg, ':');
            if (!colon) {
                iovp_fatal(0, "--backoff takes MIN:MAX in milliseconds");
            }
            *colon = '\0';
            options->min_backoff = parse_ms(optarg, "--backoff");
            options->max_backoff = parse_ms(colon + 1, "--backoff");
            *colon = ':';
            if (!options->min_backoff
                || options->max_backoff < options->min_backoff) {
                iovp_fatal(0, "--backoff needs 0 < MIN <= MAX");
            }
            break;
        }

        case OPT_MAX_MESSAGE: {
            char *end;
            unsigned long long int n = strtoull(optarg, &end, 10);
            if (!optarg[0] || *end || n < 1024 || n > SIZE_MAX / 2) {
                iovp_fatal(0, "--max-message: \"%s\" is not a number of "
                           "bytes from 1024 up", optarg);
            }
            options->max_message = n;
            break;
        }

        case OPT_BRIDGE:
            set_string(&options->bridge, optarg);
            break;

        case OPT_DATAPATH_TYPE:
            set_string(&options->datapath_type, optarg);
            break;

        case OPT_SWITCH_NAME:
            set_string(&options->switch_name, optarg);
            break;

        case OPT_TUNNEL_IP: {
            struct in6_addr in6;
            struct in_addr in4;
            if (inet_pton(AF_INET, optarg, &in4) != 1
                && inet_pton(AF_INET6, optarg, &in6) != 1) {
                iovp_fatal(0, "--tunnel-ip: \"%s\" is not an IP address",
                           optarg);
            }
            set_string(&options->tunnel_ip, optarg);
            break;
        }

        case OPT_PORT_GRACE: {
            /* Up to ten years: a deadline in seconds since the epoch then
             * stays far from overflow. */
            char *end;
            long long int secs = strtoll(optarg, &end, 10);
            if (!optarg[0] || *end || secs < 0 || secs > 315360000) {
                iovp_fatal(0, "--port-grace: \"%s\" is not a number of "
                           "seconds", optarg);
            }
            options->port_grace = secs;
            break;
        }

        case OPT_OFFLOAD:
            set_string(&options->offload, optarg);
            break;

        case OPT_OPENFLOW:
            set_string(&options->openflow, optarg);
            break;

        case OPT_OPENFLOW_RATE_LIMIT: {
            /* As OVS's controller_rate_limit and controller_burst_limit:
             * at least 100 a second, bursts of at least 25, by default a
             * quarter of the rate. */
            int rate, burst = 0, n = 0;
            if ((sscanf(optarg, "%d%n:%d%n", &rate, &n, &burst, &n) < 1)
                || optarg[n] || rate < 100 || (burst && burst < 25)) {
                iovp_fatal(0, "--openflow-rate-limit takes RATE[:BURST], "
                           "packet-ins a second (at least 100) and a burst "
                           "(at least 25)");
            }
            options->of_rate_limit = rate;
            options->of_burst_limit = burst ? burst : MAX(25, rate / 4);
            break;
        }

        /* The TLS files are named now, before --detach may change the
         * directory. */
        case 'p':
            free(options->private_key);
            options->private_key = abs_file_name(cwd, optarg);
            break;

        case 'c':
            free(options->certificate);
            options->certificate = abs_file_name(cwd, optarg);
            break;

        case 'C':
            free(options->ca_cert);
            options->ca_cert = abs_file_name(cwd, optarg);
            break;

        case OPT_BOOTSTRAP_CA_CERT:
            free(options->bootstrap_ca_cert);
            options->bootstrap_ca_cert = abs_file_name(cwd, optarg);
            break;

        case 'v':
            vlog_set_verbosity(optarg);
            break;

        case 'h':
            iovpd_usage();
            exit(EXIT_SUCCESS);

        case 'V':
            printf("iovpd (iovp) %s\n", PACKAGE_VERSION);
            exit(EXIT_SUCCESS);

        case '?':
            exit(EXIT_FAILURE);

        default:
            abort();
        }
    }
    if (optind < argc) {
        iovp_fatal(0, "unexpected argument \"%s\" (use --help for help)",
                  argv[optind]);
    }

    /* The Open_vSwitch database is where ovs-vsctl finds it; the
     * hardware_vtep database is, by default, in the same ovsdb-server, as
     * ovs-vtep sets it up. */
    const char *ovs_rundir = getenv("OVS_RUNDIR");
    if (!ovs_rundir || !ovs_rundir[0]) {
        ovs_rundir = "/var/run/openvswitch";
    }
    if (!options->ovs_db) {
        options->ovs_db = iovp_xasprintf("unix:%s/db.sock", ovs_rundir);
    }

    /* OpenFlow to the bridge goes through the management socket that
     * ovs-vswitchd makes for every bridge. */
    options->ofp_remote = iovp_xasprintf("unix:%s/%s.mgmt", ovs_rundir,
                                         options->bridge ? options->bridge
                                         : "br-int");
    if (!options->vtep_db) {
        options->vtep_db = iovp_xstrdup(options->ovs_db);
    }

    /* Files are named now, before --detach may change the directory:
     * relative to the run directory for the pidfile (as Open vSwitch's
     * daemons do), to the current directory for the log file. */
    if (want_pidfile) {
        options->pidfile = abs_file_name(options->rundir,
                                         pidfile ? pidfile : "iovpd.pid");
    }
    if (want_log_file) {
        char *dflt = iovp_xasprintf("%s/iovpd.log", iovp_logdir());
        options->log_file = abs_file_name(cwd, log_file ? log_file : dflt);
        free(dflt);
    }
}

static void
iovpd_usage(void)
{
    printf("\
iovpd: the iovp host agent\n\
usage: iovpd [OPTIONS]\n\
\n\
Daemon options:\n\
  --detach                run in background as daemon\n\
  --no-chdir              do not chdir to '/' when detached\n\
  --pidfile[=FILE]        create pidfile (default: RUNDIR/iovpd.pid)\n\
  --unixctl=SOCKET        override default control socket name\n\
                          (default: RUNDIR/iovpd.PID.ctl)\n\
  --control-idle-timeout=MS\n\
                          close a control connection that has no request\n\
                          in progress and was not used for MS ms; 0 never\n\
                          does (default: 60000)\n\
  --rundir=DIR            directory for the pidfile and control socket\n\
                          (default: $IOVP_RUNDIR, else /var/run/iovp)\n\
  --user=USER[:GROUP]     run as USER and GROUP once started, keeping only\n\
                          the capabilities the offload backend needs\n\
\n\
OVSDB options:\n\
  --ovs-db=REMOTE         the Open_vSwitch database (default:\n\
                          unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting\n\
                          to /var/run/openvswitch)\n\
  --vtep-db=REMOTES       the hardware_vtep database, a comma-separated\n\
                          list of unix:PATH, tcp:IP:PORT and ssl:IP:PORT\n\
                          for a cluster (default: the --ovs-db remote)\n\
  --leader-only           use only the leader of a clustered hardware_vtep\n\
  --probe-interval=MS     probe a silent OVSDB or OpenFlow connection after\n\
                          MS ms, drop it after twice that, and give up a\n\
                          connection attempt (TCP and TLS handshake) after\n\
                          MS ms; 0 disables probes, and attempts then take\n\
                          up to 10 s (default: 5000)\n\
  --backoff=MIN:MAX       wait from MIN to MAX ms between connection\n\
                          attempts (default: 1000:8000)\n\
  --max-message=BYTES     drop an OVSDB connection whose server sends a\n\
                          larger message (default: 256 MiB)\n\
\n\
Integration bridge and switch options:\n\
  --bridge=NAME           the integration bridge (default: br-int)\n\
  --datapath-type=TYPE    datapath type of a bridge iovpd creates\n\
  --switch-name=NAME      this switch's Physical_Switch name (default:\n\
                          Open_vSwitch external_ids:system-id, else the\n\
                          host name)\n\
  --tunnel-ip=IP          this host's tunnel address (default: Open_vSwitch\n\
                          external_ids:iovp-tunnel-ip)\n\
  --port-grace=SECONDS    how long an unbound Physical_Port row that iovpd\n\
                          made outlives its VM's interface (default: 86400)\n\
\n\
OpenFlow northbound options:\n\
  --openflow=TARGETS      be an OpenFlow switch to the controllers at\n\
                          TARGETS, comma-separated: connect to tcp:IP:PORT,\n\
                          ssl:IP:PORT or unix:PATH, listen on\n\
                          ptcp:PORT[:IP], pssl:PORT[:IP] or punix:PATH\n\
                          (see iovpd(8))\n\
  --openflow-rate-limit=RATE[:BURST]\n\
                          send each controller at most RATE packet-ins a\n\
                          second (at least 100), in bursts of BURST (at\n\
                          least 25; default RATE/4) (default: 1000:250)\n\
\n\
TLS options (for ssl: remotes, as Open vSwitch's daemons take them):\n\
  -p, --private-key=FILE  file with this host's private key (PEM)\n\
  -c, --certificate=FILE  file with a certificate for the private key (PEM)\n\
  -C, --ca-cert=FILE      file with the CA certificate that the server's\n\
                          certificate must chain to (PEM)\n\
  --bootstrap-ca-cert=FILE\n\
                          as --ca-cert, but if FILE does not exist, take\n\
                          the CA certificate from the first server and\n\
                          save it to FILE (trust on first use)\n\
\n\
Offload options:\n\
  --offload=BACKEND[:OPTIONS]\n\
                          run each VM port's fast path in BACKEND: none\n\
                          (the default), or sim (a model NIC for tests,\n\
                          its OPTIONS in iovpd(8))\n\
\n\
Logging options:\n\
  -vSPEC, --verbose=SPEC  set logging levels\n\
  -v, --verbose           set maximum verbosity level\n\
  --log-file[=FILE]       enable logging to specified FILE\n\
                          (default: $IOVP_LOGDIR/iovpd.log, where\n\
                          IOVP_LOGDIR defaults to /var/log/iovp)\n\
\n\
Other options:\n\
  -h, --help              display this help message\n\
  -V, --version           display version information\n");
}
