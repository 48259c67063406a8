# The test suite: GNU Autotest, as Open vSwitch runs its own.

TESTSUITE_AT = \
	tests/testsuite.at \
	tests/iovp-macros.at \
	tests/harness.at \
	tests/jsonrpc.at \
	tests/reconnect.at \
	tests/ofconn.at \
	tests/ovsdb-session.at \
	tests/ovsdb-client.at \
	tests/ovsdb-cluster.at \
	tests/ovsdb-datum.at \
	tests/offload.at \
	tests/privilege.at \
	tests/package.at \
	tests/link.at \
	tests/schema.at \
	tests/switch.at \
	tests/ofp.at \
	tests/pipeline.at \
	tests/overlay.at \
	tests/openflow.at \
	tests/qos.at \
	tests/lb.at \
	tests/capture.at \
	tests/steer.at \
	tests/acl.at \
	tests/engine.at \
	tests/idl.at \
	tests/fragments.at \
	tests/control.at \
	tests/iovpd.at \
	tests/tls.at \
	tests/fuzz.at \
	tests/bench.at

EXTRA_DIST += $(TESTSUITE_AT) tests/testsuite tests/package.m4 \
	tests/atlocal.in tests/summary.sh tests/uds-send.py tests/ofp-raw.py \
	tests/ovsdb-compare.py tests/ovsdb-proxy.py \
	tests/schema-superset.py tests/raw-frame.py tests/frag.py \
	tests/acl-classbench.py tests/offload-counters.py \
	tests/acl-property.py tests/engine-property.py tests/unixrpc.py \
	tests/qos-iperf.py tests/qos-db.py \
	tests/lb-probe.py tests/lb-db.py tests/vtepdb.py \
	tests/capture-db.py tests/steer-db.py
TESTSUITE = $(srcdir)/tests/testsuite
AUTOTEST = $(AUTOM4TE) -l autotest
DISTCLEANFILES += tests/atconfig tests/atlocal

$(srcdir)/tests/package.m4: $(top_srcdir)/configure.ac
	$(AM_V_GEN){ \
	  echo '# Signature of the current package.'; \
	  echo 'm4_define([AT_PACKAGE_NAME],      [$(PACKAGE_NAME)])'; \
	  echo 'm4_define([AT_PACKAGE_TARNAME],   [$(PACKAGE_TARNAME)])'; \
	  echo 'm4_define([AT_PACKAGE_VERSION],   [$(PACKAGE_VERSION)])'; \
	  echo 'm4_define([AT_PACKAGE_STRING],    [$(PACKAGE_STRING)])'; \
	  echo 'm4_define([AT_PACKAGE_BUGREPORT], [$(PACKAGE_BUGREPORT)])'; \
	} >'$@.tmp' && mv '$@.tmp' '$@'

$(TESTSUITE): $(srcdir)/tests/package.m4 $(TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -I '$(srcdir)' -I '$(srcdir)/tests' \
	    -o '$@.tmp' '$@.at' && mv '$@.tmp' '$@'

# Runs the whole suite, then prints "N passed, N failed[, N skipped]",
# counted from Autotest's own results, and fails when any test failed (or,
# with CI=true, was skipped).
check-local: tests/atconfig tests/atlocal $(TESTSUITE) $(check_PROGRAMS) \
		$(bin_PROGRAMS) $(sbin_PROGRAMS) $(FUZZ_TARGETS) $(SOAK_TARGETS) \
		tests/xdp-prog-variant.bpf.o
	$(SHELL) '$(TESTSUITE)' -C tests \
	    AUTOTEST_PATH='$(abs_top_builddir)/agent:$(abs_top_builddir)/utilities:$(abs_top_builddir)/tests:$(abs_top_builddir)/bench' \
	    $(TESTSUITEFLAGS); \
	$(SHELL) '$(srcdir)/tests/summary.sh' tests/testsuite.log

# The fast path built with another tag, as an older iovpd's program would
# have (tests/offload.at).
tests/xdp-prog-variant.bpf.o: offload/xdp-prog.bpf.c offload/fastpath-key.h
	$(AM_V_GEN)$(CLANG) $(BPF_TARGET_CFLAGS) -DIOVP_TEST_VARIANT \
	  -c $(srcdir)/offload/xdp-prog.bpf.c -o $@
CLEANFILES += tests/xdp-prog-variant.bpf.o

clean-local:
	test ! -f '$(TESTSUITE)' || $(SHELL) '$(TESTSUITE)' -C tests --clean

check_PROGRAMS = tests/test-iovp
tests_test_iovp_SOURCES = \
	tests/classbench.c \
	tests/classbench.h \
	tests/test-byte-stream.c \
	tests/test-control.c \
	tests/test-desired.c \
	tests/test-engine.c \
	tests/test-idl.c \
	tests/test-iovp.c \
	tests/test-iovp.h \
	tests/test-json.c \
	tests/test-jsonrpc.c \
	tests/test-link.c \
	tests/test-loop-lag.c \
	tests/test-oflow.c \
	tests/test-offload.c \
	tests/test-ofconn.c \
	tests/test-nb-seeds.c \
	tests/test-ofp-seeds.c \
	tests/test-ovsdb-datum.c \
	tests/test-ovsdb-client.c \
	tests/test-ovsdb-session.c \
	tests/test-reconnect.c
nodist_tests_test_iovp_SOURCES = \
	tests/idltest-idl.c \
	tests/idltest-idl.h
BUILT_SOURCES += $(nodist_tests_test_iovp_SOURCES)
CLEANFILES += $(nodist_tests_test_iovp_SOURCES)
EXTRA_DIST += tests/idltest.idl
IDLTEST_DEPS = $(srcdir)/build-aux/idlgen.py $(srcdir)/tests/idltest.idl \
	$(srcdir)/schemas/iovp.ovsschema
tests/idltest-idl.h: $(IDLTEST_DEPS)
	$(AM_V_GEN)$(MKDIR_P) tests && $(IDLGEN) --prefix=idltest --header \
	    $(srcdir)/schemas/iovp.ovsschema $(srcdir)/tests/idltest.idl \
	    > $@.tmp && mv $@.tmp $@
tests/idltest-idl.c: $(IDLTEST_DEPS)
	$(AM_V_GEN)$(MKDIR_P) tests && $(IDLGEN) --prefix=idltest --source \
	    $(srcdir)/schemas/iovp.ovsschema $(srcdir)/tests/idltest.idl \
	    > $@.tmp && mv $@.tmp $@
tests_test_iovp_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(UV_CFLAGS) \
	$(OVS_CFLAGS)
tests_test_iovp_LDADD = agent/libagent.a northbound/libnorthbound.a model/libmodel.a offload/liboffload.a ofp/libofp.a ovsdb/libovsdb.a lib/libiovp.a $(JANSSON_LIBS) $(UV_LIBS) $(OPENSSL_LIBS) $(BPF_LIBS) $(CAPNG_LIBS) $(OVS_LIBS)

# The libFuzzer targets (tests/fuzz.at), built with clang when configure
# found it.  Their sources are compiled into them, instrumented.
FUZZ_OVSDB_SRC = \
	tests/fuzz-ovsdb.c \
	lib/json-decode.c \
	lib/json-encode.c \
	lib/jsonrpc.c \
	lib/util.c \
	ovsdb/datum.c \
	ovsdb/replica.c \
	ovsdb/schema.c \
	ovsdb/session.c
FUZZ_OFP_SRC = \
	tests/fuzz-ofp.c \
	lib/util.c \
	ofp/desired.c \
	ofp/ofconn.c \
	ofp/ofctrl.c \
	ofp/oflow.c
FUZZ_NORTHBOUND_SRC = \
	tests/fuzz-northbound.c \
	lib/util.c \
	northbound/switch.c \
	northbound/xlate.c \
	ofp/ofconn.c \
	ofp/oflow.c
FUZZ_CONTROL_SRC = \
	tests/fuzz-control.c \
	lib/byte-stream.c \
	lib/control-vlog.c \
	lib/control.c \
	lib/json-decode.c \
	lib/json-encode.c \
	lib/jsonrpc-stream.c \
	lib/jsonrpc.c \
	lib/util.c
FUZZ_FASTPATH_SRC = \
	tests/fuzz-fastpath.c \
	lib/util.c \
	offload/fastpath.c
EXTRA_DIST += tests/fuzz-ovsdb.c tests/fuzz-ofp.c tests/fuzz-fastpath.c \
	tests/fuzz-northbound.c \
	tests/fuzz-control.c \
	tests/fuzz-corpus
if HAVE_CLANG
FUZZ_TARGETS = tests/fuzz-ovsdb tests/fuzz-ofp tests/fuzz-fastpath \
	tests/fuzz-control tests/fuzz-northbound
FUZZ_CC = $(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I$(top_builddir) -I$(top_srcdir) \
	$(JANSSON_CFLAGS) $(OVS_CFLAGS)
tests/fuzz-ovsdb: $(FUZZ_OVSDB_SRC:%=$(srcdir)/%) config.h
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_OVSDB_SRC:%=$(srcdir)/%) \
	    $(JANSSON_LIBS) $(OVS_LIBS)
tests/fuzz-ofp: $(FUZZ_OFP_SRC:%=$(srcdir)/%) config.h
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_OFP_SRC:%=$(srcdir)/%) \
	    $(JANSSON_LIBS) $(OVS_LIBS)
tests/fuzz-northbound: $(FUZZ_NORTHBOUND_SRC:%=$(srcdir)/%) config.h
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_NORTHBOUND_SRC:%=$(srcdir)/%) \
	    $(JANSSON_LIBS) $(OVS_LIBS)
tests/fuzz-fastpath: $(FUZZ_FASTPATH_SRC:%=$(srcdir)/%) config.h
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_FASTPATH_SRC:%=$(srcdir)/%) \
	    $(JANSSON_LIBS) $(OVS_LIBS)
tests/fuzz-control: $(FUZZ_CONTROL_SRC:%=$(srcdir)/%) config.h
	$(AM_V_CCLD)$(FUZZ_CC) $(UV_CFLAGS) -o $@ \
	    $(FUZZ_CONTROL_SRC:%=$(srcdir)/%) $(JANSSON_LIBS) $(UV_LIBS) \
	    $(OVS_LIBS)
CLEANFILES += tests/fuzz-ovsdb tests/fuzz-ofp tests/fuzz-fastpath \
	tests/fuzz-control tests/fuzz-northbound
endif
