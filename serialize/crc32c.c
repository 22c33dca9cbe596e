/*
 * crc32c.c: CRC-32C of the records in the state directory. The SSE4.2
 * instruction when the CPU has it (about 20 GB/s), else a table.
 */
#include <string.h>

#include "crc32c.h"

static uint32_t	crc32c_table[256];

static void
crc32c_init_table(void)
{
	uint32_t	 c;
	int		 i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[i] = c;
	}
}

static uint32_t
crc32c_soft(uint32_t crc, const uint8_t *p, size_t n)
{
	if (crc32c_table[1] == 0)
		crc32c_init_table();
	while (n-- > 0)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t
crc32c_hard(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t	 c = crc, w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	while (n-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

/* Continue crc (0 to start) over n bytes. */
uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	crc = ~crc;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_hard(crc, p, n);
#endif
	return ~crc32c_soft(crc, p, n);
}
