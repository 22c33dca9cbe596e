/*
 * tpljson.c: libFuzzer harness for the tpl image to JSON decoder. The
 * first byte picks field names (none, or a list in the shape of common
 * formats); the rest is the image. Whatever it renders must be JSON that
 * the renderer itself would accept: balanced, no raw control characters.
 */
#include <stddef.h>
#include <stdint.h>

#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct buf *b)
{
	const uint8_t	*p = buf_head(b);
	size_t		 i, n = buf_used(b);
	int		 depth = 0, str = 0;

	for (i = 0; i < n; i++) {
		if (str) {
			if (p[i] < 0x20)
				__builtin_trap();
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				str = 0;
			continue;
		}
		if (p[i] == '"')
			str = 1;
		else if (p[i] == '{' || p[i] == '[')
			depth++;
		else if (p[i] == '}' || p[i] == ']')
			depth--;
		if (depth < 0)
			__builtin_trap();
	}
	if (str || depth != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*fields[] = {
		NULL, "n", "old,n,resets", "(key,value)", "a,b(c,d),e",
		"x(y(z(w)))", ",,", "(,(,))",
	};
	struct buf		 out = { 0 };
	char			 err[128];

	if (size < 1)
		return 0;
	if (tpljson_render(data + 1, size - 1, fields[data[0] % 8], &out,
	    err, sizeof err) == 0)
		check(&out);
	else if (buf_used(&out) != 0)
		__builtin_trap();	/* a failure leaves the output alone */
	buf_free(&out);
	return 0;
}
