# utilities/: command line tools.

bin_PROGRAMS += utilities/iovp-ofctl
utilities_iovp_ofctl_SOURCES = \
	utilities/iovp-ofctl.c \
	utilities/ofctl-capture.c \
	utilities/ofctl-capture.h
utilities_iovp_ofctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OVS_CFLAGS)
utilities_iovp_ofctl_LDADD = lib/libiovp.a $(JANSSON_LIBS) $(OVS_LIBS)

# iovpd as a systemd service, and its options in /etc/default/iovpd.
systemdsystemunit_DATA = utilities/iovpd.service
EXTRA_DIST += utilities/iovpd.service.in utilities/iovpd.default
CLEANFILES += utilities/iovpd.service
utilities/iovpd.service: utilities/iovpd.service.in Makefile
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/utilities/iovpd.service.in > $@.tmp && mv $@.tmp $@

install-data-local: install-default
install-default:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/default'
	$(INSTALL_DATA) $(srcdir)/utilities/iovpd.default \
	    '$(DESTDIR)$(sysconfdir)/default/iovpd'
uninstall-local: uninstall-default
uninstall-default:
	rm -f '$(DESTDIR)$(sysconfdir)/default/iovpd'
.PHONY: install-default uninstall-default
