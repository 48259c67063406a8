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

/* The "xdp" backend: each VM port's fast path as an eBPF program
 * (offload/xdp-prog.bpf.c) attached to the port's host-side network device
 * with XDP, its table in the program's maps (offload/fastpath-key.h).
 *
 * Options, "xdp:KEY=VALUE,...":
 *
 *   mode=native     XDP in the driver (the default; a frame is forwarded
 *                   in the NIC only to a device that takes redirected
 *                   frames, see xdp_delivery())
 *   mode=generic    XDP on the kernel's skb path, for any device
 *   mode=hw         the NIC runs the program itself: reported unsupported
 *                   here (see iovpd(8))
 *   entries=N       entries per port (default 4096)
 *
 * Each port gets its own program and maps, loaded from the object built
 * into iovpd.  When iovpd starts again, it finds the program attached to
 * each port by its id: if it is the same program (the same tag), iovpd
 * takes it and its maps over as they are, loading nothing; if not, it
 * attaches its own in one atomic replace (XDP_FLAGS_REPLACE).  Nothing is
 * pinned: bpffs need not be mounted.
 *
 * Steering (steer()) shares one CPU map among all ports, with a queue and
 * a kernel thread for each CPU that a rule names, and the CPU map's own
 * program, which forwards the frames on that CPU; a restarted iovpd takes
 * them over with the first port it takes over. */

#include <config.h>

#include "offload/xdp.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <openvswitch/dynamic-string.h>
#include <openvswitch/hmap.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"
#include "offload/fastpath-key.h"

VLOG_DEFINE_THIS_MODULE(offload_xdp);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define XDP_PROG_NAME "iovp_fastpath"

/* One entry, as iovpd knows it. */
struct xdp_entry {
    struct hmap_node node;      /* In 'port->entries', by id. */
    struct hmap_node key_node;  /* In 'port->by_key', by match. */
    struct fp_entry e;
    __u32 slot;                 /* Its tuple's. */
    __u32 counter;              /* Its counters' index in fp_counts. */
    struct xdp_bucket *bucket;
};

/* One bucket of a tuple, as iovpd knows it. */
struct xdp_bucket {
    struct hmap_node node;      /* In 'port->buckets'. */
    struct fp_xdp_key key;
    struct xdp_entry *entries[FP_XDP_BUCKET];
    size_t n;
};

struct xdp_port {
    struct hmap_node node;      /* In 'xdp->ports', by name. */
    char *name;
    int ifindex;
    int prog_fd;
    __u32 prog_id;
    int masks_fd, n_masks_fd, entries_fd, counts_fd;
    int steer_fd, n_steer_fd;   /* fp_steer, fp_n_steer. */
    struct fp_key masks[FP_XDP_MAX_MASKS];
    size_t mask_refs[FP_XDP_MAX_MASKS];
    __u32 n_slots;              /* What 'fp_n_masks' says. */
    struct hmap entries;        /* "struct xdp_entry"s, by id. */
    struct hmap buckets;        /* "struct xdp_bucket"s. */
    __u32 *free_counters;       /* A stack of the unused indexes of */
    size_t n_free_counters;     /* fp_counts, which has */
    size_t max_counters;        /* this many. */
    const volatile struct fp_xdp_count *counts;   /* fp_counts, mapped by
                                                   * xdp_counts(), or NULL. */
    size_t counts_len;          /* The mapping's length, 0 if none. */
    struct hmap by_key;         /* The same, by match. */
    struct offload_steer *steers;   /* Its steering rules, in order. */
    size_t n_steers;
};

struct xdp {
    struct offload up;
    struct hmap ports;          /* "struct xdp_port"s. */
    __u32 attach_flags;         /* XDP_FLAGS_DRV_MODE or _SKB_MODE. */
    size_t max_entries;
    int netdev_family;          /* The "netdev" generic netlink family's
                                 * id; 0 until known, negative if the
                                 * kernel has none. */

    /* The tracepoint programs that count redirected frames the kernel
     * lost (xdp_errors_open()), or null if they could not be attached. */
    struct bpf_object *errors_obj;
    struct bpf_link *errors_links[3];
    int errors_fd;              /* Their map, fp_redirect_errors. */
    int cpus_id_fd;             /* fp_cpus_id. */

    /* Steering's maps and the CPU map's program, which every port's
     * program shares (xdp_steering_ensure()): -1 until loaded or taken
     * over. */
    int cpus_fd;                /* fp_cpus. */
    int steer_counts_fd;        /* fp_steer_counts. */
    int steered_fd;             /* iovp_steered. */
    int n_cpus;                 /* The CPU map's size: possible CPUs. */
    bool *queued;               /* Per CPU: 'cpus_fd' has our queue. */
};

/* The queue of each CPU that a steering rule names, in frames. */
#define XDP_CPU_QUEUE 2048

/* Which of the programs and maps built into iovpd to load: a port's fast
 * path, steering's (once for every port), or the tracepoint programs. */
enum xdp_part {
    XDP_PART_PORT,
    XDP_PART_STEERING,
    XDP_PART_ERRORS,
};

static struct xdp *
xdp_cast(const struct offload *o)
{
    ovs_assert(o->class == &offload_xdp_class);
    return CONTAINER_OF(o, struct xdp, up);
}

static int
xdp_libbpf_log(enum libbpf_print_level level, const char *format,
               va_list args)
{
    if (level == LIBBPF_WARN) {
        char *s = iovp_xvasprintf(format, args);
        VLOG_WARN_RL(&rl, "libbpf: %s", s);
        free(s);
    }
    return 0;
}

static int xdp_object_open(enum xdp_part, struct bpf_object **);
static int xdp_query_id(int ifindex, __u32 flags, __u32 *id);
static void xdp_steering_close(struct xdp *);

static void
xdp_errors_close(struct xdp *xdp)
{
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(xdp->errors_links); i++) {
        bpf_link__destroy(xdp->errors_links[i]);
        xdp->errors_links[i] = NULL;
    }
    bpf_object__close(xdp->errors_obj);
    xdp->errors_obj = NULL;
    xdp->errors_fd = -1;
    xdp->cpus_id_fd = -1;
}

/* Loads and attaches the programs of offload/xdp-errors.bpf.c, which
 * count, on the kernel's tracepoints xdp:xdp_redirect_err and
 * xdp:xdp_devmap_xmit, the frames of this namespace's devices that the
 * kernel took for redirect and then lost (see fastpath-key.h).  They need
 * the kernel's BTF and the right to trace; without them, this logs why
 * once and the backend goes on with the delivery check alone. */
static void
xdp_errors_open(struct xdp *xdp)
{
    struct bpf_object *obj;
    int error = xdp_object_open(XDP_PART_ERRORS, &obj);
    const char *what = "opening the object";
    if (error) {
        goto fail;
    }
    xdp->errors_obj = obj;

    /* Only our namespace's devices: ifindexes are per namespace.  The
     * program's read-only data is 'fp_netns' alone. */
    struct stat st;
    struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
    size_t size = 0;
    if (rodata && bpf_map__initial_value(rodata, &size)
        && size == sizeof (__u32) && !stat("/proc/self/ns/net", &st)) {
        __u32 netns = st.st_ino;
        bpf_map__set_initial_value(rodata, &netns, sizeof netns);
    }

    what = "loading the programs";
    error = bpf_object__load(obj);
    if (error) {
        goto fail;
    }
    what = "attaching them";
    static const char *progs[] = {
        "iovp_redirect_err", "iovp_devmap_xmit", "iovp_cpumap_enqueue",
    };
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(progs); i++) {
        struct bpf_program *prog = bpf_object__find_program_by_name(
            obj, progs[i]);
        struct bpf_link *link = prog ? bpf_program__attach(prog) : NULL;
        error = prog ? libbpf_get_error(link) : -ENOENT;
        if (error) {
            goto fail;
        }
        xdp->errors_links[i] = link;
    }
    struct bpf_map *map = bpf_object__find_map_by_name(obj,
                                                       "fp_redirect_errors");
    xdp->errors_fd = map ? bpf_map__fd(map) : -1;
    map = bpf_object__find_map_by_name(obj, "fp_cpus_id");
    xdp->cpus_id_fd = map ? bpf_map__fd(map) : -1;
    if (xdp->errors_fd < 0 || xdp->cpus_id_fd < 0) {
        error = -ENOENT;
        what = "finding their map";
        goto fail;
    }
    VLOG_INFO("counting redirect errors on the tracepoints "
              "xdp:xdp_redirect_err, xdp:xdp_devmap_xmit and "
              "xdp:xdp_cpumap_enqueue");
    return;

fail:
    VLOG_WARN("redirect errors are not counted (%s failed: %s); delivery "
              "is checked by the targets' XDP features alone", what,
              strerror(-error));
    xdp_errors_close(xdp);
}

/* The xdp backend's open() (see offload_class). */
static char *
xdp_open(const char *options, struct offload **op)
{
    struct xdp *xdp = iovp_xzalloc(sizeof *xdp);
    char *copy = iovp_xstrdup(options), *save = NULL, *error = NULL;

    *op = NULL;
    xdp->up.class = &offload_xdp_class;
    hmap_init(&xdp->ports);
    xdp->attach_flags = XDP_FLAGS_DRV_MODE;
    xdp->max_entries = 4096;
    for (char *opt = strtok_r(copy, ",", &save); opt && !error;
         opt = strtok_r(NULL, ",", &save)) {
        char *value = strchr(opt, '=');
        if (!value) {
            error = iovp_xasprintf("%s: option without a value", opt);
            break;
        }
        *value++ = '\0';
        if (!strcmp(opt, "mode") && !strcmp(value, "native")) {
            xdp->attach_flags = XDP_FLAGS_DRV_MODE;
        } else if (!strcmp(opt, "mode") && !strcmp(value, "generic")) {
            xdp->attach_flags = XDP_FLAGS_SKB_MODE;
        } else if (!strcmp(opt, "mode") && !strcmp(value, "hw")) {
            error = iovp_xstrdup("mode=hw: no NIC here runs BPF programs "
                                 "itself (offloaded XDP); use mode=native "
                                 "or mode=generic");
        } else if (!strcmp(opt, "entries")) {
            char *end;
            unsigned long n = strtoul(value, &end, 10);
            if (!*value || *end || !n || n > (1u << 24)) {
                error = iovp_xasprintf("entries=%s: not a number from 1 "
                                       "to 16777216", value);
            }
            xdp->max_entries = n;
        } else {
            error = iovp_xasprintf("%s=%s: unknown option of the xdp "
                                   "backend", opt, value);
        }
    }
    free(copy);
    if (error) {
        hmap_destroy(&xdp->ports);
        free(xdp);
        return error;
    }
    libbpf_set_print(xdp_libbpf_log);
    xdp->errors_fd = xdp->cpus_id_fd = -1;
    xdp->cpus_fd = xdp->steer_counts_fd = xdp->steered_fd = -1;
    xdp_errors_open(xdp);
    *op = &xdp->up;
    return NULL;
}

static void
xdp_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void
xdp_close_fds(struct xdp_port *port)
{
    if (port->counts) {
        munmap((void *) port->counts, port->counts_len);
        port->counts = NULL;
        port->counts_len = 0;
    }
    xdp_close_fd(&port->prog_fd);
    xdp_close_fd(&port->masks_fd);
    xdp_close_fd(&port->n_masks_fd);
    xdp_close_fd(&port->entries_fd);
    xdp_close_fd(&port->counts_fd);
    xdp_close_fd(&port->steer_fd);
    xdp_close_fd(&port->n_steer_fd);
}

static void
xdp_port_destroy(struct xdp *xdp, struct xdp_port *port, bool detach)
{
    struct xdp_entry *xe;

    __u32 id = 0;
    if (detach && port->ifindex
        && !xdp_query_id(port->ifindex, xdp->attach_flags, &id)
        && id && id == port->prog_id) {
        /* Only ours, and only if it is still what runs there. */
        LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = port->prog_fd);
        bpf_xdp_detach(port->ifindex, xdp->attach_flags | XDP_FLAGS_REPLACE,
                       &opts);
    }
    if (detach && xdp->steer_counts_fd >= 0) {
        for (size_t i = 0; i < port->n_steers; i++) {
            struct fp_xdp_steer_key key = {
                .ifindex = port->ifindex,
                .id = port->steers[i].id,
            };
            bpf_map_delete_elem(xdp->steer_counts_fd, &key);
        }
    }
    free(port->steers);
    HMAP_FOR_EACH_POP (xe, node, &port->entries) {
        free(xe);
    }
    hmap_destroy(&port->entries);
    struct xdp_bucket *b;
    HMAP_FOR_EACH_POP (b, node, &port->buckets) {
        free(b);
    }
    hmap_destroy(&port->buckets);
    free(port->free_counters);
    hmap_destroy(&port->by_key);
    hmap_remove(&xdp->ports, &port->node);
    xdp_close_fds(port);
    free(port->name);
    free(port);
}

/* Closes the backend.  The programs stay attached, their maps full: a
 * restarted iovpd takes them over. */
static void
xdp_close(struct offload *o)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port;

    HMAP_FOR_EACH_SAFE (port, node, &xdp->ports) {
        xdp_port_destroy(xdp, port, false);
    }
    hmap_destroy(&xdp->ports);
    xdp_errors_close(xdp);
    xdp_steering_close(xdp);
    free(xdp);
}

static void
xdp_capabilities(const struct offload *o, struct offload_caps *caps)
{
    const struct xdp *xdp = xdp_cast(o);

    memset(caps, 0, sizeof *caps);
    caps->max_entries = xdp->max_entries;
    caps->max_masks = FP_XDP_MAX_MASKS;
    memset(&caps->fields, 0xff, sizeof caps->fields);
    caps->fields.pad = 0;
    caps->bucket_size = FP_XDP_BUCKET;
    caps->drop = caps->forward = true;
}

static struct xdp_port *
xdp_find_port(const struct xdp *xdp, const char *name)
{
    struct xdp_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, node, iovp_hash_string64(name),
                             &xdp->ports) {
        if (!strcmp(port->name, name)) {
            return port;
        }
    }
    return NULL;
}

static uint32_t
xdp_match_hash(const struct fp_match *m)
{
    return fp_key_hash(&m->value, fp_key_hash(&m->mask, 0));
}

/* Returns the entry of 'port' with match 'm', or NULL. */
static struct xdp_entry *
xdp_find_match(const struct xdp_port *port, const struct fp_match *m)
{
    struct xdp_entry *xe;

    HMAP_FOR_EACH_WITH_HASH (xe, key_node, xdp_match_hash(m),
                             &port->by_key) {
        if (fp_match_equal(&xe->e.match, m)) {
            return xe;
        }
    }
    return NULL;
}

/* Adds 'xe' to 'port''s indexes. */
static void
xdp_index_entry(struct xdp_port *port, struct xdp_entry *xe)
{
    hmap_insert(&port->entries, &xe->node, xe->e.id);
    hmap_insert(&port->by_key, &xe->key_node, xdp_match_hash(&xe->e.match));
}

/* Forgets 'xe' (which the map no longer holds, or which an entry of the
 * same match has just replaced), and frees it. */
static void xdp_unref_slot(struct xdp_port *, __u32 slot);
static void
xdp_forget_entry(struct xdp_port *port, struct xdp_entry *xe)
{
    xdp_unref_slot(port, xe->slot);
    hmap_remove(&port->entries, &xe->node);
    hmap_remove(&port->by_key, &xe->key_node);
    port->free_counters[port->n_free_counters++] = xe->counter;
    free(xe);
}

static struct xdp_entry *
xdp_find_entry(const struct xdp_port *port, uint32_t id)
{
    struct xdp_entry *xe;

    HMAP_FOR_EACH_WITH_HASH (xe, node, id, &port->entries) {
        if (xe->e.id == id) {
            return xe;
        }
    }
    return NULL;
}

/* Makes all of 'n' counters of 'port' free. */
static void
xdp_counters_init(struct xdp_port *port, size_t n)
{
    free(port->free_counters);
    port->max_counters = n;
    port->free_counters = iovp_xmalloc(MAX(n, 1)
                                       * sizeof *port->free_counters);
    port->n_free_counters = 0;
    for (size_t i = n; i-- > 0;) {
        port->free_counters[port->n_free_counters++] = i;
    }
}

/* Takes a free counter of 'port', zeroed, into '*counter'.  Returns 0 or a
 * negative errno value. */
static int
xdp_counter_take(struct xdp_port *port, __u32 *counter)
{
    struct fp_xdp_count zero = { 0, 0 };

    if (!port->n_free_counters) {
        return -ENOSPC;
    }
    *counter = port->free_counters[port->n_free_counters - 1];
    int error = bpf_map_update_elem(port->counts_fd, counter, &zero,
                                    BPF_ANY);
    if (!error) {
        port->n_free_counters--;
    }
    return error;
}

static uint32_t
xdp_bucket_hash(const struct fp_xdp_key *key)
{
    return fp_key_hash(&key->key, key->slot);
}

/* Returns 'port''s bucket of 'key', made empty if it has none. */
static struct xdp_bucket *
xdp_bucket_get(struct xdp_port *port, const struct fp_xdp_key *key)
{
    uint32_t hash = xdp_bucket_hash(key);
    struct xdp_bucket *b;

    HMAP_FOR_EACH_WITH_HASH (b, node, hash, &port->buckets) {
        if (b->key.slot == key->slot && fp_key_equal(&b->key.key, &key->key)) {
            return b;
        }
    }
    b = iovp_xzalloc(sizeof *b);
    b->key = *key;
    hmap_insert(&port->buckets, &b->node, hash);
    return b;
}

static enum fp_xdp_fate
xdp_fate(enum fp_fate fate)
{
    return (fate == FP_DROP ? FP_XDP_DROP
            : fate == FP_FORWARD ? FP_XDP_FORWARD
            : FP_XDP_TO_OVS);
}

/* Writes bucket 'b' of 'port' to its map as iovpd has it, in one update
 * (which the program sees whole, the old or the new), or deletes it from
 * the map, and frees it, if it holds nothing.  Returns 0 or a negative
 * errno value. */
static int
xdp_bucket_write(struct xdp_port *port, struct xdp_bucket *b)
{
    int error;

    if (!b->n) {
        error = bpf_map_delete_elem(port->entries_fd, &b->key);
        hmap_remove(&port->buckets, &b->node);
        free(b);
        return error == -ENOENT ? 0 : error;
    }

    struct fp_xdp_bucket v;
    memset(&v, 0, sizeof v);
    v.n = b->n;
    for (size_t i = 0; i < b->n; i++) {
        const struct xdp_entry *xe = b->entries[i];
        struct fp_xdp_entry *ve = &v.entries[i];
        ve->mask = xe->e.match.mask;
        fp_key_and(&xe->e.match.value, &ve->mask, &ve->value);
        ve->priority = xe->e.priority;
        ve->fate = xdp_fate(xe->e.fate);
        ve->out_ifindex = xe->e.out_port;
        ve->id = xe->e.id;
        ve->counter = xe->counter;
    }
    return bpf_map_update_elem(port->entries_fd, &b->key, &v, BPF_ANY);
}

/* Takes 'xe' out of its bucket (which the caller writes). */
static void
xdp_bucket_remove(struct xdp_entry *xe)
{
    struct xdp_bucket *b = xe->bucket;

    for (size_t i = 0; i < b->n; i++) {
        if (b->entries[i] == xe) {
            memmove(&b->entries[i], &b->entries[i + 1],
                    (b->n - i - 1) * sizeof *b->entries);
            b->n--;
            break;
        }
    }
    xe->bucket = NULL;
}

static int
xdp_prog_info(int fd, struct bpf_prog_info *info, __u32 *map_ids,
              __u32 n_map_ids)
{
    __u32 len = sizeof *info;

    memset(info, 0, sizeof *info);
    info->nr_map_ids = n_map_ids;
    info->map_ids = (__u64) (uintptr_t) map_ids;
    return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Returns the part of offload/xdp-prog.bpf.c that the program or map
 * called 'name' belongs to: a port's if not steering's. */
static enum xdp_part
xdp_part_of(const char *name)
{
    static const char *steering[] = {
        "iovp_steered", "fp_cpus", "fp_steer_counts",
    };

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(steering); i++) {
        if (!strcmp(name, steering[i])) {
            return XDP_PART_STEERING;
        }
    }
    return XDP_PART_PORT;
}

/* Of the object of offload/xdp-prog.bpf.c 'obj', makes libbpf load only
 * the programs of 'part' and the maps they use.  A port's program uses
 * steering's maps too, which the caller gives it with
 * bpf_map__reuse_fd(). */
static void
xdp_object_select(struct bpf_object *obj, enum xdp_part part)
{
    struct bpf_program *prog;
    struct bpf_map *map;

    bpf_object__for_each_program (prog, obj) {
        bpf_program__set_autoload(prog,
                                  xdp_part_of(bpf_program__name(prog))
                                  == part);
    }
    bpf_object__for_each_map (map, obj) {
        /* libbpf binds the read-only data to every program it loads. */
        const char *name = bpf_map__name(map);
        enum xdp_part of = xdp_part_of(name);
        bool shared = strstr(name, ".rodata") != NULL;
        bpf_map__set_autocreate(map, (shared || of == part
                                      || (part == XDP_PART_PORT
                                          && of == XDP_PART_STEERING)));
    }
}

/* Opens the object built into iovpd that holds the part 'part', to load
 * that part of it, and stores it in '*objp'.  Returns 0 or a negative
 * errno value.
 *
 * The tracepoint programs are an object apart (offload/xdp-errors.bpf.c):
 * they read the kernel's structures, and libbpf reads the kernel's BTF,
 * some 10 ms, to load an object with such reads in it, whichever of its
 * programs it loads. */
static int
xdp_object_open(enum xdp_part part, struct bpf_object **objp)
{
    LIBBPF_OPTS(bpf_object_open_opts, oopts, .object_name = "iovp");
    bool errors = part == XDP_PART_ERRORS;
    struct bpf_object *obj = bpf_object__open_mem(
        errors ? offload_xdp_errors : offload_xdp_prog,
        errors ? offload_xdp_errors_size : offload_xdp_prog_size, &oopts);
    int error = libbpf_get_error(obj);

    *objp = error ? NULL : obj;
    if (!error && !errors) {
        xdp_object_select(obj, part);
    }
    return error;
}

/* Returns a new fd for the map called 'name' that the program of 'prog_fd'
 * uses, or -1. */
static int
xdp_prog_map(int prog_fd, const char *name)
{
    __u32 map_ids[16];
    struct bpf_prog_info info;

    if (xdp_prog_info(prog_fd, &info, map_ids, IOVP_ARRAY_SIZE(map_ids))) {
        return -1;
    }
    for (__u32 i = 0; i < MIN(info.nr_map_ids, IOVP_ARRAY_SIZE(map_ids));
         i++) {
        int fd = bpf_map_get_fd_by_id(map_ids[i]);
        struct bpf_map_info mi;
        __u32 len = sizeof mi;
        memset(&mi, 0, sizeof mi);
        if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &len)
            && !strcmp(mi.name, name)) {
            return fd;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return -1;
}

/* Returns the id of the map of 'fd', or 0. */
static __u32
xdp_map_id(int fd)
{
    struct bpf_map_info mi;
    __u32 len = sizeof mi;

    memset(&mi, 0, sizeof mi);
    return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &len) ? mi.id : 0;
}

/* Forgets steering's maps and the CPU map's program (the programs that
 * use them keep them). */
static void
xdp_steering_close(struct xdp *xdp)
{
    xdp_close_fd(&xdp->cpus_fd);
    xdp_close_fd(&xdp->steer_counts_fd);
    xdp_close_fd(&xdp->steered_fd);
    free(xdp->queued);
    xdp->queued = NULL;
    xdp->n_cpus = 0;
}

/* Makes sure that the backend has steering's maps and the CPU map's
 * program, which every port's program shares: takes the CPU map over from
 * 'old_fd', a program of ours that an iovpd before this one attached (if
 * it is not -1), or makes it, and loads the CPU map's program with it and
 * a new map of counters.  (The CPU map's queues keep the program of the
 * iovpd before, and its counters, until steer() gives them this one.)
 * Returns 0 or a negative errno value. */
static int
xdp_steering_ensure(struct xdp *xdp, int old_fd)
{
    if (xdp->steered_fd >= 0) {
        return 0;
    }
    if (old_fd >= 0) {
        xdp->cpus_fd = xdp_prog_map(old_fd, "fp_cpus");
    }

    struct bpf_object *obj;
    int error = xdp_object_open(XDP_PART_STEERING, &obj);
    if (error) {
        return error;
    }
    struct bpf_map *cpus = bpf_object__find_map_by_name(obj, "fp_cpus");
    struct bpf_map *counts = bpf_object__find_map_by_name(obj,
                                                          "fp_steer_counts");
    struct bpf_program *prog = bpf_object__find_program_by_name(
        obj, "iovp_steered");
    if (!cpus || !counts || !prog) {
        bpf_object__close(obj);
        return -ENOENT;
    }
    if (xdp->cpus_fd >= 0) {
        error = bpf_map__reuse_fd(cpus, xdp->cpus_fd);
    } else {
        int n = libbpf_num_possible_cpus();
        error = n > 0 ? bpf_map__set_max_entries(cpus, n) : n;
    }
    error = error ? error : bpf_object__load(obj);
    if (!error) {
        xdp->steered_fd = dup(bpf_program__fd(prog));
        xdp->steer_counts_fd = dup(bpf_map__fd(counts));
        if (xdp->cpus_fd < 0) {
            xdp->cpus_fd = dup(bpf_map__fd(cpus));
        }
        xdp->n_cpus = bpf_map__max_entries(cpus);
        xdp->queued = iovp_xzalloc(MAX(xdp->n_cpus, 1)
                                   * sizeof *xdp->queued);

        /* For the count of what its queues drop. */
        __u32 zero = 0, id = xdp_map_id(xdp->cpus_fd);
        if (xdp->cpus_id_fd >= 0) {
            bpf_map_update_elem(xdp->cpus_id_fd, &zero, &id, BPF_ANY);
        }
    }
    bpf_object__close(obj);
    if (!error && (xdp->steered_fd < 0 || xdp->cpus_fd < 0
                   || xdp->steer_counts_fd < 0)) {
        error = -EINVAL;
    }
    if (error) {
        xdp_close_fd(&xdp->steered_fd);
        xdp_close_fd(&xdp->cpus_fd);
        xdp_close_fd(&xdp->steer_counts_fd);
    }
    return error;
}

/* Loads the program built into iovpd, with 'max_entries' entries; stores
 * in 'port' its fds, and returns 0 or a negative errno value. */
static int
xdp_load(struct xdp *xdp, struct xdp_port *port)
{
    struct bpf_object *obj;
    int error = xdp_object_open(XDP_PART_PORT, &obj);
    if (error) {
        return error;
    }
    struct bpf_map *entries = bpf_object__find_map_by_name(obj,
                                                           "fp_entries");
    if (!entries) {
        bpf_object__close(obj);
        return -ENOENT;
    }
    bpf_map__set_max_entries(entries, xdp->max_entries);
    bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "fp_counts"),
                             xdp->max_entries);
    error = (bpf_map__reuse_fd(bpf_object__find_map_by_name(obj, "fp_cpus"),
                               xdp->cpus_fd)
             || bpf_map__reuse_fd(bpf_object__find_map_by_name(
                                      obj, "fp_steer_counts"),
                                  xdp->steer_counts_fd)
             || bpf_object__load(obj));
    if (error) {
        bpf_object__close(obj);
        return error;
    }

    /* Keep the fds, not the object: they hold the program and maps. */
    struct bpf_program *prog = bpf_object__find_program_by_name(
        obj, XDP_PROG_NAME);
    port->prog_fd = prog ? dup(bpf_program__fd(prog)) : -1;
    port->masks_fd = dup(bpf_map__fd(bpf_object__find_map_by_name(
                                         obj, "fp_masks")));
    port->n_masks_fd = dup(bpf_map__fd(bpf_object__find_map_by_name(
                                           obj, "fp_n_masks")));
    port->entries_fd = dup(bpf_map__fd(entries));
    port->counts_fd = dup(bpf_map__fd(bpf_object__find_map_by_name(
                                          obj, "fp_counts")));
    port->steer_fd = dup(bpf_map__fd(bpf_object__find_map_by_name(
                                         obj, "fp_steer")));
    port->n_steer_fd = dup(bpf_map__fd(bpf_object__find_map_by_name(
                                           obj, "fp_n_steer")));
    bpf_object__close(obj);
    if (port->prog_fd < 0 || port->masks_fd < 0 || port->n_masks_fd < 0
        || port->entries_fd < 0 || port->counts_fd < 0
        || port->steer_fd < 0 || port->n_steer_fd < 0) {
        return -EINVAL;
    }

    struct bpf_prog_info info;
    error = xdp_prog_info(port->prog_fd, &info, NULL, 0);
    port->prog_id = error ? 0 : info.id;
    return error;
}

/* Takes over the maps of 'prog_fd', a program of ours attached before this
 * iovpd started, and what they hold.  Returns 0 or a negative errno
 * value. */
static int
xdp_adopt(struct xdp_port *port, int prog_fd)
{
    __u32 map_ids[16];
    struct bpf_prog_info info;

    port->prog_fd = prog_fd;    /* The port owns it now, error or not. */
    int error = xdp_prog_info(prog_fd, &info, map_ids, 16);
    if (error) {
        return error;
    }
    port->prog_id = info.id;
    port->masks_fd = port->n_masks_fd = port->entries_fd = -1;
    port->counts_fd = port->steer_fd = port->n_steer_fd = -1;
    for (__u32 i = 0; i < MIN(info.nr_map_ids, 16); i++) {
        int fd = bpf_map_get_fd_by_id(map_ids[i]);
        struct bpf_map_info mi;
        __u32 len = sizeof mi;
        memset(&mi, 0, sizeof mi);
        if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len)) {
            if (fd >= 0) {
                close(fd);
            }
            continue;
        }
        int *slot = (!strcmp(mi.name, "fp_masks") ? &port->masks_fd
                     : !strcmp(mi.name, "fp_n_masks") ? &port->n_masks_fd
                     : !strcmp(mi.name, "fp_entries") ? &port->entries_fd
                     : !strcmp(mi.name, "fp_counts") ? &port->counts_fd
                     : !strcmp(mi.name, "fp_steer") ? &port->steer_fd
                     : !strcmp(mi.name, "fp_n_steer") ? &port->n_steer_fd
                     : NULL);
        if (slot && *slot < 0) {
            *slot = fd;
        } else {
            close(fd);
        }
    }
    if (port->masks_fd < 0 || port->n_masks_fd < 0 || port->entries_fd < 0
        || port->counts_fd < 0 || port->steer_fd < 0
        || port->n_steer_fd < 0) {
        return -ENOENT;
    }

    /* What the maps hold. */
    __u32 zero = 0, n_slots = 0;
    bpf_map_lookup_elem(port->n_masks_fd, &zero, &n_slots);
    port->n_slots = MIN(n_slots, FP_XDP_MAX_MASKS);
    for (__u32 i = 0; i < FP_XDP_MAX_MASKS; i++) {
        bpf_map_lookup_elem(port->masks_fd, &i, &port->masks[i]);
    }
    struct fp_xdp_key key, next;
    void *prev = NULL;
    struct bpf_map_info mi;
    __u32 mi_len = sizeof mi;
    memset(&mi, 0, sizeof mi);
    if (!bpf_obj_get_info_by_fd(port->counts_fd, &mi, &mi_len)) {
        xdp_counters_init(port, mi.max_entries);
    }
    bool *used = iovp_xzalloc(MAX(port->max_counters, 1) * sizeof *used);
    while (!bpf_map_get_next_key(port->entries_fd, prev, &next)) {
        struct fp_xdp_bucket value;
        key = next;
        prev = &key;
        if (bpf_map_lookup_elem(port->entries_fd, &key, &value)
            || key.slot >= FP_XDP_MAX_MASKS) {
            continue;
        }
        struct xdp_bucket *b = xdp_bucket_get(port, &key);
        for (__u32 j = 0; j < MIN(value.n, FP_XDP_BUCKET); j++) {
            const struct fp_xdp_entry *v = &value.entries[j];
            if (v->counter >= port->max_counters || used[v->counter]) {
                continue;
            }
            struct xdp_entry *xe = iovp_xzalloc(sizeof *xe);
            xe->slot = key.slot;
            xe->counter = v->counter;
            used[v->counter] = true;
            xe->e.match.value = v->value;
            xe->e.match.mask = v->mask;
            xe->e.tuple = port->masks[key.slot];
            xe->e.priority = v->priority;
            xe->e.fate = (v->fate == FP_XDP_DROP ? FP_DROP
                          : v->fate == FP_XDP_FORWARD ? FP_FORWARD
                          : FP_TO_OVS);
            xe->e.out_port = v->out_ifindex;
            xe->e.id = v->id;
            xe->bucket = b;
            b->entries[b->n++] = xe;
            port->mask_refs[key.slot]++;
            xdp_index_entry(port, xe);
        }
    }
    port->n_free_counters = 0;
    for (size_t i = port->max_counters; i-- > 0;) {
        if (!used[i]) {
            port->free_counters[port->n_free_counters++] = i;
        }
    }
    free(used);

    __u32 n_steers = 0;
    bpf_map_lookup_elem(port->n_steer_fd, &zero, &n_steers);
    port->steers = iovp_xmalloc(MAX(n_steers, 1) * sizeof *port->steers);
    for (__u32 i = 0; i < MIN(n_steers, FP_XDP_MAX_STEER); i++) {
        struct fp_xdp_steer fs;
        if (!bpf_map_lookup_elem(port->steer_fd, &i, &fs)) {
            port->steers[port->n_steers++] = (struct offload_steer) {
                .match = { .value = fs.value, .mask = fs.mask },
                .cpu = fs.cpu,
                .id = fs.id,
            };
        }
    }
    return 0;
}

/* Makes sure that 'port''s program is the one attached to its device,
 * attaching it again if someone took it off.  Returns 0 or a negative
 * errno value. */
static int
xdp_ensure_attached(struct xdp *xdp, struct xdp_port *port)
{
    __u32 id = 0;
    int error = xdp_query_id(port->ifindex, xdp->attach_flags, &id);

    if (error) {
        return error;
    }
    if (id == port->prog_id) {
        return 0;
    }
    VLOG_INFO("%s: attaching the fast path (%s)", port->name,
              id ? "replacing another program" : "it was not attached");
    return bpf_xdp_attach(port->ifindex, port->prog_fd, xdp->attach_flags,
                          NULL);
}

/* Starts serving 'name': takes over the program of ours attached to it, or
 * loads and attaches one (in one atomic replace of any other program of
 * ours).  Stores the port in '*portp' and returns 0, or returns a negative
 * errno value. */
static int
xdp_start_port(struct xdp *xdp, const char *name, struct xdp_port **portp)
{
    struct xdp_port *port = iovp_xzalloc(sizeof *port);
    int error;

    *portp = NULL;
    port->ifindex = if_nametoindex(name);
    if (!port->ifindex) {
        free(port);
        return -ENODEV;
    }
    port->name = iovp_xstrdup(name);
    port->prog_fd = port->masks_fd = port->n_masks_fd = port->entries_fd = -1;
    port->counts_fd = port->steer_fd = port->n_steer_fd = -1;
    hmap_init(&port->entries);
    hmap_init(&port->by_key);
    hmap_init(&port->buckets);
    xdp_counters_init(port, xdp->max_entries);
    hmap_insert(&xdp->ports, &port->node, iovp_hash_string64(name));

    /* What is attached, to take over if it is ours. */
    __u32 old_id = 0;
    xdp_query_id(port->ifindex, xdp->attach_flags, &old_id);
    int old_fd = old_id ? bpf_prog_get_fd_by_id(old_id) : -1;
    struct bpf_prog_info old;
    bool old_ours = (old_fd >= 0 && !xdp_prog_info(old_fd, &old, NULL, 0)
                     && !strcmp(old.name, XDP_PROG_NAME));

    /* Ours, freshly loaded, to compare with it.  The CPU map comes from
     * the first program of ours that the backend finds, if it has the
     * same tag as ours (an older iovpd's, of another tag, keeps its own:
     * ours then has a new one). */
    bool fresh = xdp->steered_fd < 0;
    error = xdp_steering_ensure(xdp, old_ours ? old_fd : -1);
    error = error ? error : xdp_load(xdp, port);
    struct bpf_prog_info mine;
    if (!error && fresh && old_ours
        && (xdp_prog_info(port->prog_fd, &mine, NULL, 0)
            || memcmp(old.tag, mine.tag, sizeof old.tag))) {
        xdp_close_fds(port);
        xdp_steering_close(xdp);
        error = xdp_steering_ensure(xdp, -1);
        error = error ? error : xdp_load(xdp, port);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s: loading the fast path failed (%s)", name,
                     strerror(-error));
        xdp_close_fd(&old_fd);
        xdp_port_destroy(xdp, port, false);
        return error;
    }
    xdp_prog_info(port->prog_fd, &mine, NULL, 0);

    int old_cpus = old_ours ? xdp_prog_map(old_fd, "fp_cpus") : -1;
    bool same_cpus = xdp_map_id(old_cpus) == xdp_map_id(xdp->cpus_fd);
    xdp_close_fd(&old_cpus);
    if (old_ours && same_cpus && !memcmp(old.tag, mine.tag, sizeof old.tag)) {
        /* The same program, with the same CPU map: take it over as it
         * is. */
        xdp_close_fds(port);
        error = xdp_adopt(port, old_fd);
        if (!error) {
            VLOG_INFO("%s: took over the attached fast path, %zu entries",
                      name, hmap_count(&port->entries));
            *portp = port;
            return 0;
        }
        xdp_port_destroy(xdp, port, false);
        return error;
    }

    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
    error = bpf_xdp_attach(port->ifindex, port->prog_fd,
                           xdp->attach_flags
                           | (old_fd >= 0 ? XDP_FLAGS_REPLACE : 0),
                           old_fd >= 0 ? &opts : NULL);
    if (old_fd >= 0) {
        close(old_fd);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s: attaching the fast path failed (%s)", name,
                     strerror(-error));
        xdp_port_destroy(xdp, port, false);
        return error;
    }
    VLOG_INFO("%s: attached the fast path (XDP %s mode%s)", name,
              xdp->attach_flags & XDP_FLAGS_SKB_MODE ? "generic" : "native",
              old_id ? ", replacing the program attached" : "");
    *portp = port;
    return 0;
}

/* Returns the slot of 'mask' in 'port', taking a free one if needed, or -1
 * if all are taken. */
static int
xdp_mask_slot(struct xdp_port *port, const struct fp_key *mask)
{
    int free_slot = -1;

    for (int i = 0; i < FP_XDP_MAX_MASKS; i++) {
        if (port->mask_refs[i] && fp_key_equal(&port->masks[i], mask)) {
            return i;
        } else if (!port->mask_refs[i] && free_slot < 0) {
            free_slot = i;
        }
    }
    return free_slot;
}

static int
xdp_set_n_slots(struct xdp_port *port)
{
    __u32 n = 0, zero = 0;

    for (__u32 i = 0; i < FP_XDP_MAX_MASKS; i++) {
        if (port->mask_refs[i]) {
            n = i + 1;
        }
    }
    if (n == port->n_slots) {
        return 0;
    }
    port->n_slots = n;
    return bpf_map_update_elem(port->n_masks_fd, &zero, &n, BPF_ANY);
}

static void
xdp_unref_slot(struct xdp_port *port, __u32 slot)
{
    if (slot < FP_XDP_MAX_MASKS && port->mask_refs[slot]) {
        port->mask_refs[slot]--;
    }
}

/* Writes the 'n' buckets 'bs' of 'port' (xdp_bucket_write()), each once
 * however often it is there.  Returns 0 or the first error. */
static int
xdp_buckets_write(struct xdp_port *port, struct xdp_bucket **bs, size_t n)
{
    int error = 0;

    for (size_t i = 0; i < n; i++) {
        bool done = false;
        for (size_t j = 0; j < i && !done; j++) {
            done = bs[j] == bs[i];
        }
        if (!done) {
            int retval = xdp_bucket_write(port, bs[i]);
            error = error ? error : retval;
        }
    }
    return error;
}

/* Deletes the 'n' entries 'xes' of 'port' from its map, a bucket at a
 * time, and forgets them.  Returns 0 or the first error. */
static int
xdp_delete_entries(struct xdp_port *port, struct xdp_entry **xes, size_t n)
{
    struct xdp_bucket **bs = iovp_xmalloc(MAX(n, 1) * sizeof *bs);

    for (size_t i = 0; i < n; i++) {
        bs[i] = xes[i]->bucket;
        xdp_bucket_remove(xes[i]);
    }
    int error = xdp_buckets_write(port, bs, n);
    for (size_t i = 0; i < n; i++) {
        xdp_forget_entry(port, xes[i]);
    }
    free(bs);
    int error2 = xdp_set_n_slots(port);
    return error ? error : error2;
}

static int
xdp_put(struct offload *o, const char *name, const struct fp_entry *entries,
        size_t n)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);
    int error;

    if (!port) {
        error = xdp_start_port(xdp, name, &port);
        if (error) {
            return error;
        }
    }
    error = xdp_ensure_attached(xdp, port);
    if (error) {
        return error;
    }

    /* One entry per match, within the batch too; each in a tuple whose
     * mask it may have. */
    for (size_t i = 0; i < n; i++) {
        if (!fp_key_is_subset(&entries[i].tuple, &entries[i].match.mask)) {
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (fp_match_equal(&entries[i].match, &entries[j].match)) {
                return -EEXIST;
            }
        }
    }

    /* An entry of the same id but another match leaves first. */
    struct xdp_entry **old = iovp_xmalloc(MAX(n, 1) * sizeof *old);
    size_t n_old = 0, n_new = 0;
    for (size_t i = 0; i < n; i++) {
        struct xdp_entry *xe = xdp_find_entry(port, entries[i].id);
        if (xe && !fp_match_equal(&xe->e.match, &entries[i].match)) {
            old[n_old++] = xe;
        }
        n_new += !xdp_find_match(port, &entries[i].match);
    }
    error = xdp_delete_entries(port, old, n_old);
    if (error) {
        free(old);
        return error;
    }
    if (hmap_count(&port->entries) + n_new > xdp->max_entries) {
        free(old);
        return -ENOSPC;
    }

    /* Each entry into its bucket, replacing one of the same match in
     * place (in the same bucket, atomically; in another, it leaves once
     * the new one is in).  A tuple's mask is written before any bucket of
     * it, and the program looks at a new slot only once its mask is. */
    struct xdp_bucket **touched = iovp_xmalloc(2 * MAX(n, 1)
                                               * sizeof *touched);
    struct xdp_entry **replaced = old;
    size_t n_touched = 0, n_replaced = 0;
    for (size_t i = 0; i < n && !error; i++) {
        const struct fp_entry *e = &entries[i];
        struct xdp_entry *same = xdp_find_match(port, &e->match);
        int slot = xdp_mask_slot(port, &e->tuple);
        if (slot < 0) {
            error = -E2BIG;
            break;
        }
        struct fp_xdp_key key;
        memset(&key, 0, sizeof key);
        fp_key_and(&e->match.value, &e->tuple, &key.key);
        key.slot = slot;
        struct xdp_bucket *b = xdp_bucket_get(port, &key);
        bool in_place = same && same->bucket == b;
        __u32 counter;
        if (!in_place && b->n >= FP_XDP_BUCKET) {
            error = -ENOSPC;
        } else {
            error = xdp_counter_take(port, &counter);
        }
        if (!error && !port->mask_refs[slot]) {
            port->masks[slot] = e->tuple;
            __u32 s = slot;
            error = bpf_map_update_elem(port->masks_fd, &s,
                                        &port->masks[slot], BPF_ANY);
            if (error) {
                port->free_counters[port->n_free_counters++] = counter;
            }
        }
        if (error) {
            if (!b->n) {
                hmap_remove(&port->buckets, &b->node);
                free(b);
            }
            break;
        }

        struct xdp_entry *xe = iovp_xzalloc(sizeof *xe);
        xe->e = *e;
        xe->slot = slot;
        xe->counter = counter;
        xe->bucket = b;
        port->mask_refs[slot]++;
        if (in_place) {
            for (size_t j = 0; j < b->n; j++) {
                if (b->entries[j] == same) {
                    b->entries[j] = xe;
                }
            }
            same->bucket = NULL;
        } else {
            b->entries[b->n++] = xe;
        }
        if (same) {
            /* Out of the indexes now; out of the map below. */
            hmap_remove(&port->entries, &same->node);
            hmap_remove(&port->by_key, &same->key_node);
            replaced[n_replaced++] = same;
        }
        xdp_index_entry(port, xe);
        touched[n_touched++] = b;
    }
    int slots_error = xdp_set_n_slots(port);
    int write_error = xdp_buckets_write(port, touched, n_touched);

    /* The entries replaced from other buckets. */
    n_touched = 0;
    for (size_t i = 0; i < n_replaced; i++) {
        struct xdp_entry *same = replaced[i];
        if (same->bucket) {
            touched[n_touched++] = same->bucket;
            xdp_bucket_remove(same);
        }
    }
    int write_error2 = xdp_buckets_write(port, touched, n_touched);
    for (size_t i = 0; i < n_replaced; i++) {
        struct xdp_entry *same = replaced[i];
        xdp_unref_slot(port, same->slot);
        port->free_counters[port->n_free_counters++] = same->counter;
        free(same);
    }
    xdp_set_n_slots(port);
    free(touched);
    free(old);
    return (error ? error : slots_error ? slots_error
            : write_error ? write_error : write_error2);
}

static int
xdp_delete(struct offload *o, const char *name, const uint32_t *ids,
           size_t n)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);

    if (!port) {
        return 0;
    }
    if (!n) {
        xdp_port_destroy(xdp, port, true);
        return 0;
    }
    struct xdp_entry **xes = iovp_xmalloc(n * sizeof *xes);
    size_t n_xes = 0;
    for (size_t i = 0; i < n; i++) {
        struct xdp_entry *xe = xdp_find_entry(port, ids[i]);
        if (xe) {
            xes[n_xes++] = xe;
        }
    }
    int error = xdp_delete_entries(port, xes, n_xes);
    free(xes);
    return error;
}

/* Returns 0 if 'port''s program still runs on its device, else -ENODEV:
 * the device is gone, or someone detached or replaced the program. */
static int
xdp_check_attached(const struct xdp *xdp, const struct xdp_port *port)
{
    __u32 id = 0;

    return (if_nametoindex(port->name) == (unsigned int) port->ifindex
            && !xdp_query_id(port->ifindex, xdp->attach_flags, &id)
            && id == port->prog_id) ? 0 : -ENODEV;
}

/* Returns 'port''s counters, fp_counts, mapped into memory (the program
 * creates the map so that it can be), or NULL if it cannot be: a read of
 * every entry's counters then costs no system call. */
static const volatile struct fp_xdp_count *
xdp_counts(struct xdp_port *port)
{
    if (!port->counts && port->counts_fd >= 0 && port->max_counters) {
        long page = sysconf(_SC_PAGESIZE);
        size_t len = port->max_counters * sizeof *port->counts;
        len = ROUND_UP(len, page > 0 ? page : 4096);
        void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, port->counts_fd, 0);
        if (p != MAP_FAILED) {
            port->counts = p;
            port->counts_len = len;
        }
    }
    return port->counts;
}

static int
xdp_stats(struct offload *o, const char *name, struct offload_stats **statsp,
          size_t *n)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);
    struct xdp_entry *xe;

    *statsp = NULL;
    *n = 0;
    if (!port) {
        return 0;
    }
    int error = xdp_check_attached(xdp, port);
    if (error) {
        return error;
    }
    const volatile struct fp_xdp_count *counts = xdp_counts(port);
    *statsp = iovp_xmalloc(MAX(hmap_count(&port->entries), 1)
                           * sizeof **statsp);
    HMAP_FOR_EACH (xe, node, &port->entries) {
        struct fp_xdp_count c;
        if (counts && xe->counter < port->max_counters) {
            c.n_packets = counts[xe->counter].n_packets;
            c.n_bytes = counts[xe->counter].n_bytes;
        } else if (bpf_map_lookup_elem(port->counts_fd, &xe->counter, &c)) {
            continue;
        }
        (*statsp)[(*n)++] = (struct offload_stats) {
            .id = xe->e.id,
            .n_packets = c.n_packets,
            .n_bytes = c.n_bytes,
        };
    }
    return 0;
}

static int
xdp_dump(struct offload *o, const char *name, struct fp_entry **entriesp,
         size_t *n)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);
    struct xdp_entry *xe;

    *entriesp = NULL;
    *n = 0;
    if (!port) {
        /* A port not served yet: take over what a previous iovpd left on
         * its device, if anything. */
        __u32 id = 0;
        int ifindex = if_nametoindex(name);
        if (!ifindex || xdp_query_id(ifindex, xdp->attach_flags, &id)
            || !id) {
            return 0;
        }
        int error = xdp_start_port(xdp, name, &port);
        if (error) {
            return error;
        }
    }
    *entriesp = iovp_xmalloc(MAX(hmap_count(&port->entries), 1)
                             * sizeof **entriesp);
    HMAP_FOR_EACH (xe, node, &port->entries) {
        (*entriesp)[(*n)++] = xe->e;
    }
    return 0;
}

/* Runs 'port''s program once on the 'len'-byte frame 'frame' with
 * BPF_PROG_TEST_RUN and 'flags', marked as a test frame in its metadata
 * (FP_XDP_TEST_MARK) so that no entry's counter counts it, and stores the
 * program's verdict in '*verdict'.  Returns 0 or a negative errno value.
 * Without a context, the frame goes in as the loopback device's. */
static int
xdp_test_run(const struct xdp_port *port, const void *frame, size_t len,
             __u32 flags, __u32 *verdict)
{
    const uint32_t mark = FP_XDP_TEST_MARK;
    uint8_t *data = iovp_xmalloc(sizeof mark + len);

    memcpy(data, &mark, sizeof mark);
    memcpy(data + sizeof mark, frame, len);

    /* The context says where the frame starts: what comes before 'data'
     * is its metadata. */
    struct xdp_md md = {
        .data = sizeof mark,
        .data_end = sizeof mark + len,
    };
    LIBBPF_OPTS(bpf_test_run_opts, topts,
                .data_in = data, .data_size_in = sizeof mark + len,
                .ctx_in = &md, .ctx_size_in = sizeof md,
                .repeat = 1, .flags = flags);
    int error = bpf_prog_test_run_opts(port->prog_fd, &topts);
    free(data);
    *verdict = topts.retval;
    return error;
}

/* Runs 'name''s program on 'frame' with BPF_PROG_TEST_RUN.  The program's
 * verdict gives the fate; the entry is the one iovpd's own copy of the
 * table says decides, and a verdict that contradicts it is reported as an
 * entry of id 0 with the program's fate. */
static int
xdp_classify(struct offload *o, const char *name, const void *frame,
             size_t len, struct fp_entry *entry)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);

    memset(entry, 0, sizeof *entry);
    entry->fate = FP_TO_OVS;
    if (!port) {
        return 0;
    }
    int error = xdp_check_attached(xdp, port);
    if (error) {
        return error;
    }

    __u32 verdict;
    error = xdp_test_run(port, frame, len, 0, &verdict);
    if (error) {
        return error;
    }
    enum fp_fate fate = (verdict == XDP_DROP ? FP_DROP
                         : verdict == XDP_REDIRECT ? FP_FORWARD
                         : FP_TO_OVS);

    struct fp_key key;
    const struct xdp_entry *best = NULL, *xe;
    if (fp_key_from_frame(frame, len, &key)) {
        HMAP_FOR_EACH (xe, node, &port->entries) {
            if (fp_match_matches(&xe->e.match, &key)
                && (!best || xe->e.priority > best->e.priority
                    || (xe->e.priority == best->e.priority
                        && xe->e.id < best->e.id))) {
                best = xe;
            }
        }
    }
    if (best && best->e.fate == fate) {
        *entry = best->e;
    } else if (fate != FP_TO_OVS || (best && best->e.fate != FP_TO_OVS)) {
        entry->fate = fate;     /* The program and iovpd disagree. */
        entry->out_port = best ? best->e.out_port : 0;
    }
    return 0;
}

/* The "netdev" generic netlink family (include/uapi/linux/netdev.h, which
 * the build's headers may predate): a device's XDP features, among them
 * whether it takes frames redirected to it by a program in native mode. */
#define XDP_NETDEV_CMD_DEV_GET 1
#define XDP_NETDEV_A_DEV_IFINDEX 1
#define XDP_NETDEV_A_DEV_XDP_FEATURES 3
#define XDP_NETDEV_ACT_NDO_XMIT (1ull << 2)

/* Sends 'req', a netlink request of 'protocol' (its header's length
 * set), and receives the kernel's one-message answer into 'reply', a
 * buffer of 'size' bytes.  Returns 0 and stores in '*nlhp' that message's
 * header, or returns a negative errno value (the kernel's, for an
 * NLMSG_ERROR answer). */
static int
xdp_nl_transact(int protocol, const struct nlmsghdr *req, char *reply,
                size_t size, const struct nlmsghdr **nlhp)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
        return -errno;
    }

    int error = 0;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t n = 0;
    if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *) &kernel,
               sizeof kernel) < 0
        || (n = recv(fd, reply, size, MSG_TRUNC)) < 0) {
        error = -errno;
    }
    close(fd);
    if (error) {
        return error;
    }
    if ((size_t) n > size) {
        return -EMSGSIZE;
    }

    const struct nlmsghdr *nlh = (const struct nlmsghdr *) reply;
    if (!NLMSG_OK(nlh, (size_t) n)) {
        return -EPROTO;
    }
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = NLMSG_DATA(nlh);
        return (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof *err) && err->error
                ? err->error : -EPROTO);
    }
    *nlhp = nlh;
    return 0;
}

/* Returns the attribute of type 'type' among those from 'p' to 'end', or
 * NULL if there is none.  Sets '*error' to -EPROTO if they are not well
 * formed. */
static const struct nlattr *
xdp_nla_find(const char *p, const char *end, __u16 type, int *error)
{
    while (p + NLA_HDRLEN <= end) {
        const struct nlattr *a = (const struct nlattr *) p;
        if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end) {
            *error = -EPROTO;
            return NULL;
        }
        if ((a->nla_type & NLA_TYPE_MASK) == type) {
            return a;
        }
        p += NLA_ALIGN(a->nla_len);
    }
    return NULL;
}

/* Sends the generic netlink request of command 'cmd' to 'family' with the
 * 'attr_len'-byte attribute 'attr' of type 'attr_type', and stores in
 * '*value' the first 'value_len' bytes of the reply's attribute of type
 * 'want'.  Returns 0 or a negative errno value. */
static int
xdp_genl_get(int family, __u8 cmd, __u16 attr_type, const void *attr,
             size_t attr_len, __u16 want, void *value, size_t value_len)
{
    struct {
        struct nlmsghdr nlh;
        struct genlmsghdr genl;
        char attrs[64];
    } req;
    char reply[4096];

    if (attr_len > sizeof req.attrs - NLA_HDRLEN) {
        return -EINVAL;
    }
    memset(&req, 0, sizeof req);
    struct nlattr *nla = (struct nlattr *) req.attrs;
    nla->nla_type = attr_type;
    nla->nla_len = NLA_HDRLEN + attr_len;
    memcpy((char *) nla + NLA_HDRLEN, attr, attr_len);
    req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(nla->nla_len));
    req.nlh.nlmsg_type = family;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.genl.cmd = cmd;
    req.genl.version = 1;

    const struct nlmsghdr *nlh;
    int error = xdp_nl_transact(NETLINK_GENERIC, &req.nlh, reply,
                                sizeof reply, &nlh);
    if (error) {
        return error;
    }
    if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
        return -EPROTO;
    }
    const struct nlattr *a = xdp_nla_find(
        (const char *) NLMSG_DATA(nlh) + GENL_HDRLEN,
        (const char *) nlh + nlh->nlmsg_len, want, &error);
    if (!a) {
        return error ? error : -ENOENT;
    }
    if (a->nla_len - NLA_HDRLEN < value_len) {
        return -EPROTO;
    }
    memcpy(value, (const char *) a + NLA_HDRLEN, value_len);
    return 0;
}

/* Stores in '*id' the id of the program attached to the device of
 * 'ifindex' in the mode of 'flags' (XDP_FLAGS_DRV_MODE or _SKB_MODE), or 0
 * if none is.  Returns 0 or a negative errno value.
 *
 * libbpf's bpf_xdp_query_id() dumps every link of the host and keeps one:
 * with a program on each of many ports, each counter read of each port
 * would cost as much as the host's links.  This asks the kernel for the
 * one link. */
static int
xdp_query_id(int ifindex, __u32 flags, __u32 *id)
{
    struct {
        struct nlmsghdr nlh;
        struct ifinfomsg ifi;
        struct nlattr ext_mask;
        __u32 ext_mask_value;
    } req;
    char reply[32768];

    *id = 0;
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = RTM_GETLINK;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = ifindex;
    req.ext_mask.nla_type = IFLA_EXT_MASK;
    req.ext_mask.nla_len = NLA_HDRLEN + sizeof req.ext_mask_value;
    req.ext_mask_value = RTEXT_FILTER_SKIP_STATS;

    const struct nlmsghdr *nlh;
    int error = xdp_nl_transact(NETLINK_ROUTE, &req.nlh, reply, sizeof reply,
                                &nlh);
    if (error) {
        return error;
    }
    if (nlh->nlmsg_type != RTM_NEWLINK
        || nlh->nlmsg_len < NLMSG_LENGTH(sizeof req.ifi)) {
        return -EPROTO;
    }
    const char *end = (const char *) nlh + nlh->nlmsg_len;
    const struct nlattr *xdp = xdp_nla_find(
        (const char *) NLMSG_DATA(nlh) + NLMSG_ALIGN(sizeof req.ifi), end,
        IFLA_XDP, &error);
    if (!xdp) {
        return error;           /* No XDP at all on the device. */
    }
    const struct nlattr *a = xdp_nla_find(
        (const char *) xdp + NLA_HDRLEN, (const char *) xdp + xdp->nla_len,
        flags & XDP_FLAGS_SKB_MODE ? IFLA_XDP_SKB_PROG_ID
        : IFLA_XDP_DRV_PROG_ID, &error);
    if (a && a->nla_len >= NLA_HDRLEN + sizeof *id) {
        memcpy(id, (const char *) a + NLA_HDRLEN, sizeof *id);
    }
    return error;
}

/* Stores in '*features' the XDP features (NETDEV_XDP_ACT_*) that the
 * kernel reports for the device of 'ifindex'.  Returns 0, -EOPNOTSUPP if
 * the kernel reports none (before Linux 6.3), or another negative errno
 * value. */
static int
xdp_dev_features(struct xdp *xdp, int ifindex, uint64_t *features)
{
    if (!xdp->netdev_family) {
        __u16 id;
        int error = xdp_genl_get(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                 CTRL_ATTR_FAMILY_NAME, "netdev",
                                 sizeof "netdev", CTRL_ATTR_FAMILY_ID,
                                 &id, sizeof id);
        xdp->netdev_family = error ? -1 : id;
    }
    if (xdp->netdev_family < 0) {
        return -EOPNOTSUPP;
    }
    __u32 index = ifindex;
    return xdp_genl_get(xdp->netdev_family, XDP_NETDEV_CMD_DEV_GET,
                        XDP_NETDEV_A_DEV_IFINDEX, &index, sizeof index,
                        XDP_NETDEV_A_DEV_XDP_FEATURES, features,
                        sizeof *features);
}

/* Returns true if device 'name' is up (or if that cannot be read). */
static bool
xdp_dev_up(const char *name)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return true;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    bool up = ioctl(fd, SIOCGIFFLAGS, &ifr) || (ifr.ifr_flags & IFF_UP);
    close(fd);
    return up;
}

/* A frame that a program redirects goes, in generic mode, through the
 * target's ordinary transmit path (dev_queue_xmit), which every device
 * has; in native mode, to the target's ndo_xdp_xmit, which the kernel
 * calls only if the device says it takes redirected frames (the XDP
 * feature NETDEV_XDP_ACT_NDO_XMIT) and otherwise drops the frame.  A veth
 * says so only while its peer serves its receive ring (an XDP program or
 * GRO on the peer), so the feature is exactly the kernel's own test, for
 * every kind of device, read from this namespace even though the peer is
 * in another one.  Where the kernel reports no features, delivery is not
 * established and the frames go to OVS.  Both modes need the target up. */
static bool
xdp_delivery(struct offload *o, const char *name OVS_UNUSED,
             uint32_t out_port, struct ds *why)
{
    struct xdp *xdp = xdp_cast(o);
    char dev[IF_NAMESIZE];

    if (!out_port || !if_indextoname(out_port, dev)) {
        ds_put_format(why, "device %"PRIu32" is gone", out_port);
        return false;
    }
    if (!xdp_dev_up(dev)) {
        ds_put_format(why, "%s is down", dev);
        return false;
    }
    if (xdp->attach_flags & XDP_FLAGS_SKB_MODE) {
        ds_put_format(why, "generic XDP: %s's own transmit path", dev);
        return true;
    }

    uint64_t features = 0;
    int error = xdp_dev_features(xdp, out_port, &features);
    if (error == -EOPNOTSUPP) {
        ds_put_format(why, "native XDP: the kernel does not say whether %s "
                      "takes redirected frames", dev);
        return false;
    } else if (error) {
        ds_put_format(why, "native XDP: reading %s's XDP features failed "
                      "(%s)", dev, strerror(-error));
        return false;
    } else if (!(features & XDP_NETDEV_ACT_NDO_XMIT)) {
        ds_put_format(why, "native XDP: %s takes no redirected frames "
                      "(a veth whose peer has neither an XDP program nor "
                      "GRO, say)", dev);
        return false;
    }
    ds_put_format(why, "native XDP: %s takes redirected frames", dev);
    return true;
}

/* Stores in '*n' the frames that 'name''s program redirected to
 * 'out_port' and the kernel then lost, as the tracepoint programs counted
 * them since the backend opened (see xdp_errors_open()), and appends the
 * target's name to 'target'.  Returns 0, or -EOPNOTSUPP if they are not
 * counted. */
static int
xdp_redirect_errors(struct offload *o, const char *name, uint32_t out_port,
                    uint64_t *n, struct ds *target)
{
    struct xdp *xdp = xdp_cast(o);
    const struct xdp_port *port = xdp_find_port(xdp, name);
    char dev[IF_NAMESIZE];

    *n = 0;
    if (out_port && if_indextoname(out_port, dev)) {
        ds_put_cstr(target, dev);
    } else {
        ds_put_format(target, "device %"PRIu32, out_port);
    }
    if (xdp->errors_fd < 0) {
        return -EOPNOTSUPP;
    }
    struct fp_xdp_error_key key = {
        .from_ifindex = port ? port->ifindex : (int) if_nametoindex(name),
        .to_ifindex = out_port,
    };
    __u64 count;
    if (!bpf_map_lookup_elem(xdp->errors_fd, &key, &count)) {
        *n = count;
    }
    return 0;
}

/* Stores in '*n' the frames that device 'dev' has taken through its
 * ndo_xdp_xmit, by the ethtool statistics "tx_queue_N_xdp_xmit" (a
 * veth's: the frames it put in its peer's receive ring), summed over its
 * queues.  Returns 0, or -EOPNOTSUPP (with the reason in 'why') if the
 * device has no such statistic, or another negative errno value. */
static int
xdp_xmit_counter(const char *dev, uint64_t *n, struct ds *why)
{
    struct ethtool_gstrings *strings = NULL;
    struct ethtool_stats *stats = NULL;
    struct ethtool_drvinfo info;
    struct ifreq ifr;
    int error = 0;

    *n = 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    memset(&info, 0, sizeof info);
    info.cmd = ETHTOOL_GDRVINFO;
    ifr.ifr_data = (void *) &info;
    if (ioctl(fd, SIOCETHTOOL, &ifr)) {
        error = -errno;
        goto out;
    }
    size_t n_stats = info.n_stats;
    strings = iovp_xzalloc(sizeof *strings + n_stats * ETH_GSTRING_LEN);
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_STATS;
    strings->len = n_stats;
    ifr.ifr_data = (void *) strings;
    stats = iovp_xzalloc(sizeof *stats + n_stats * sizeof stats->data[0]);
    stats->cmd = ETHTOOL_GSTATS;
    stats->n_stats = n_stats;
    if (ioctl(fd, SIOCETHTOOL, &ifr)) {
        error = -errno;
        goto out;
    }
    ifr.ifr_data = (void *) stats;
    if (ioctl(fd, SIOCETHTOOL, &ifr)) {
        error = -errno;
        goto out;
    }
    bool found = false;
    for (size_t i = 0; i < MIN(n_stats, stats->n_stats); i++) {
        char name[ETH_GSTRING_LEN + 1];
        unsigned int queue;
        int end = 0;
        memcpy(name, strings->data + i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
        name[ETH_GSTRING_LEN] = '\0';
        if (sscanf(name, "tx_queue_%u_xdp_xmit%n", &queue, &end) == 1
            && end && !name[end]) {
            *n += stats->data[i];
            found = true;
        }
    }
    if (!found) {
        ds_put_format(why, "%s (driver %s) counts no frames taken through "
                      "its ndo_xdp_xmit that iovpd knows of", dev,
                      info.driver);
        error = -EOPNOTSUPP;
    }
out:
    free(strings);
    free(stats);
    close(fd);
    return error;
}

/* Runs 'name''s program on 'frame' with BPF_PROG_TEST_RUN in live-frames
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18 and later), so that the
 * kernel really redirects it, and confirms that it reached 'out_port' by
 * the target's count of frames taken through its ndo_xdp_xmit (which
 * moves only on delivery) and by the redirect errors counted meanwhile.
 * The test run redirects the way native mode does, through the target's
 * ndo_xdp_xmit; in generic mode, where frames leave through the target's
 * ordinary transmit path, that confirms as much only for a target that
 * takes redirected frames, and is not tried for another.  The run's
 * receiving device is the loopback device, so that its losses do not
 * count against the port. */
static int
xdp_deliver(struct offload *o, const char *name, const void *frame,
            size_t len, uint32_t out_port, struct ds *why)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);
    char dev[IF_NAMESIZE];

    if (!port || xdp_check_attached(xdp, port)) {
        ds_put_format(why, "%s's program is not attached", name);
        return -ENODEV;
    }
    if (!out_port || !if_indextoname(out_port, dev)) {
        ds_put_format(why, "device %"PRIu32" is gone", out_port);
        return 0;
    }
    if (xdp->attach_flags & XDP_FLAGS_SKB_MODE) {
        uint64_t features = 0;
        if (xdp_dev_features(xdp, out_port, &features)
            || !(features & XDP_NETDEV_ACT_NDO_XMIT)) {
            ds_put_format(why, "generic XDP sends through %s's ordinary "
                          "transmit path, which a test run cannot take, "
                          "and %s takes no frames through ndo_xdp_xmit",
                          dev, dev);
            return -EOPNOTSUPP;
        }
    }

    uint64_t sent_before, sent_after, lost_before, lost_after;
    struct ds target = DS_EMPTY_INITIALIZER;
    int error = xdp_xmit_counter(dev, &sent_before, why);
    if (error) {
        return error;
    }
    bool counted = !xdp_redirect_errors(o, "lo", out_port, &lost_before,
                                        &target);

    __u32 verdict;
    error = xdp_test_run(port, frame, len, BPF_F_TEST_XDP_LIVE_FRAMES,
                         &verdict);
    if (error) {
        ds_put_format(why, "a live test run failed (%s)", strerror(-error));
        ds_destroy(&target);
        return error == -EINVAL ? -EOPNOTSUPP : error;
    }

    error = xdp_xmit_counter(dev, &sent_after, why);
    counted = counted && !xdp_redirect_errors(o, "lo", out_port, &lost_after,
                                              &target);
    ds_destroy(&target);
    if (error) {
        return error;
    }
    if (counted && lost_after > lost_before) {
        ds_put_format(why, "the kernel lost it on the way to %s (a redirect "
                      "error)", dev);
        return 0;
    }
    if (sent_after > sent_before) {
        ds_put_format(why, "%s took it through its ndo_xdp_xmit", dev);
        return 1;
    }
    ds_put_format(why, "%s's count of frames taken through its ndo_xdp_xmit "
                  "did not move", dev);
    return 0;
}

/* Returns true if CPU 'cpu' is online, as /sys says. */
static bool
xdp_cpu_online(int cpu)
{
    FILE *f = fopen("/sys/devices/system/cpu/online", "r");
    bool online = false;
    int a, b;

    if (!f) {
        return false;
    }
    while (!online && fscanf(f, "%d", &a) == 1) {
        b = a;
        int c = fgetc(f);
        if (c == '-' && fscanf(f, "%d", &b) == 1) {
            c = fgetc(f);
        }
        online = cpu >= a && cpu <= b;
        if (c != ',') {
            break;
        }
    }
    fclose(f);
    return online;
}

/* Makes sure that the CPU map has our queue for CPU 'cpu', with the CPU
 * map's program.  Returns 0 or a negative errno value. */
static int
xdp_cpu_queue(struct xdp *xdp, uint32_t cpu)
{
    if (cpu >= (uint32_t) xdp->n_cpus || !xdp_cpu_online(cpu)) {
        return -EINVAL;
    }
    if (xdp->queued[cpu]) {
        return 0;
    }
    struct bpf_cpumap_val val = {
        .qsize = XDP_CPU_QUEUE,
        .bpf_prog.fd = xdp->steered_fd,
    };
    int error = bpf_map_update_elem(xdp->cpus_fd, &cpu, &val, BPF_ANY);
    if (!error) {
        VLOG_INFO("steering: a queue of %d frames for CPU %"PRIu32,
                  XDP_CPU_QUEUE, cpu);
        xdp->queued[cpu] = true;
    }
    return error;
}

static int
xdp_steer(struct offload *o, const char *name,
          const struct offload_steer *rules, size_t n)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);
    __u32 zero = 0, n_steers = 0;
    int error = 0;

    if (!port) {
        return -ENODEV;
    } else if (n && xdp->attach_flags & XDP_FLAGS_SKB_MODE) {
        /* Generic XDP drops a redirected frame's metadata: the CPU map's
         * program would not know where the frame goes. */
        error = -EOPNOTSUPP;
    } else if (n > FP_XDP_MAX_STEER) {
        error = -E2BIG;
    }
    for (size_t i = 0; i < n && !error; i++) {
        error = xdp_cpu_queue(xdp, rules[i].cpu);
    }
    /* A frame may meet old and new rules for a moment: that changes the
     * CPU that forwards it, never what becomes of it. */
    for (size_t i = 0; i < n && !error; i++) {
        struct fp_xdp_steer fs;
        memset(&fs, 0, sizeof fs);
        fs.mask = rules[i].match.mask;
        fp_key_and(&rules[i].match.value, &fs.mask, &fs.value);
        fs.cpu = rules[i].cpu;
        fs.id = rules[i].id;
        __u32 slot = i;
        error = bpf_map_update_elem(port->steer_fd, &slot, &fs, BPF_ANY);
    }
    n_steers = error ? 0 : n;
    int error2 = bpf_map_update_elem(port->n_steer_fd, &zero, &n_steers,
                                     BPF_ANY);
    /* The counters of the rules that go. */
    for (size_t i = 0; i < port->n_steers; i++) {
        struct fp_xdp_steer_key key = {
            .ifindex = port->ifindex,
            .id = port->steers[i].id,
        };
        bool kept = false;
        for (size_t j = 0; j < n_steers && !kept; j++) {
            kept = rules[j].id == key.id;
        }
        if (!kept) {
            bpf_map_delete_elem(xdp->steer_counts_fd, &key);
        }
    }
    free(port->steers);
    port->steers = (n_steers
                    ? iovp_xmemdup(rules, n_steers * sizeof *rules) : NULL);
    port->n_steers = n_steers;
    return error ? error : error2;
}

static int
xdp_steer_stats(struct offload *o, const char *name,
                struct offload_steer_stats **statsp, size_t *n)
{
    struct xdp *xdp = xdp_cast(o);
    struct xdp_port *port = xdp_find_port(xdp, name);

    *statsp = NULL;
    *n = 0;
    if (!port || !port->n_steers || xdp->steer_counts_fd < 0) {
        return 0;
    }
    int n_cpus = libbpf_num_possible_cpus();
    if (n_cpus <= 0) {
        return n_cpus ? n_cpus : -EINVAL;
    }
    struct fp_xdp_steer_count *counts = iovp_xmalloc(n_cpus
                                                     * sizeof *counts);
    *statsp = iovp_xmalloc(port->n_steers * n_cpus * sizeof **statsp);
    for (size_t i = 0; i < port->n_steers; i++) {
        struct fp_xdp_steer_key key = {
            .ifindex = port->ifindex,
            .id = port->steers[i].id,
        };
        if (bpf_map_lookup_elem(xdp->steer_counts_fd, &key, counts)) {
            memset(counts, 0, n_cpus * sizeof *counts);
        }
        for (int cpu = 0; cpu < n_cpus; cpu++) {
            if (counts[cpu].n_packets || cpu == port->steers[i].cpu) {
                struct fp_xdp_error_key ekey = {
                    .to_ifindex = FP_XDP_CPU_TARGET | cpu,
                };
                __u64 dropped = 0;
                if (xdp->errors_fd >= 0) {
                    bpf_map_lookup_elem(xdp->errors_fd, &ekey, &dropped);
                }
                (*statsp)[(*n)++] = (struct offload_steer_stats) {
                    .id = key.id,
                    .cpu = cpu,
                    .n_packets = counts[cpu].n_packets,
                    .n_bytes = counts[cpu].n_bytes,
                    .n_queue_drops = dropped,
                };
            }
        }
    }
    free(counts);
    return 0;
}

static void
xdp_describe(const struct offload *o, struct ds *s)
{
    const struct xdp *xdp = xdp_cast(o);
    const struct xdp_port *port;

    ds_put_format(s, "xdp (%s mode): %zu entries and %d masks per port\n",
                  xdp->attach_flags & XDP_FLAGS_SKB_MODE ? "generic"
                  : "native", xdp->max_entries, FP_XDP_MAX_MASKS);
    HMAP_FOR_EACH (port, node, &xdp->ports) {
        ds_put_format(s, "  %s: program %u, %zu entries\n", port->name,
                      port->prog_id, hmap_count(&port->entries));
    }
}

/* The capabilities the backend needs when iovpd runs as another user than
 * root (iovpd --user), as Linux 5.8 and later split them: CAP_BPF to create
 * maps and load programs; CAP_PERFMON for the verifier to take the
 * program's pointer arithmetic on packet data (refused "for !root"
 * otherwise); CAP_NET_ADMIN to load an XDP program and to attach it to a
 * device; and CAP_SYS_ADMIN for BPF_PROG_GET_FD_BY_ID and
 * BPF_MAP_GET_FD_BY_ID, through which a restarted iovpd takes the attached
 * program and its maps over (without it, it would replace them, and the
 * port's frames would go to OVS until its entries are back).  Running a
 * program on a test frame (BPF_PROG_TEST_RUN, for verify-offload) needs
 * no more on these kernels; older ones ask CAP_SYS_ADMIN for it too. */
#define XDP_PRIVILEGES ((UINT64_C(1) << CAP_NET_ADMIN)      \
                        | (UINT64_C(1) << CAP_SYS_ADMIN)    \
                        | (UINT64_C(1) << CAP_PERFMON)      \
                        | (UINT64_C(1) << CAP_BPF))

const struct offload_class offload_xdp_class = {
    .name = "xdp",
    .privileges = XDP_PRIVILEGES,
    .open = xdp_open,
    .close = xdp_close,
    .capabilities = xdp_capabilities,
    .put = xdp_put,
    .delete = xdp_delete,
    .stats = xdp_stats,
    .dump = xdp_dump,
    .classify = xdp_classify,
    .delivery = xdp_delivery,
    .redirect_errors = xdp_redirect_errors,
    .deliver = xdp_deliver,
    .steer = xdp_steer,
    .steer_stats = xdp_steer_stats,
    .describe = xdp_describe,
};
