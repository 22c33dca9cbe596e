/* image.c: libFuzzer harness for the state image header decoder. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image	 img;

	if (image_decode(data, size, &img) == IMAGE_OK) {
		/* What it promises: valid fields, a tpl part inside the input. */
		if (!image_name_valid(img.name) ||
		    !image_version_valid(img.version) ||
		    !image_format_valid(img.format) ||
		    img.tpl < data || img.tpl + img.tpl_len != data + size ||
		    img.tpl_len < 3 || memcmp(img.tpl, "tpl", 3) != 0)
			__builtin_trap();
	}
	(void)image_strerror(image_decode(data, size / 2, &img));
	return 0;
}
