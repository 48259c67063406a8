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

#include "lib/loop-lag.h"

#include <string.h>

/* The loop is about to wait for I/O: the turn that ends here is done. */
static void
loop_lag_prepare_cb(uv_prepare_t *prepare)
{
    struct loop_lag *lag = prepare->data;

    loop_lag_record(lag, uv_hrtime(), uv_metrics_idle_time(prepare->loop));
}

/* Starts measuring the turns of 'loop', which must not have run yet (its
 * idle-time metric counts from then).  Returns 0 or a negative libuv
 * error. */
int
loop_lag_start(struct loop_lag *lag, uv_loop_t *loop)
{
    memset(lag, 0, sizeof *lag);

    int error = uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
    if (error) {
        return error;
    }
    uv_prepare_init(loop, &lag->prepare);
    lag->prepare.data = lag;
    uv_prepare_start(&lag->prepare, loop_lag_prepare_cb);
    /* It measures the loop; it is no reason for the loop to run. */
    uv_unref((uv_handle_t *) &lag->prepare);
    lag->last_ns = uv_hrtime();
    lag->last_idle_ns = uv_metrics_idle_time(loop);
    lag->started = true;
    return 0;
}

/* Records the turn that ends at 'now_ns' (uv_hrtime()), when the loop's
 * idle time is 'idle_ns' (uv_metrics_idle_time()). */
void
loop_lag_record(struct loop_lag *lag, uint64_t now_ns, uint64_t idle_ns)
{
    uint64_t elapsed = now_ns - lag->last_ns;
    uint64_t idle = idle_ns - lag->last_idle_ns;
    uint64_t busy = elapsed > idle ? elapsed - idle : 0;

    lag->last_ns = now_ns;
    lag->last_idle_ns = idle_ns;
    lag->n_turns++;
    if (busy > lag->longest_ns) {
        lag->longest_ns = busy;
    }
    if (busy > (uint64_t) LOOP_LAG_LONG_MS * 1000 * 1000) {
        lag->n_long++;
    }
}

/* Stops measuring, if it started; the loop closes the handle. */
void
loop_lag_close(struct loop_lag *lag)
{
    if (lag->started) {
        lag->started = false;
        uv_close((uv_handle_t *) &lag->prepare, NULL);
    }
}

/* Returns a new reference to what 'lag' measured:
 *
 *   {"loop_turns": N, "loop_longest_ms": X,
 *    "loop_turns_over_100ms": N} */
json_t *
loop_lag_status(const struct loop_lag *lag)
{
    return json_pack("{s:I, s:f, s:I}",
                     "loop_turns", (json_int_t) lag->n_turns,
                     "loop_longest_ms", lag->longest_ns / 1e6,
                     "loop_turns_over_100ms", (json_int_t) lag->n_long);
}
