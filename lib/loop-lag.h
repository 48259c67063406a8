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

#ifndef IOVP_LOOP_LAG_H
#define IOVP_LOOP_LAG_H 1

/* How long each turn of a libuv loop works before it waits for I/O again:
 * the longest a control connection, a probe or a timer can be kept
 * waiting.
 *
 * A turn is measured from one wait for I/O to the next, less the time the
 * loop spent waiting in between (libuv's idle-time metric, which
 * loop_lag_start() turns on), so that a loop that slept most of a second
 * and then worked 2 ms counts 2 ms. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* Turns longer than this are counted apart: the longest a step of iovpd's
 * loop should take. */
#define LOOP_LAG_LONG_MS 100

struct loop_lag {
    uv_prepare_t prepare;
    bool started;               /* loop_lag_start() succeeded. */
    uint64_t last_ns;           /* uv_hrtime() at the last turn's end. */
    uint64_t last_idle_ns;      /* uv_metrics_idle_time() then. */
    unsigned long long int n_turns;
    unsigned long long int n_long;  /* Of more than LOOP_LAG_LONG_MS. */
    uint64_t longest_ns;
};

int loop_lag_start(struct loop_lag *, uv_loop_t *);
void loop_lag_record(struct loop_lag *, uint64_t now_ns, uint64_t idle_ns);
void loop_lag_close(struct loop_lag *);
json_t *loop_lag_status(const struct loop_lag *);

#endif /* lib/loop-lag.h */
