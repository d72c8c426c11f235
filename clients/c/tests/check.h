/* Minimal test harness: CHECK records a failure with its line and goes on; tests end with DONE. */
#ifndef VPHB_CHECK_H
#define VPHB_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int check_failures, check_count;
#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); check_count++; if (_a != _b) { \
    check_failures++; fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, expected %s = %lld\n", \
    __FILE__, __LINE__, #a, _a, #b, _b); } } while (0)
#define CHECK_U64(a, b) do { unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); check_count++; \
    if (_a != _b) { check_failures++; fprintf(stderr, "%s:%d: CHECK_U64 failed: %s = 0x%llx, expected 0x%llx\n", \
    __FILE__, __LINE__, #a, _a, _b); } } while (0)
#define DONE() do { printf("%d checks, %d failed\n", check_count, check_failures); return check_failures ? 1 : 0; } while (0)
#endif
