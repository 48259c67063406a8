# bench/: benchmarks.  They print figures and ratios against a peer measured
# in the same run, and never fail on a timing; the test suite runs each at
# its --smoke size so that none rots.

noinst_PROGRAMS += bench/ovsdb-load
bench_ovsdb_load_SOURCES = bench/ovsdb-load.c
bench_ovsdb_load_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	$(OVS_CFLAGS)
bench_ovsdb_load_LDADD = ovsdb/libovsdb.a lib/libiovp.a $(JANSSON_LIBS) \
	$(UV_LIBS) $(OPENSSL_LIBS) $(OVS_LIBS)
noinst_PROGRAMS += bench/offload-placement
bench_offload_placement_SOURCES = bench/offload-placement.c \
	tests/classbench.c tests/classbench.h
bench_offload_placement_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(UV_CFLAGS) $(OVS_CFLAGS)
bench_offload_placement_LDADD = agent/libagent.a northbound/libnorthbound.a model/libmodel.a offload/liboffload.a \
	ofp/libofp.a ovsdb/libovsdb.a lib/libiovp.a $(JANSSON_LIBS) \
	$(UV_LIBS) $(OPENSSL_LIBS) $(BPF_LIBS) $(OVS_LIBS) -lm

noinst_PROGRAMS += bench/offload-cost
bench_offload_cost_SOURCES = bench/offload-cost.c
bench_offload_cost_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(BPF_CFLAGS) \
	$(OVS_CFLAGS)
bench_offload_cost_LDADD = offload/liboffload.a lib/libiovp.a \
	$(JANSSON_LIBS) $(BPF_LIBS) $(OVS_LIBS)

# iovpd with AddressSanitizer and LeakSanitizer, for bench/soak.py: its
# sources compiled into it, as the fuzz targets' are, so that the ordinary
# build stays as it is.
IOVPD_ASAN_SRC = $(agent_iovpd_SOURCES) $(agent_libagent_a_SOURCES) \
	$(northbound_libnorthbound_a_SOURCES) \
	$(offload_liboffload_a_SOURCES) $(ofp_libofp_a_SOURCES) \
	$(ovsdb_libovsdb_a_SOURCES) $(lib_libiovp_a_SOURCES)
SOAK_TARGETS = bench/iovpd-asan
bench/iovpd-asan: $(IOVPD_ASAN_SRC) offload/xdp-prog.c \
		offload/xdp-errors.c config.h \
		$(nodist_model_libmodel_a_SOURCES)
	$(AM_V_CCLD)$(CC) -g -O1 -fsanitize=address -fno-omit-frame-pointer \
	    $(AM_CPPFLAGS) -I$(top_builddir) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	    $(OPENSSL_CFLAGS) $(BPF_CFLAGS) $(CAPNG_CFLAGS) $(OVS_CFLAGS) -o $@ \
	    `for f in $(IOVPD_ASAN_SRC); do \
	         case $$f in *.c) echo $(srcdir)/$$f;; esac; done` \
	    offload/xdp-prog.c offload/xdp-errors.c model/vtep-idl.c \
	    model/vswitch-idl.c \
	    $(JANSSON_LIBS) $(UV_LIBS) $(OPENSSL_LIBS) $(BPF_LIBS) \
	    $(CAPNG_LIBS) $(OVS_LIBS)
CLEANFILES += bench/iovpd-asan

EXTRA_DIST += bench/ovsdb-initial-monitor.py bench/acl-scale.py \
	bench/overlay.py bench/openflow-nb.py \
	bench/fragments.py bench/qos.py bench/lb.py \
	bench/ovsdb_rpc.py bench/sandbox.py bench/offload-cost.py \
	bench/soak.py bench/fleet.py
