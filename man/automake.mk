# man/: manual pages.

man_MANS += man/iovpd.8 man/iovp-ofctl.8
EXTRA_DIST += man/iovpd.8 man/iovp-ofctl.8
