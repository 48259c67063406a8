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

/* "test-iovp loop-lag": a real libuv loop whose turns are known.  One timer
 * works 150 ms without returning to the loop; the loop then waits 1 s for
 * the next timer, which works 20 ms.  Prints what lib/loop-lag measured:
 * the longest turn is the 150 ms one (the second's wait is not work), and
 * it alone is over 100 ms, unless the machine held the 20 ms turn up for
 * 80 ms more. */

#include <config.h>

#include "tests/test-iovp.h"

#include <stdio.h>
#include <stdlib.h>

#include <openvswitch/util.h>

#include "lib/loop-lag.h"

/* Keeps the CPU busy for 'ms' milliseconds, as a long computation does. */
static void
work(uint64_t ms)
{
    uint64_t end = uv_hrtime() + ms * 1000 * 1000;

    while (uv_hrtime() < end) {
        continue;
    }
}

static void
second_cb(uv_timer_t *timer)
{
    work(20);
    uv_close((uv_handle_t *) timer, NULL);
}

static void
first_cb(uv_timer_t *timer)
{
    work(150);
    uv_timer_start(timer, second_cb, 1000, 0);
}

int
test_loop_lag_main(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct loop_lag lag;
    uv_timer_t timer;
    uv_loop_t loop;

    uv_loop_init(&loop);
    int error = loop_lag_start(&lag, &loop);
    if (error) {
        fprintf(stderr, "loop_lag_start: %s\n", uv_strerror(error));
        return EXIT_FAILURE;
    }
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, first_cb, 10, 0);
    uv_run(&loop, UV_RUN_DEFAULT);

    json_t *status = loop_lag_status(&lag);
    double longest = json_real_value(json_object_get(status,
                                                     "loop_longest_ms"));
    json_int_t n_long = json_integer_value(
        json_object_get(status, "loop_turns_over_100ms"));
    printf("longest turn at least 150 ms: %s\n",
           longest >= 150 ? "yes" : "no");
    printf("the 1 s wait counted as work: %s\n",
           longest >= 1000 ? "yes" : "no");
    printf("turns over 100 ms: %s\n", n_long >= 1 ? "at least 1" : "none");
    json_decref(status);

    loop_lag_close(&lag);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) ? EXIT_FAILURE : EXIT_SUCCESS;
}
