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
bench_offload_placement_LDADD = agent/libagent.a offload/liboffload.a \
	ofp/libofp.a ovsdb/libovsdb.a lib/libiovp.a $(JANSSON_LIBS) \
	$(UV_LIBS) $(OPENSSL_LIBS) $(BPF_LIBS) $(OVS_LIBS) -lm

noinst_PROGRAMS += bench/offload-cost
bench_offload_cost_SOURCES = bench/offload-cost.c
bench_offload_cost_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(BPF_CFLAGS) \
	$(OVS_CFLAGS)
bench_offload_cost_LDADD = offload/liboffload.a lib/libiovp.a \
	$(JANSSON_LIBS) $(BPF_LIBS) $(OVS_LIBS)

EXTRA_DIST += bench/ovsdb-initial-monitor.py bench/acl-scale.py \
	bench/ovsdb_rpc.py bench/sandbox.py bench/offload-cost.py
