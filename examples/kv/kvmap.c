/* kvmap.c: the kv store: a sorted string map (binary search) and its inputs. */
#include <stdlib.h>
#include <string.h>

#include <smsup/worker.h>

#include "kvmap.h"

static size_t
kvmap_lower(const struct kvmap *m, const char *key)
{
	size_t	 lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(m->e[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct kv_entry *
kvmap_find(struct kvmap *m, const char *key)
{
	size_t	 i = kvmap_lower(m, key);

	if (i < m->n && strcmp(m->e[i].key, key) == 0)
		return &m->e[i];
	return NULL;
}

/* Insert or replace; takes ownership of key and val. NULL if out of memory. */
struct kv_entry *
kvmap_put(struct kvmap *m, char *key, char *val)
{
	struct kv_entry	*e;
	size_t		 i = kvmap_lower(m, key);

	if (i < m->n && strcmp(m->e[i].key, key) == 0) {
		free(key);
		free(m->e[i].val);
		m->e[i].val = val;
		return &m->e[i];
	}
	if (m->n == m->cap) {
		size_t	 ncap = m->cap ? m->cap * 2 : 16;

		if ((e = realloc(m->e, ncap * sizeof *e)) == NULL)
			return NULL;
		m->e = e;
		m->cap = ncap;
	}
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof *m->e);
	m->n++;
	m->e[i].key = key;
	m->e[i].val = val;
	m->e[i].writes = 0;
	return &m->e[i];
}

int
kvmap_del(struct kvmap *m, const char *key)
{
	struct kv_entry	*e;
	size_t		 i;

	if ((e = kvmap_find(m, key)) == NULL)
		return -1;
	i = (size_t)(e - m->e);
	free(e->key);
	free(e->val);
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof *m->e);
	m->n--;
	return 0;
}

void
kvmap_free(struct kvmap *m)
{
	size_t	 i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].key);
		free(m->e[i].val);
	}
	free(m->e);
	memset(m, 0, sizeof *m);
}

/*
 * Split "VERB KEY [VALUE...]" in place: the value is the rest of the line
 * after one space. Returns the number of parts found (1 to 3).
 */
static int
kvmap_parse(char *in, char **verb, char **key, char **val)
{
	char	*sp;

	*verb = in;
	*key = *val = NULL;
	if ((sp = strchr(in, ' ')) == NULL)
		return 1;
	*sp = '\0';
	*key = sp + 1;
	if ((sp = strchr(*key, ' ')) == NULL)
		return **key != '\0' ? 2 : 1;
	*sp = '\0';
	*val = sp + 1;
	return **key != '\0' ? 3 : 1;
}

/*
 * Apply one input: put KEY VALUE, get KEY, del KEY, size, and with
 * `writes` (v2) the write count of each key and `writes KEY`.
 */
int
kvmap_step(struct kvmap *m, const char *input, size_t len,
    struct smsup_output *out, int writes)
{
	struct kv_entry	*e;
	char		*in, *verb, *key, *val, *k, *v;
	int		 parts, rc;

	if ((in = strndup(input, len)) == NULL)
		return smsup_error("out of memory");
	parts = kvmap_parse(in, &verb, &key, &val);
	if (strcmp(verb, "put") == 0 && parts == 3) {
		k = strdup(key);
		v = strdup(val);
		if (k == NULL || v == NULL || (e = kvmap_put(m, k, v)) == NULL) {
			free(k);
			free(v);
			rc = smsup_error("out of memory");
		} else {
			e->writes++;
			rc = smsup_reply(out, "ok");
		}
	} else if ((strcmp(verb, "get") == 0 ||
	    (writes && strcmp(verb, "writes") == 0)) && parts == 2) {
		if ((e = kvmap_find(m, key)) == NULL)
			rc = smsup_error("no such key: %s", key);
		else if (verb[0] == 'g')
			rc = smsup_reply(out, "%s", e->val);
		else
			rc = smsup_reply(out, "%u", (unsigned)e->writes);
	} else if (strcmp(verb, "del") == 0 && parts == 2) {
		if (kvmap_del(m, key) == -1)
			rc = smsup_error("no such key: %s", key);
		else
			rc = smsup_reply(out, "ok");
	} else if (strcmp(verb, "size") == 0 && parts == 1)
		rc = smsup_reply(out, "%zu", m->n);
	else
		rc = smsup_error("usage: put KEY VALUE | get KEY | del KEY | "
		    "%ssize", writes ? "writes KEY | " : "");
	free(in);
	return rc;
}
