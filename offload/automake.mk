# offload/: the fast path a NIC runs for each VM port, the backends that run
# it, and the planner that chooses what goes into it.

noinst_LIBRARIES += offload/liboffload.a
offload_liboffload_a_SOURCES = \
	offload/backend.c \
	offload/backend.h \
	offload/fastpath.c \
	offload/fastpath.h \
	offload/nicctrl.c \
	offload/nicctrl.h \
	offload/planner.c \
	offload/planner.h \
	offload/sim.c \
	offload/sim.h \
	offload/fastpath-key.h \
	offload/xdp.c \
	offload/xdp.h
nodist_offload_liboffload_a_SOURCES = offload/xdp-prog.c
offload_liboffload_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(BPF_CFLAGS) \
	$(OVS_CFLAGS)

# The eBPF program, compiled for the BPF target (Debian's clang needs the
# multiarch include directory for <asm/types.h>) and built into iovpd as a
# byte array.  -g makes the BTF that libbpf needs (the maps, the tp_btf
# programs); the file prefix maps keep the source and build directories out
# of it, and llvm-strip -g then drops the DWARF, which libbpf never reads,
# with the compiler's version string in it (tests/offload.at checks that no
# directory of this machine is left in the object).  The object depends on
# this file too, so that a tree built before a change of these flags gets
# them.
EXTRA_DIST += offload/xdp-prog.bpf.c
CLEANFILES += offload/xdp-prog.bpf.o offload/xdp-prog.bpf.o.tmp \
	offload/xdp-prog.c
BPF_TARGET_CFLAGS = -O2 -g -target bpf -Wall $(BPF_INCLUDES) -I$(top_srcdir) \
	-ffile-prefix-map=$(abs_top_srcdir)=. \
	-ffile-prefix-map=$(abs_top_builddir)=.
offload/xdp-prog.bpf.o: offload/xdp-prog.bpf.c offload/fastpath-key.h \
		$(srcdir)/offload/automake.mk
	$(AM_V_GEN)$(CLANG) $(BPF_TARGET_CFLAGS) \
	  -c $(srcdir)/offload/xdp-prog.bpf.c -o $@.tmp \
	  && $(LLVM_STRIP) -g $@.tmp && mv $@.tmp $@
offload/xdp-prog.c: offload/xdp-prog.bpf.o
	$(AM_V_GEN){ \
	  echo '/* Generated from offload/xdp-prog.bpf.o; do not edit. */'; \
	  echo '#include <config.h>'; \
	  echo '#include "offload/xdp.h"'; \
	  echo 'const unsigned char offload_xdp_prog[] = {'; \
	  od -An -v -tx1 offload/xdp-prog.bpf.o \
	    | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t offload_xdp_prog_size = sizeof offload_xdp_prog;'; \
	} > $@.tmp && mv $@.tmp $@
