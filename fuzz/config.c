/* config.c: libFuzzer harness for the smsup.conf(5) parser (conf_parse). */
#include <stddef.h>
#include <stdint.h>

#include "smsup.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c;
	char		 err[1024];
	int		 i;

	if (conf_parse((const char *)data, size, "fuzz.conf", "/etc", &c, err,
	    sizeof err) == 0) {
		for (i = 0; i < c.n; i++)
			if (!image_name_valid(c.m[i].name) ||
			    c.m[i].path[0] != '/')
				__builtin_trap();
		conf_free(&c);
	}
	return 0;
}
