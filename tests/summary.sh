#! /bin/sh
# summary.sh TESTSUITE-LOG
#
# Counts the results that GNU Autotest wrote into TESTSUITE-LOG (the suite's
# testsuite.log) and prints one line:
#
#     N passed, N failed[, N skipped]
#
# the last part only when some tests were skipped.  A test that passed, or
# failed as its AT_XFAIL_IF expected, counts as passed; one that FAILED or
# passed UNEXPECTEDLY counts as failed.  A suite that did not finish (no
# "Test results" section) counts one failure more.  When CI=true, a skipped
# test counts as failed, and its name and reason go to stderr first.
#
# Exits 0 only if no test failed and at least one test passed; if the log is
# missing, prints "0 passed, 1 failed" and exits 1.
#
# What Autotest writes, and where this looks for it:
#   - in the "Running the tests" section, one line per test that passed, was
#     skipped or passed unexpectedly:
#       "3. DESC (FILE:LINE): ok     (TIMES)"
#       "4. DESC (FILE:LINE): skipped (FILE:LINE[: REASON])"
#       "5. DESC (FILE:LINE): UNEXPECTED PASS     (TIMES)"
#   - a test that failed, expectedly or not, has no line there: the log of
#     each unexpected failure is copied into "Detailed failed tests", and
#     ends with
#       "6. FILE:LINE: 6. DESC (FILE:LINE): FAILED (FILE:LINE)"
#   - expected failures appear in no per-test line at all, so they are
#     counted from the totals that start the "Test results" section: "N
#     tests were run" (or "N tests were successful", "N tests behaved as
#     expected"...; "1 test was ...") counts every test not skipped.

log=$1

if test -z "$log" || test ! -f "$log"; then
    echo "summary.sh: ${log:-(no log named)}: no such file" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# The section of the per-test lines, and the one of the totals.
running=$(sed -n '/^## Running the tests\. ##$/,/^## Test results\. ##$/p' \
    "$log")
results=$(sed -n '/^## Test results\. ##$/,$p' "$log")

count () {
    printf '%s\n' "$running" | grep -c -E "$1"
}

re_desc='^[0-9]+\. .* \([^()]*:[0-9]+\): '
n_ok=$(count "${re_desc}ok( .*)?$")
n_skip=$(count "${re_desc}skipped( .*)?$")
n_xpass=$(count "${re_desc}UNEXPECTED PASS( .*)?$")

# A FAILED line repeats the test's number: "6. FILE:LINE: 6. DESC...".
n_fail=$(printf '%s\n' "$results" \
    | grep -c '^\([0-9][0-9]*\)\. [^ ]*: \1\. .*: FAILED (.*)$')

# Tests that ran (all but the skipped ones), from the totals.
n_run=$(printf '%s\n' "$results" \
    | sed -n -E \
        's/^(ERROR: )?(All )?([0-9]+) tests? (was|were|behaved) .*/\3/p' \
    | sed 1q)

unfinished=0
if test -z "$results" || test -z "$n_run"; then
    echo "summary.sh: $log: the test suite did not finish" \
         "(no test results)" >&2
    unfinished=1
    n_xfail=0
else
    n_xfail=$((n_run - n_ok - n_xpass - n_fail))
    if test "$n_xfail" -lt 0; then
        n_xfail=0
    fi
fi

passed=$((n_ok + n_xfail))
failed=$((n_fail + n_xpass + unfinished))
skipped=$n_skip

if test "$CI" = true && test "$n_skip" -gt 0; then
    printf '%s\n' "$running" | grep -E "${re_desc}skipped( .*)?$" \
        | sed 's/^/summary.sh: CI=true, so a skipped test fails: /' >&2
    failed=$((failed + n_skip))
    skipped=0
fi

if test "$skipped" -gt 0; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi

if test "$failed" -eq 0 && test "$passed" -gt 0; then
    exit 0
fi
if test "$failed" -eq 0; then
    echo "summary.sh: no test passed" >&2
fi
exit 1
