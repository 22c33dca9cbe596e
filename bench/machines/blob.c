/*
 * blob.c: a benchmark machine whose state is one binary blob (tpl `B`), to
 * measure upgrades by state size. `size N` makes the state N bytes (a
 * pattern), `sum` answers a checksum of it (a byte every 4 KiB, cheap to
 * ask under load). For the tests that move large states: `fill N SEED`
 * makes it N pseudo-random bytes, `hash` answers a hash of every byte.
 * Built as blob-v1 and blob-v2 (-DBLOB_VERSION), each migrating from the
 * other.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

#define STR2(x)		#x
#define STR(x)		STR2(x)

struct blob {
	uint8_t		*data;
	uint32_t	 size;
};

static int
blob_init(void *state)
{
	memset(state, 0, sizeof(struct blob));
	return 0;
}

static int
blob_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	struct blob	*b = state;
	unsigned long	 n;
	uint64_t	 sum = 0;
	uint8_t		*p;
	uint32_t	 i;

	if (len > 5 && strncmp(in, "size ", 5) == 0) {
		n = strtoul(in + 5, NULL, 10);
		if (n > UINT32_MAX - 4096)
			return smsup_error("at most 4 GiB");
		if ((p = realloc(b->data, n ? n : 1)) == NULL)
			return smsup_error("out of memory");
		for (i = b->size; i < n; i++)
			p[i] = (uint8_t)(i * 131);
		b->data = p;
		b->size = (uint32_t)n;
		return smsup_reply(out, "ok");
	}
	if (len > 5 && strncmp(in, "fill ", 5) == 0) {
		char		*end;
		uint64_t	 x, seed;

		n = strtoul(in + 5, &end, 10);
		seed = strtoull(end, NULL, 10);
		if (n > UINT32_MAX - 4096)
			return smsup_error("at most 4 GiB");
		if ((p = realloc(b->data, n ? n : 1)) == NULL)
			return smsup_error("out of memory");
		for (i = 0; i < n; i++) {
			/* splitmix64, a byte at a time */
			seed += 0x9e3779b97f4a7c15ull;
			x = seed;
			x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
			x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
			p[i] = (uint8_t)(x ^ (x >> 31));
		}
		b->data = p;
		b->size = (uint32_t)n;
		return smsup_reply(out, "ok");
	}
	if (smsup_input_is(in, len, "hash")) {
		uint64_t	 h = 0xcbf29ce484222325ull;

		for (i = 0; i < b->size; i++)
			h = (h ^ b->data[i]) * 0x100000001b3ull;
		return smsup_reply(out, "%" PRIu32 ":%016" PRIx64, b->size, h);
	}
	/* An input that touches nothing: a call's own cost. */
	if (smsup_input_is(in, len, "nop"))
		return smsup_reply(out, "ok");
	if (smsup_input_is(in, len, "sum")) {
		for (i = 0; i < b->size; i += 4096)
			sum = sum * 31 + b->data[i];
		return smsup_reply(out, "%" PRIu32 ":%" PRIu64, b->size, sum);
	}
	return smsup_error("usage: size N | sum | fill N SEED | hash | nop");
}

static tpl_node *
blob_save(void *state)
{
	struct blob	*b = state;
	tpl_bin		 tb = { b->data, b->size };
	tpl_node	*tn;

	if ((tn = tpl_map("B", &tb)) != NULL)
		tpl_pack(tn, 0);
	return tn;
}

static int
blob_load(void *state, const struct smsup_image *img)
{
	struct blob	*b = state;
	tpl_bin		 tb;
	tpl_node	*tn;

	if ((tn = smsup_image_map(img, "B", &tb)) == NULL)
		return -1;
	if (tpl_unpack(tn, 0) < 0) {
		tpl_free(tn);
		return smsup_error("cannot unpack the blob");
	}
	tpl_free(tn);
	b->data = tb.addr;
	b->size = tb.sz;
	return 0;
}

static void
blob_destroy(void *state)
{
	free(((struct blob *)state)->data);
}

SMSUP_MACHINE(
	.name = "blob",
	.version = STR(BLOB_VERSION),
	.format = "B",
	.state_size = sizeof(struct blob),
#if BLOB_VERSION == 1
	.migrates_from = SMSUP_VERSIONS("2"),
#else
	.migrates_from = SMSUP_VERSIONS("1"),
#endif
	.init = blob_init,
	.step = blob_step,
	.migrate = blob_load,
	.save = blob_save,
	.load = blob_load,
	.destroy = blob_destroy,
);
