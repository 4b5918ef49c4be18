/*
 * A minimal unit-test harness for code built on the host. Each test file
 * defines TEST(name) functions; test_main.c runs them all and prints one
 * line per failure and a closing "<binary>: N passed, N failed".
 */
#ifndef TESTS_HOST_TEST_H
#define TESTS_HOST_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void test_register(const char *name, void (*fn)(void));
void test_fail(const char *file, int line, const char *what);

#define TEST(name)                                                        \
	static void name(void);                                           \
	__attribute__((constructor)) static void register_##name(void)    \
	{                                                                 \
		test_register(#name, name);                               \
	}                                                                 \
	static void name(void)

/* Fails the current test and returns from it. */
#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			test_fail(__FILE__, __LINE__, #cond);             \
			return;                                           \
		}                                                         \
	} while (0)

/* Integer equality, printing both values on failure. */
#define CHECK_EQ(a, b)                                                    \
	do {                                                              \
		unsigned long long va_ = (unsigned long long)(a);         \
		unsigned long long vb_ = (unsigned long long)(b);         \
		if (va_ != vb_) {                                         \
			char m_[256];                                     \
			snprintf(m_, sizeof(m_), "%s == %s (0x%llx != 0x%llx)", \
				 #a, #b, va_, vb_);                       \
			test_fail(__FILE__, __LINE__, m_);                \
			return;                                           \
		}                                                         \
	} while (0)

#define CHECK_STREQ(a, b)                                                 \
	do {                                                              \
		const char *sa_ = (a), *sb_ = (b);                        \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {              \
			char m_[512];                                     \
			snprintf(m_, sizeof(m_), "%s == %s (\"%s\" != \"%s\")", \
				 #a, #b, sa_ ? sa_ : "(null)",            \
				 sb_ ? sb_ : "(null)");                   \
			test_fail(__FILE__, __LINE__, m_);                \
			return;                                           \
		}                                                         \
	} while (0)

#endif
