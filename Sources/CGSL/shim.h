// C shim over GSL and Random123 for Swift.
//
// Swift 6 refuses GSL's global generator-type variables (`gsl_rng_taus2`, ...)
// as shared mutable state, so each is reached through a small accessor.
// Random123's Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as
// easy as 1, 2, 3", SC'11) is exposed twice: as a pure function of
// (counter, key) for the hot path, and as a GSL generator type whose state is
// an addressable (counter, key) pair, so that GSL's distributions
// (`gsl_ran_*`) draw from the same addressed streams.
//
// After editing this file, clean the build: SwiftPM does not notice.
#ifndef GIRFEC_CGSL_SHIM_H
#define GIRFEC_CGSL_SHIM_H

#include <stdint.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_statistics_double.h>
#include <Random123/philox.h>
#include <Random123/threefry.h>

// MARK: - GSL generator types (accessors, since the globals are mutable C state)

/// Tausworthe generator of L'Ecuyer (1996), GSL's fastest good generator.
static inline const gsl_rng_type *girfec_rng_taus2(void) { return gsl_rng_taus2; }
/// Mersenne Twister MT19937 (Matsumoto & Nishimura 1998).
static inline const gsl_rng_type *girfec_rng_mt19937(void) { return gsl_rng_mt19937; }
/// RANLUX double precision, luxury level 1 (Lüscher 1994).
static inline const gsl_rng_type *girfec_rng_ranlxd1(void) { return gsl_rng_ranlxd1; }

// MARK: - Philox4x32-10, the pure function

/// Four 32-bit words: one Philox block.
typedef struct { uint32_t v[4]; } girfec_block4x32;

/// Philox4x32 with 10 rounds of the block at counter (c0, c1, c2, c3) under key (k0, k1).
static inline girfec_block4x32 girfec_philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                                 uint32_t k0, uint32_t k1) {
    philox4x32_ctr_t ctr = {{c0, c1, c2, c3}};
    philox4x32_key_t key = {{k0, k1}};
    philox4x32_ctr_t r = philox4x32(ctr, key);
    girfec_block4x32 out;
    memcpy(out.v, r.v, sizeof out.v);
    return out;
}

/// Threefry4x32 with 20 rounds; measured as the alternative, not used by the engine.
static inline girfec_block4x32 girfec_threefry4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                                   uint32_t k0, uint32_t k1) {
    threefry4x32_ctr_t ctr = {{c0, c1, c2, c3}};
    threefry4x32_key_t key = {{k0, k1, 0, 0}};
    threefry4x32_ctr_t r = threefry4x32(ctr, key);
    girfec_block4x32 out;
    memcpy(out.v, r.v, sizeof out.v);
    return out;
}

// MARK: - Philox4x32-10 as a GSL generator with an addressable state

/// State of the GSL Philox generator: the next block's counter, the key, and
/// the current block with the number of its words not yet returned.
typedef struct {
    uint32_t counter[4];
    uint32_t key[2];
    uint32_t block[4];
    int used;   /* words of `block` already returned; 4 means "compute the next block" */
} girfec_philox_state;

static inline unsigned long girfec_philox_get(void *vstate) {
    girfec_philox_state *s = (girfec_philox_state *)vstate;
    if (s->used == 4) {
        girfec_block4x32 b = girfec_philox4x32(s->counter[0], s->counter[1], s->counter[2], s->counter[3],
                                               s->key[0], s->key[1]);
        memcpy(s->block, b.v, sizeof s->block);
        s->counter[0] += 1; /* position within the stream; the other words are its address */
        s->used = 0;
    }
    return (unsigned long)s->block[s->used++];
}

static inline double girfec_philox_get_double(void *vstate) {
    return (double)girfec_philox_get(vstate) / 4294967296.0;
}

/// GSL's `set` takes one integer seed; the engine addresses streams with
/// `girfec_philox_address` instead. A plain seed becomes the key, counter 0.
static inline void girfec_philox_set(void *vstate, unsigned long seed) {
    girfec_philox_state *s = (girfec_philox_state *)vstate;
    memset(s, 0, sizeof *s);
    s->key[0] = (uint32_t)(seed & 0xffffffffUL);
    s->key[1] = (uint32_t)((uint64_t)seed >> 32);
    s->used = 4;
}

static const gsl_rng_type girfec_philox_type = {
    "philox4x32-10",
    0xffffffffUL,
    0,
    sizeof(girfec_philox_state),
    &girfec_philox_set,
    &girfec_philox_get,
    &girfec_philox_get_double
};

/// The GSL generator type for addressed Philox4x32-10 streams.
static inline const gsl_rng_type *girfec_rng_philox(void) { return &girfec_philox_type; }

/// Point a Philox GSL generator at block `position` of the stream with
/// address (a1, a2, a3) under key (k0, k1). The next draw is word 0 of that block.
static inline void girfec_philox_address(gsl_rng *r, uint32_t position, uint32_t a1, uint32_t a2, uint32_t a3,
                                         uint32_t k0, uint32_t k1) {
    girfec_philox_state *s = (girfec_philox_state *)r->state;
    s->counter[0] = position; s->counter[1] = a1; s->counter[2] = a2; s->counter[3] = a3;
    s->key[0] = k0; s->key[1] = k1;
    s->used = 4;
}

/// The counter word 0 (block position) of a Philox GSL generator, for tests.
static inline uint32_t girfec_philox_position(const gsl_rng *r) {
    return ((const girfec_philox_state *)r->state)->counter[0];
}

// MARK: - Renaming output folders

#include <errno.h>
#include <stdio.h>
#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/// Exchange the two paths `a` and `b` (both must exist) in one step: Linux
/// renameat2(2) with RENAME_EXCHANGE, reached through syscall(2), which Swift
/// cannot call because it is variadic. Returns 0, or -1 with errno set
/// (ENOSYS or EINVAL where the system or the filesystem cannot exchange).
static inline int girfec_exchange_paths(const char *a, const char *b) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2u /* RENAME_EXCHANGE */);
#else
    (void)a; (void)b;
    errno = ENOSYS;
    return -1;
#endif
}

// MARK: - Cache hints

/// Ask for the cache line holding `p` ahead of a write to it. Only a hint: it never faults, whatever
/// the address, and changes no result.
static inline void girfec_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }

// MARK: - Philox4x32-10 for eight streams at once (AVX2, chosen at run time)

/// 1 when this processor and its operating system run AVX2 instructions (CPUID leaf 7 EBX bit 5,
/// with OSXSAVE and the YMM state enabled in XCR0); 0 otherwise, and on every other architecture.
static inline int girfec_has_avx2(void) {
#if defined(__x86_64__) && defined(__clang__)
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    if (a < 7) return 0;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return 0; /* XMM and YMM state saved by the OS */
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    return (b & (1u << 5)) ? 1 : 0;
#else
    return 0;
#endif
}

#if defined(__x86_64__) && defined(__clang__)
typedef uint32_t girfec_u32x8 __attribute__((vector_size(32)));
typedef uint64_t girfec_u64x4 __attribute__((vector_size(32)));

/// Philox4x32-10 (Random123's `philox4x32`, Salmon et al. 2011) of eight counters
/// (position, index[i], replication, purpose) under one key (k0, k1): out[w * 8 + i] is word w of
/// block i. The eight blocks are lanes of 256-bit vectors, each round's sixteen 32 x 32 -> 64-bit
/// products in four vector multiplications. Call only when `girfec_has_avx2()`.
__attribute__((target("avx2")))
static inline void girfec_philox4x32_x8_avx2(uint32_t position, const uint32_t *index, uint32_t replication,
                                             uint32_t purpose, uint32_t k0, uint32_t k1, uint32_t *out) {
    girfec_u32x8 c0 = {position, position, position, position, position, position, position, position};
    girfec_u32x8 c1;
    memcpy(&c1, index, sizeof c1);
    girfec_u32x8 c2 = {replication, replication, replication, replication, replication, replication, replication, replication};
    girfec_u32x8 c3 = {purpose, purpose, purpose, purpose, purpose, purpose, purpose, purpose};
    girfec_u32x8 key0 = {k0, k0, k0, k0, k0, k0, k0, k0}, key1 = {k1, k1, k1, k1, k1, k1, k1, k1};
    const girfec_u64x4 low = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    const girfec_u64x4 m0 = {0xD2511F53u, 0xD2511F53u, 0xD2511F53u, 0xD2511F53u};
    const girfec_u64x4 m1 = {0xCD9E8D57u, 0xCD9E8D57u, 0xCD9E8D57u, 0xCD9E8D57u};
    for (int r = 0; r < 10; r++) {
        if (r > 0) { key0 += 0x9E3779B9u; key1 += 0xBB67AE85u; }
        girfec_u64x4 a = (girfec_u64x4)c0, b = (girfec_u64x4)c2;
        /* products of the even lanes (low halves) and of the odd lanes (high halves) */
        girfec_u32x8 ae = (girfec_u32x8)((a & low) * m0), ao = (girfec_u32x8)((a >> 32) * m0);
        girfec_u32x8 be = (girfec_u32x8)((b & low) * m1), bo = (girfec_u32x8)((b >> 32) * m1);
        girfec_u32x8 lo0 = __builtin_shufflevector(ae, ao, 0, 8, 2, 10, 4, 12, 6, 14);
        girfec_u32x8 hi0 = __builtin_shufflevector(ae, ao, 1, 9, 3, 11, 5, 13, 7, 15);
        girfec_u32x8 lo1 = __builtin_shufflevector(be, bo, 0, 8, 2, 10, 4, 12, 6, 14);
        girfec_u32x8 hi1 = __builtin_shufflevector(be, bo, 1, 9, 3, 11, 5, 13, 7, 15);
        girfec_u32x8 n0 = hi1 ^ c1 ^ key0, n2 = hi0 ^ c3 ^ key1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }
    memcpy(out, &c0, 32); memcpy(out + 8, &c1, 32); memcpy(out + 16, &c2, 32); memcpy(out + 24, &c3, 32);
}
#else
static inline void girfec_philox4x32_x8_avx2(uint32_t position, const uint32_t *index, uint32_t replication,
                                             uint32_t purpose, uint32_t k0, uint32_t k1, uint32_t *out) {
    (void)position; (void)index; (void)replication; (void)purpose; (void)k0; (void)k1; (void)out;
}
#endif

#endif
