// A persistent worker pool: workers spin briefly for new work, then sleep on a futex.
//
// A job is published as a 64-bit word (generation << 32 | next task index). Workers and the caller
// claim tasks with compare-and-swap on that word, so a worker that wakes late can never run a task
// of a job that has already moved on, and the caller never waits for a worker that has not claimed
// anything: when the other core is busy, the caller simply runs the remaining tasks itself.
//
// That is not enough when a worker is preempted while it holds a task: on a core shared with another
// CPU-bound process it is descheduled for a whole time slice (milliseconds) and the caller, done with
// everything else, waits for it — for decode-sized jobs of tens of microseconds that costs more than
// the second thread ever gives. So the caller keeps account, over windows of jobs, of the time it
// spent on its own share and the time it then waited for others; when waiting exceeds a quarter of
// its work, the pool runs jobs on the caller alone for a while (10 ms, doubling on each window that
// stalls again up to a second, halving after 8 in a row that do not) with its workers asleep, so that the
// scheduler can give the caller the free core, and then tries its workers again. On a quiet machine
// the waits are a task's length at most and the pool does not go solo.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <immintrin.h>
#include "aigc_kernels.h"

#define MAX_THREADS 64
#define SPIN_ROUNDS 20000
#define WINDOW_JOBS 64
#define SOLO_FIRST_NS 10000000LL
#define SOLO_MAX_NS 1000000000LL
#define CLEAN_WINDOWS 8

struct aigc_pool {
    int threads;
    pthread_t workers[MAX_THREADS];
    _Atomic uint64_t state;       // generation << 32 | next task
    _Atomic int64_t finished;     // tasks of the current job that have finished
    _Atomic uint32_t wake;        // futex word, bumped for every job
    _Atomic int sleepers;
    _Atomic int stop;
    _Atomic int busy;             // a job is running; other callers run their tasks inline
    int64_t n_tasks;
    aigc_task_fn fn;
    void *context;
    // Contention accounting; only the caller holding `busy` touches these.
    int64_t solo_until;           // monotonic ns: jobs before this run on the caller alone
    int64_t solo_length;          // the next solo period, ns
    int64_t window_work, window_wait;
    int window_jobs;
    int64_t solo_periods;         // times the pool went solo (for tests and diagnostics)
    int clean_windows;            // windows in a row without a stall
    int adaptive;
    _Atomic int resting;          // solo: workers sleep at once instead of spinning for the next job
};

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Closes a window of jobs: go solo if the caller waited for other threads more than a quarter of the
// time it worked (and for at least a millisecond in all).
static void account(aigc_pool *pool, int64_t work, int64_t wait, int64_t now) {
    pool->window_work += work;
    pool->window_wait += wait;
    if (++pool->window_jobs < WINDOW_JOBS) return;
    if (pool->adaptive && pool->window_wait > pool->window_work / 4 && pool->window_wait > 1000000) {
        pool->solo_until = now + pool->solo_length;
        pool->solo_length = pool->solo_length * 2 > SOLO_MAX_NS ? SOLO_MAX_NS : pool->solo_length * 2;
        pool->solo_periods++;
        pool->clean_windows = 0;
        atomic_store_explicit(&pool->resting, 1, memory_order_relaxed);
    } else if (++pool->clean_windows >= CLEAN_WINDOWS && pool->solo_length > SOLO_FIRST_NS) {
        // A few clean windows are not the end of the contention (a worker that slept gets a turn on
        // the shared core at once): shorten the next solo period only after several in a row.
        pool->solo_length /= 2;
        pool->clean_windows = 0;
    }
    pool->window_work = pool->window_wait = 0;
    pool->window_jobs = 0;
}

struct worker_start { aigc_pool *pool; int index; };

static long futex(_Atomic uint32_t *addr, int op, uint32_t value) {
    return syscall(SYS_futex, (uint32_t *)addr, op, value, NULL, NULL, 0);
}

// Claims and runs tasks of generation `gen` until none are left.
static void run_tasks(aigc_pool *pool, uint32_t gen, int thread) {
    uint64_t s = atomic_load_explicit(&pool->state, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(s >> 32) != gen) return;
        const int64_t fn_tasks = pool->n_tasks;
        aigc_task_fn fn = pool->fn;
        void *context = pool->context;
        const uint32_t index = (uint32_t)s;
        if ((int64_t)index >= fn_tasks) return;
        if (atomic_compare_exchange_weak_explicit(&pool->state, &s, s + 1, memory_order_acq_rel, memory_order_acquire)) {
            fn(context, index, thread);
            atomic_fetch_add_explicit(&pool->finished, 1, memory_order_acq_rel);
            s = atomic_load_explicit(&pool->state, memory_order_acquire);
        }
    }
}

static void *worker_main(void *arg) {
    struct worker_start start = *(struct worker_start *)arg;
    free(arg);
    aigc_pool *pool = start.pool;
    uint32_t seen = (uint32_t)(atomic_load(&pool->state) >> 32);
    while (!atomic_load_explicit(&pool->stop, memory_order_acquire)) {
        uint32_t wake = atomic_load_explicit(&pool->wake, memory_order_acquire);
        uint32_t gen = (uint32_t)(atomic_load_explicit(&pool->state, memory_order_acquire) >> 32);
        int spins = 0;
        while (gen == seen && spins < SPIN_ROUNDS && !atomic_load_explicit(&pool->stop, memory_order_relaxed)
               && !atomic_load_explicit(&pool->resting, memory_order_relaxed)) {
            _mm_pause();
            spins++;
            gen = (uint32_t)(atomic_load_explicit(&pool->state, memory_order_acquire) >> 32);
        }
        if (gen == seen) {
            atomic_fetch_add(&pool->sleepers, 1);
            // Re-check after announcing ourselves: a job published in between bumped `wake`.
            if ((uint32_t)(atomic_load(&pool->state) >> 32) == seen && !atomic_load(&pool->stop))
                futex(&pool->wake, FUTEX_WAIT_PRIVATE, wake);
            atomic_fetch_sub(&pool->sleepers, 1);
            continue;
        }
        seen = gen;
        run_tasks(pool, gen, start.index);
    }
    return NULL;
}

aigc_pool *aigc_pool_create(int threads) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    aigc_pool *pool = calloc(1, sizeof(aigc_pool));
    if (!pool) return NULL;
    pool->threads = threads;
    pool->solo_length = SOLO_FIRST_NS;
    // AIGC_POOL_ADAPT=0 keeps every thread on every job (for measuring what going solo saves).
    const char *adapt = getenv("AIGC_POOL_ADAPT");
    pool->adaptive = !(adapt && !strcmp(adapt, "0"));
    for (int i = 1; i < threads; i++) {
        struct worker_start *start = malloc(sizeof *start);
        if (!start) { pool->threads = i; break; }
        start->pool = pool;
        start->index = i;
        if (pthread_create(&pool->workers[i], NULL, worker_main, start) != 0) {
            free(start);
            pool->threads = i;
            break;
        }
    }
    return pool;
}

void aigc_pool_destroy(aigc_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, 1);
    atomic_fetch_add(&pool->wake, 1);
    futex(&pool->wake, FUTEX_WAKE_PRIVATE, MAX_THREADS);
    for (int i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
    free(pool);
}

int aigc_available_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

int aigc_pool_threads(const aigc_pool *pool) { return pool ? pool->threads : 1; }

int64_t aigc_pool_solo_periods(aigc_pool *pool) {
    if (!pool) return 0;
    // Read under `busy` so that the count is not torn by a job in flight.
    int expected = 0;
    while (!atomic_compare_exchange_weak(&pool->busy, &expected, 1)) { expected = 0; sched_yield(); }
    const int64_t n = pool->solo_periods;
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
    return n;
}

void aigc_pool_run(aigc_pool *pool, int64_t n_tasks, aigc_task_fn fn, void *context) {
    if (n_tasks <= 0) return;
    int expected = 0;
    if (!pool || pool->threads == 1 || n_tasks == 1 ||
        !atomic_compare_exchange_strong(&pool->busy, &expected, 1)) {
        // Thread index 0 is safe here: callers that share a pool do not share per-thread scratch.
        for (int64_t t = 0; t < n_tasks; t++) fn(context, t, 0);
        return;
    }
    const int64_t start = now_ns();
    if (start < pool->solo_until) {
        for (int64_t t = 0; t < n_tasks; t++) fn(context, t, 0);
        atomic_store_explicit(&pool->busy, 0, memory_order_release);
        return;
    }
    atomic_store_explicit(&pool->resting, 0, memory_order_relaxed);
    // Every task of the previous job has finished (we waited for it), so nobody reads these now.
    pool->n_tasks = n_tasks;
    pool->fn = fn;
    pool->context = context;
    atomic_store_explicit(&pool->finished, 0, memory_order_relaxed);
    const uint32_t gen = (uint32_t)(atomic_load_explicit(&pool->state, memory_order_relaxed) >> 32) + 1;
    atomic_store_explicit(&pool->state, (uint64_t)gen << 32, memory_order_release);
    atomic_fetch_add(&pool->wake, 1); // sequentially consistent: pairs with the sleepers check below
    if (atomic_load(&pool->sleepers) > 0)
        futex(&pool->wake, FUTEX_WAKE_PRIVATE, MAX_THREADS);
    run_tasks(pool, gen, 0);
    const int64_t own = now_ns();
    int64_t end = own;
    if (atomic_load_explicit(&pool->finished, memory_order_acquire) < n_tasks) {
        int spins = 0;
        while (atomic_load_explicit(&pool->finished, memory_order_acquire) < n_tasks) {
            if (++spins < 2000) _mm_pause();
            else sched_yield();
        }
        end = now_ns();
    }
    account(pool, own - start, end - own, end);
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}
