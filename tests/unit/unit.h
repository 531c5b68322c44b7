/* Minimal unit-test harness: CHECK() records a failure and goes on;
 * UNIT_MAIN() runs the listed tests and exits non-zero on any failure. */
#ifndef DOMUS_UNIT_H
#define DOMUS_UNIT_H
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int unit_failed, unit_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		unit_checks++;                                                 \
		if (!(cond)) {                                                 \
			unit_failed++;                                         \
			fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n",       \
				__FILE__, __LINE__, __func__, #cond);          \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long unit_a = (long long)(a), unit_b = (long long)(b);    \
		unit_checks++;                                                 \
		if (unit_a != unit_b) {                                        \
			unit_failed++;                                         \
			fprintf(stderr, "%s:%d: %s: %s == %s: %lld != %lld\n", \
				__FILE__, __LINE__, __func__, #a, #b, unit_a,  \
				unit_b);                                       \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *unit_sa = (a), *unit_sb = (b);                     \
		unit_checks++;                                                 \
		if (!unit_sa || !unit_sb || strcmp(unit_sa, unit_sb)) {        \
			unit_failed++;                                         \
			fprintf(stderr, "%s:%d: %s: %s: \"%s\" != \"%s\"\n",   \
				__FILE__, __LINE__, __func__, #a,              \
				unit_sa ? unit_sa : "(null)",                  \
				unit_sb ? unit_sb : "(null)");                 \
		}                                                              \
	} while (0)

#define UNIT_MAIN(...)                                                         \
	int main(void)                                                         \
	{                                                                      \
		void (*tests[])(void) = { __VA_ARGS__ };                       \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)  \
			tests[i]();                                            \
		printf("%s: %d checks, %d failed\n", __FILE__, unit_checks,    \
		       unit_failed);                                           \
		return unit_failed ? 1 : 0;                                    \
	}

#endif
