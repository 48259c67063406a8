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

#include "utilities/ofctl-capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openvswitch/util.h>

#include "lib/control-client.h"
#include "lib/util.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* The largest frame read, and the snap length a pcap file of whole frames
 * says (tcpdump's default). */
#define CAPTURE_MAX_FRAME 65536
#define CAPTURE_WHOLE_SNAPLEN 262144

/* The signal that ends the capture, or 0. */
static volatile sig_atomic_t capture_stop_signal;

static void
capture_signal_handler(int signum)
{
    capture_stop_signal = signum;
}

/* Makes SIGINT, SIGTERM, SIGHUP and SIGPIPE end the capture: they
 * interrupt the read (no SA_RESTART) instead of killing the program, so
 * that it ends its session. */
static void
capture_catch_signals(void)
{
    static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = capture_signal_handler;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(signals); i++) {
        sigaction(signals[i], &sa, NULL);
    }
}

/* Sends 'command' with its 'argc' arguments 'argv' to iovpd at
 * 'o->control_path' on a connection of its own, and stores the text it
 * answers in '*reply' (malloc()'d) if 'reply' is nonnull.  Returns 0, or
 * prints why not and returns the program's exit status: 1 if iovpd could
 * not be asked, 2 if it answered with an error. */
static int
capture_ask(const struct ofctl_capture_options *o, const char *command,
            int argc, const char *argv[], char **reply)
{
    struct control_client *client;
    json_t *result = NULL, *error = NULL;

    int retval = control_client_open(o->control_path, o->timeout_ms,
                                     &client);
    if (!retval) {
        retval = control_client_transact(client, command, argc, argv,
                                         &result, &error);
        control_client_close(client);
    }
    if (retval) {
        fprintf(stderr, "%s: %s: %s (%s)\n", ovs_get_program_name(),
                o->control_path, command, strerror(-retval));
        return EXIT_FAILURE;
    } else if (error) {
        const char *s = json_string_value(error);
        s = s ? s : "iovpd returned an error";
        fprintf(stderr, "%s: %s: %.*s\n", ovs_get_program_name(), command,
                (int) strcspn(s, "\n"), s);
        json_decref(error);
        json_decref(result);
        return 2;
    } else if (!json_is_string(result)) {
        fprintf(stderr, "%s: %s: unexpected reply (not text)\n",
                ovs_get_program_name(), command);
        json_decref(result);
        return EXIT_FAILURE;
    }
    if (reply) {
        const char *s = json_string_value(result);
        *reply = iovp_xmemdup(s, strcspn(s, "\n") + 1);
        (*reply)[strcspn(s, "\n")] = '\0';
    }
    json_decref(result);
    return 0;
}

/* Makes network device 'dev' (a capture port) send nothing of its own:
 * no IPv6 (no router solicitation, no duplicate address detection), no
 * ARP; and brings it up, so that it receives.  Returns 0 or a negative
 * errno value, with what failed in '*what'. */
static int
capture_setup_device(int fd, const char *dev, const char **what)
{
    char *name = iovp_xasprintf("/proc/sys/net/ipv6/conf/%s/disable_ipv6",
                                dev);
    int sysctl = open(name, O_WRONLY | O_CLOEXEC);
    free(name);
    if (sysctl >= 0) {
        bool ok = write(sysctl, "1\n", 2) == 2;
        close(sysctl);
        if (!ok) {
            *what = "cannot disable IPv6 on it";
            return -errno;
        }
    } else if (errno != ENOENT) {
        /* ENOENT: the kernel has no IPv6. */
        *what = "cannot disable IPv6 on it";
        return -errno;
    }

    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        *what = "cannot read its flags";
        return -errno;
    }
    ifr.ifr_flags |= IFF_UP | IFF_NOARP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        *what = "cannot bring it up";
        return -errno;
    }
    return 0;
}

/* Binds packet socket 'fd' to device 'dev', to read what the device
 * receives only (the frames it sends are its own), with the kernel's
 * receive time of each.  Returns 0 or a negative errno value, with what
 * failed in '*what'. */
static int
capture_bind(int fd, const char *dev, const char **what)
{
    unsigned int ifindex = if_nametoindex(dev);
    if (!ifindex) {
        *what = "no such device";
        return -errno;
    }

    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
        *what = "cannot bind a packet socket to it";
        return -errno;
    }

    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on) < 0) {
        *what = "cannot have the kernel time frames";
        return -errno;
    }
    /* Since Linux 4.20; on older kernels, the frames the socket says are
     * outgoing are left out as they come. */
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on);
    return 0;
}

/* Writes the header of a classic pcap file of Ethernet frames cut to
 * 'snaplen' bytes (0: whole) to 'stream'.  Returns true if successful. */
static bool
capture_pcap_header(FILE *stream, int snaplen)
{
    struct {
        uint32_t magic;
        uint16_t version_major, version_minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, linktype;
    } hdr = {
        .magic = 0xa1b2c3d4,    /* Microsecond timestamps, our byte order. */
        .version_major = 2,
        .version_minor = 4,
        .snaplen = snaplen ? snaplen : CAPTURE_WHOLE_SNAPLEN,
        .linktype = 1,          /* LINKTYPE_ETHERNET. */
    };
    return fwrite(&hdr, sizeof hdr, 1, stream) == 1 && !fflush(stream);
}

/* Writes frame 'data' of 'len' bytes ('orig_len' before any cut), which
 * arrived at 'tv', as a pcap record to 'stream', and flushes it so that a
 * reader sees it at once.  Returns true if successful. */
static bool
capture_pcap_record(FILE *stream, const struct timeval *tv,
                    const uint8_t *data, size_t len, size_t orig_len)
{
    struct {
        uint32_t ts_sec, ts_usec, incl_len, orig_len;
    } rec = {
        .ts_sec = tv->tv_sec,
        .ts_usec = tv->tv_usec,
        .incl_len = len,
        .orig_len = orig_len,
    };
    return (fwrite(&rec, sizeof rec, 1, stream) == 1
            && (!len || fwrite(data, len, 1, stream) == 1)
            && !fflush(stream));
}

/* Prints a line that sums up frame 'data' of 'len' bytes ('orig_len'
 * before any cut), which arrived at 'tv': its time, its Ethernet
 * addresses, and its IP addresses and ports, as far as 'len' shows
 * them. */
static void
capture_print_frame(const struct timeval *tv, const uint8_t *data,
                    size_t len, size_t orig_len)
{
    struct tm tm;
    time_t secs = tv->tv_sec;
    localtime_r(&secs, &tm);
    printf("%02d:%02d:%02d.%06ld ", tm.tm_hour, tm.tm_min, tm.tm_sec,
           (long int) tv->tv_usec);
    if (len < ETH_HLEN) {
        printf("(%zu bytes, too short for Ethernet), length %zu\n", len,
               orig_len);
        fflush(stdout);
        return;
    }
    printf("%02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x",
           data[6], data[7], data[8], data[9], data[10], data[11],
           data[0], data[1], data[2], data[3], data[4], data[5]);

    size_t ofs = 12;
    uint16_t type = data[ofs] << 8 | data[ofs + 1];
    while ((type == 0x8100 || type == 0x88a8) && ofs + 6 <= len) {
        printf(", vlan %d", (data[ofs + 2] << 8 | data[ofs + 3]) & 0xfff);
        ofs += 4;
        type = data[ofs] << 8 | data[ofs + 1];
    }
    ofs += 2;

    const uint8_t *l3 = data + ofs;
    size_t l3_len = len > ofs ? len - ofs : 0;
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    int proto = -1;
    size_t l4 = 0;
    if (type == 0x0800 && l3_len >= 20) {
        inet_ntop(AF_INET, l3 + 12, src, sizeof src);
        inet_ntop(AF_INET, l3 + 16, dst, sizeof dst);
        proto = l3[9];
        /* The ports are only in a first fragment. */
        l4 = ((l3[6] & 0x1f) | l3[7]) ? 0 : (l3[0] & 0xf) * 4;
        printf(", IPv4");
    } else if (type == 0x86dd && l3_len >= 40) {
        inet_ntop(AF_INET6, l3 + 8, src, sizeof src);
        inet_ntop(AF_INET6, l3 + 24, dst, sizeof dst);
        proto = l3[6];
        l4 = 40;
        printf(", IPv6");
    } else if (type == 0x0806) {
        printf(", ARP");
    } else {
        printf(", ethertype 0x%04x", type);
    }

    if (proto >= 0) {
        bool ports = (proto == 6 || proto == 17) && l4 && l4 + 4 <= l3_len;
        if (ports) {
            printf(" %s.%d > %s.%d", src, l3[l4] << 8 | l3[l4 + 1],
                   dst, l3[l4 + 2] << 8 | l3[l4 + 3]);
        } else {
            printf(" %s > %s", src, dst);
        }
        printf(": %s", (proto == 6 ? "tcp" : proto == 17 ? "udp"
                        : proto == 1 ? "icmp" : proto == 58 ? "icmp6"
                        : "ip"));
        if (proto != 6 && proto != 17 && proto != 1 && proto != 58) {
            printf(" proto %d", proto);
        }
    }
    printf(", length %zu\n", orig_len);
    fflush(stdout);
}

/* Reads frames from packet socket 'fd' until a signal or 'o->count'
 * frames, writing them to 'pcap' or, without it, printing them.  Returns
 * the number of frames, or a negative errno value if a read or write
 * failed (then it has said why). */
static long long int
capture_loop(const struct ofctl_capture_options *o, int fd, FILE *pcap)
{
    static uint8_t frame[CAPTURE_MAX_FRAME];
    long long int n = 0;

    while (!capture_stop_signal && (!o->count || n < o->count)) {
        union {
            struct cmsghdr cmsg;
            char buf[CMSG_SPACE(sizeof(struct timeval))];
        } control;
        struct sockaddr_ll from;
        struct iovec iov = { .iov_base = frame, .iov_len = sizeof frame };
        struct msghdr msg = {
            .msg_name = &from,
            .msg_namelen = sizeof from,
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = &control,
            .msg_controllen = sizeof control,
        };

        ssize_t retval = recvmsg(fd, &msg, MSG_TRUNC);
        if (retval < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = -errno;
            fprintf(stderr, "%s: reading frames: %s\n",
                    ovs_get_program_name(), strerror(errno));
            return error;
        }
        if (from.sll_pkttype == PACKET_OUTGOING) {
            continue;
        }

        struct timeval tv = { 0, 0 };
        bool timed = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP
                && c->cmsg_len >= CMSG_LEN(sizeof tv)) {
                memcpy(&tv, CMSG_DATA(c), sizeof tv);
                timed = true;
            }
        }
        if (!timed) {
            gettimeofday(&tv, NULL);
        }

        size_t orig_len = retval;
        size_t len = MIN(orig_len, sizeof frame);
        if (o->snaplen) {
            len = MIN(len, (size_t) o->snaplen);
        }
        if (pcap) {
            if (!capture_pcap_record(pcap, &tv, frame, len, orig_len)) {
                int error = -errno;
                if (!capture_stop_signal) {
                    fprintf(stderr, "%s: %s: write error (%s)\n",
                            ovs_get_program_name(), o->file,
                            strerror(errno));
                }
                return error ? error : -EIO;
            }
        } else {
            capture_print_frame(&tv, frame, len, orig_len);
        }
        n++;
    }
    return n;
}

/* Runs "iovp-ofctl capture" as 'o' says.  Returns the program's exit
 * status: 0 once the capture ended as asked, 1 if something failed on
 * the way, 2 if iovpd refused the capture. */
int
ofctl_capture(const struct ofctl_capture_options *o)
{
    const char *program = ovs_get_program_name();

    /* What needs privileges comes first, before iovpd is asked.  The
     * socket has no protocol until capture_bind() gives it one with its
     * device: with ETH_P_ALL already here, it would queue every device's
     * frames until then. */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "%s: capture: cannot open a packet socket (%s)%s\n",
                program, strerror(errno),
                errno == EPERM ? "; capture needs root (CAP_NET_RAW and "
                "CAP_NET_ADMIN)" : "");
        return EXIT_FAILURE;
    }

    FILE *pcap = NULL;
    if (o->file) {
        pcap = strcmp(o->file, "-") ? fopen(o->file, "wb") : stdout;
        if (!pcap) {
            fprintf(stderr, "%s: %s: cannot create (%s)\n", program, o->file,
                    strerror(errno));
            close(fd);
            return EXIT_FAILURE;
        }
    }

    /* A signal from here on ends the session that it may start. */
    capture_catch_signals();

    char pid[32], snaplen[16];
    snprintf(pid, sizeof pid, "%ld", (long int) getpid());
    snprintf(snaplen, sizeof snaplen, "%d", o->snaplen);
    const char *start_args[] = { pid, o->port, o->match, snaplen };
    char *dev = NULL;
    int status = capture_ask(o, "capture/start",
                             IOVP_ARRAY_SIZE(start_args), start_args, &dev);
    if (status) {
        goto exit;
    }

    const char *what = NULL;
    int error = capture_setup_device(fd, dev, &what);
    if (!error) {
        error = capture_bind(fd, dev, &what);
    }
    if (error) {
        fprintf(stderr, "%s: capture: %s: %s (%s)\n", program, dev, what,
                strerror(-error));
        status = EXIT_FAILURE;
    } else if (pcap && !capture_pcap_header(pcap, o->snaplen)) {
        fprintf(stderr, "%s: %s: write error (%s)\n", program, o->file,
                strerror(errno));
        status = EXIT_FAILURE;
    } else {
        fprintf(stderr, "%s: capturing %s%s%s on %s\n", program, o->port,
                o->match[0] ? ", " : "", o->match, dev);
        long long int n = capture_loop(o, fd, pcap);
        if (n < 0) {
            status = EXIT_FAILURE;
        } else {
            fprintf(stderr, "%lld frame%s captured\n", n, n == 1 ? "" : "s");
        }
    }

    const char *stop_args[] = { dev };
    int stop_status = capture_ask(o, "capture/stop", 1, stop_args, NULL);
    status = status ? status : stop_status;

exit:
    free(dev);
    close(fd);
    if (pcap && pcap != stdout && fclose(pcap)) {
        fprintf(stderr, "%s: %s: write error (%s)\n", program, o->file,
                strerror(errno));
        status = status ? status : EXIT_FAILURE;
    }
    return status;
}
