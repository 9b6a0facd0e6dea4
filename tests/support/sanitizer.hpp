// Whether this test is built under a sanitizer, for GCC (__SANITIZE_*__) and clang (__has_feature).
#pragma once

// TG_UNDER_ASAN: 1 under AddressSanitizer, else 0.
#if defined(__SANITIZE_ADDRESS__)
#define TG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TG_UNDER_ASAN 1
#endif
#endif
#ifndef TG_UNDER_ASAN
#define TG_UNDER_ASAN 0
#endif

// TG_UNDER_TSAN: 1 under ThreadSanitizer, else 0.
#if defined(__SANITIZE_THREAD__)
#define TG_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TG_UNDER_TSAN 1
#endif
#endif
#ifndef TG_UNDER_TSAN
#define TG_UNDER_TSAN 0
#endif

// TG_UNDER_SANITIZER: 1 under either, whose allocators and quarantine change what memory counts
// and timings mean.
#define TG_UNDER_SANITIZER (TG_UNDER_ASAN || TG_UNDER_TSAN)
