/*
 * kv-v2.c: the key-value store, version 2. The state layout changes: each
 * key also counts its writes (`writes K`). Migrating from "1" gives every
 * existing key one write. Same inputs as v1, plus `writes K`.
 */
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

#include "kvmap.h"

#define KV1_FORMAT	"A(S(ss))"
#define KV2_FORMAT	"A(S(ssu))"

struct kv1_pair {
	char	*key;
	char	*val;
};

struct kv2_triple {
	char		*key;
	char		*val;
	uint32_t	 writes;
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
	return kvmap_step(state, in, len, out, 1);
}

static tpl_node *
kv_save(void *state)
{
	struct kvmap		*m = state;
	struct kv2_triple	 t;
	tpl_node		*tn;
	size_t			 i;

	if ((tn = tpl_map(KV2_FORMAT, &t)) == NULL)
		return NULL;
	for (i = 0; i < m->n; i++) {
		t.key = m->e[i].key;
		t.val = m->e[i].val;
		t.writes = m->e[i].writes;
		tpl_pack(tn, 1);
	}
	return tn;
}

/* Unpack pairs or triples into the map; writes is 1 for v1's pairs. */
static int
kv_fill(struct kvmap *m, tpl_node *tn, char **key, char **val,
    const uint32_t *writes)
{
	struct kv_entry	*e;

	while (tpl_unpack(tn, 1) > 0) {
		if ((e = kvmap_put(m, *key, *val)) == NULL) {
			free(*key);
			free(*val);
			tpl_free(tn);
			return smsup_error("out of memory");
		}
		e->writes = writes != NULL ? *writes : 1;
	}
	tpl_free(tn);
	return 0;
}

static int
kv_load(void *state, const struct smsup_image *img)
{
	struct kv2_triple	 t;
	tpl_node		*tn;

	if ((tn = smsup_image_map(img, KV2_FORMAT, &t)) == NULL)
		return -1;
	return kv_fill(state, tn, &t.key, &t.val, &t.writes);
}

static int
kv_migrate(void *state, const struct smsup_image *old)
{
	struct kv1_pair	 p;
	tpl_node	*tn;

	if ((tn = smsup_image_map(old, KV1_FORMAT, &p)) == NULL)
		return -1;
	return kv_fill(state, tn, &p.key, &p.val, NULL);
}

static void
kv_destroy(void *state)
{
	kvmap_free(state);
}

SMSUP_MACHINE(
	.name = "kv",
	.version = "2",
	.format = KV2_FORMAT,
	.fields = "(key,value,version)",
	.state_size = sizeof(struct kvmap),
	.migrates_from = SMSUP_VERSIONS("1"),
	.init = kv_init,
	.step = kv_step,
	.migrate = kv_migrate,
	.save = kv_save,
	.load = kv_load,
	.destroy = kv_destroy,
);
