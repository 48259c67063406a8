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
nodist_offload_liboffload_a_SOURCES = offload/xdp-prog.c \
	offload/xdp-errors.c
offload_liboffload_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(BPF_CFLAGS) \
	$(OVS_CFLAGS)

# The eBPF programs, compiled for the BPF target (Debian's clang needs the
# multiarch include directory for <asm/types.h>) and built into iovpd as
# byte arrays: the ports' fast path (xdp-prog) and the counters of loss
# (xdp-errors).  -g makes the BTF that libbpf needs (the maps, the tp_btf
# programs); the file prefix maps keep the source and build directories out
# of it, and llvm-strip -g then drops the DWARF, which libbpf never reads,
# with the compiler's version string in it (tests/offload.at checks that no
# directory of this machine is left in the objects).  The objects depend on
# this file too, so that a tree built before a change of these flags gets
# them.
EXTRA_DIST += offload/xdp-prog.bpf.c offload/xdp-errors.bpf.c
CLEANFILES += offload/xdp-prog.bpf.o offload/xdp-prog.bpf.o.tmp \
	offload/xdp-prog.c offload/xdp-errors.bpf.o \
	offload/xdp-errors.bpf.o.tmp offload/xdp-errors.c
BPF_TARGET_CFLAGS = -O2 -g -target bpf -Wall $(BPF_INCLUDES) -I$(top_srcdir) \
	-ffile-prefix-map=$(abs_top_srcdir)=. \
	-ffile-prefix-map=$(abs_top_builddir)=.
BPF_COMPILE = $(CLANG) $(BPF_TARGET_CFLAGS) -c $< -o $@.tmp \
	&& $(LLVM_STRIP) -g $@.tmp && mv $@.tmp $@
# Writes the object $< as the C array named $$name into $@.
BPF_EMBED = { \
	  echo '/* Generated from $<; do not edit. */'; \
	  echo '\#include <config.h>'; \
	  echo '\#include "offload/xdp.h"'; \
	  echo "const unsigned char $$name[] = {"; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo "const size_t $${name}_size = sizeof $$name;"; \
	} > $@.tmp && mv $@.tmp $@
offload/xdp-prog.bpf.o: $(srcdir)/offload/xdp-prog.bpf.c \
		offload/fastpath-key.h $(srcdir)/offload/automake.mk
	$(AM_V_GEN)$(BPF_COMPILE)
offload/xdp-errors.bpf.o: $(srcdir)/offload/xdp-errors.bpf.c \
		offload/fastpath-key.h $(srcdir)/offload/automake.mk
	$(AM_V_GEN)$(BPF_COMPILE)
offload/xdp-prog.c: offload/xdp-prog.bpf.o
	$(AM_V_GEN)name=offload_xdp_prog; $(BPF_EMBED)
offload/xdp-errors.c: offload/xdp-errors.bpf.o
	$(AM_V_GEN)name=offload_xdp_errors; $(BPF_EMBED)
