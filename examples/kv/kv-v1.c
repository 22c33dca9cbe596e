/*
 * kv-v1.c: a key-value store, version 1: `put K V`, `get K`, `del K`, `size`.
 * Its state is variable-size, a tpl array of (key, value) strings, so it
 * gives the library save and load callbacks.
 */
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

#include "kvmap.h"

#define KV1_FORMAT	"A(S(ss))"

struct kv1_pair {
	char	*key;
	char	*val;
};

static int
kv_init(void *state)
{
	memset(state, 0, sizeof(struct kvmap));
	return 0;
}

static int
kv_step(void *state, const char *in, size_t len, struct smsup_output *out)
{
	return kvmap_step(state, in, len, out, 0);
}

static tpl_node *
kv_save(void *state)
{
	struct kvmap	*m = state;
	struct kv1_pair	 p;
	tpl_node	*tn;
	size_t		 i;

	if ((tn = tpl_map(KV1_FORMAT, &p)) == NULL)
		return NULL;
	for (i = 0; i < m->n; i++) {
		p.key = m->e[i].key;
		p.val = m->e[i].val;
		tpl_pack(tn, 1);
	}
	return tn;
}

static int
kv_load(void *state, const struct smsup_image *img)
{
	struct kvmap	*m = state;
	struct kv1_pair	 p;
	tpl_node	*tn;

	if ((tn = smsup_image_map(img, KV1_FORMAT, &p)) == NULL)
		return -1;
	while (tpl_unpack(tn, 1) > 0) {
		if (kvmap_put(m, p.key, p.val) == NULL) {
			free(p.key);
			free(p.val);
			tpl_free(tn);
			return smsup_error("out of memory");
		}
	}
	tpl_free(tn);
	return 0;
}

static void
kv_destroy(void *state)
{
	kvmap_free(state);
}

SMSUP_MACHINE(
	.name = "kv",
	.version = "1",
	.format = KV1_FORMAT,
	.fields = "(key,value)",
	.state_size = sizeof(struct kvmap),
	.init = kv_init,
	.step = kv_step,
	.save = kv_save,
	.load = kv_load,
	.destroy = kv_destroy,
);
