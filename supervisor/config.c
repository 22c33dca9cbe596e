/*
 * config.c: smsup.conf(5), the supervisor's configuration file. A pure
 * parser (conf_parse: text in, machines and settings out, or the first
 * error as FILE:LINE: why) and its file loader. The words are those of the
 * `smsup run` options:
 *
 *	# comment
 *	socket /run/smsup/control.sock
 *	state-dir /var/lib/smsup
 *	durability batch		# a default for the machines below
 *	machine counter {
 *		path /usr/libexec/smsup/counter-v1
 *		restart transient
 *	}
 *
 * or, for a node of a cluster (whose machines are the cluster's):
 *
 *	cluster {
 *		node 1=10.0.0.1:7001
 *		peer 2=10.0.0.2:7001
 *	}
 *
 * A setting outside a block is a default for every machine after it.
 * Relative paths are relative to the file's directory. Words may be quoted
 * with "..." (no escapes).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsup.h"

#define CONF_WORDS	4	/* at most: key, value, "{" and one spare */
#define CONF_SIZE_MAX	(1u << 20)

struct conf_parser {
	const char	*file;
	const char	*dir;		/* for relative paths */
	int		 line;
	char		*err;
	size_t		 errlen;
};

static int
conf_fail(struct conf_parser *p, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	return -1;
}

/* Split one line into words; a '#' outside quotes starts a comment. */
static int
conf_words(struct conf_parser *p, char *s, char **w)
{
	int	 n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == CONF_WORDS)
			return conf_fail(p, "too many words");
		if (*s == '"') {
			w[n++] = ++s;
			if ((s = strchr(s, '"')) == NULL)
				return conf_fail(p, "unterminated quote");
			*s++ = '\0';
			if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '#')
				return conf_fail(p, "text after a quote");
			continue;
		}
		w[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '#' && *s != '"')
			s++;
		if (*s == '"')
			return conf_fail(p, "quote inside a word");
		if (*s == '#') {
			*s = '\0';
			return n;
		}
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
conf_path(struct conf_parser *p, const char *in, char *out, size_t len)
{
	int	 n;

	if (in[0] == '\0')
		return conf_fail(p, "empty path");
	if (in[0] == '/')
		n = snprintf(out, len, "%s", in);
	else
		n = snprintf(out, len, "%s/%s", p->dir, in);
	if (n < 0 || (size_t)n >= len)
		return conf_fail(p, "path too long");
	return 0;
}

static int	conf_cluster_setting(struct conf_parser *, struct conf *,
		    char **, int);

/* A machine setting: the long option of `smsup run` of that name. */
static int
conf_setting(struct conf_parser *p, char **w, int n, struct machine_opts *o,
    uint32_t *set)
{
	const struct option	*opt;
	char			 err[256];

	for (opt = opts_long; opt->name != NULL; opt++)
		if (strcmp(opt->name, w[0]) == 0 && opt->val != 0 &&
		    strchr(OPTS_MACHINE, opt->val) != NULL)
			break;
	if (opt->name == NULL)
		return conf_fail(p, "unknown setting '%s'", w[0]);
	if (opt->has_arg == no_argument) {
		if (n != 1)
			return conf_fail(p, "%s takes no value", w[0]);
	} else if (n != 2)
		return conf_fail(p, "%s takes one value", w[0]);
	if (opts_parse(opt->val, n == 2 ? w[1] : NULL, o, set, err,
	    sizeof err) == -1)
		return conf_fail(p, "%s", err);
	return 0;
}

static struct conf_machine *
conf_add(struct conf_parser *p, struct conf *c, const char *name,
    const struct machine_opts *o, uint32_t set)
{
	struct conf_machine	*m;
	int			 i;

	if (!image_name_valid(name)) {
		conf_fail(p, "invalid machine name '%s'", name);
		return NULL;
	}
	for (i = 0; i < c->n; i++)
		if (strcmp(c->m[i].name, name) == 0) {
			conf_fail(p, "machine %s already defined at line %d",
			    name, c->m[i].line);
			return NULL;
		}
	if (c->n == CONF_MACHINES_MAX) {
		conf_fail(p, "more than %d machines", CONF_MACHINES_MAX);
		return NULL;
	}
	if ((m = realloc(c->m, ((size_t)c->n + 1) * sizeof *m)) == NULL) {
		conf_fail(p, "out of memory");
		return NULL;
	}
	c->m = m;
	m = &c->m[c->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	m->opts = *o;
	m->set = set;
	m->line = p->line;
	return m;
}

/* Parse text (len bytes, from file in directory dir) into c. */
int
conf_parse(const char *text, size_t len, const char *file, const char *dir,
    struct conf *c, char *err, size_t errlen)
{
	struct conf_parser	 p = { file, dir, 0, err, errlen };
	struct conf_machine	*cur = NULL;
	struct machine_opts	 defaults;
	uint32_t		 dset = 0;
	const char		*s = text, *end = text + len, *nl;
	char			 line[4096], *w[CONF_WORDS], cerr[256];
	int			 n, incluster = 0;

	memset(c, 0, sizeof *c);
	opts_default(&defaults);
	while (s < end) {
		p.line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if ((size_t)(nl - s) >= sizeof line)
			goto fail_long;
		memcpy(line, s, (size_t)(nl - s));
		line[nl - s] = '\0';
		if (strlen(line) != (size_t)(nl - s)) {
			conf_fail(&p, "NUL byte in the line");
			goto fail;
		}
		s = nl + 1;
		if ((n = conf_words(&p, line, w)) == -1)
			goto fail;
		if (n == 0)
			continue;
		if (incluster && strcmp(w[0], "}") != 0) {
			if (conf_cluster_setting(&p, c, w, n) == -1)
				goto fail;
		} else if (strcmp(w[0], "}") == 0 && incluster) {
			if (n != 1) {
				conf_fail(&p, "unexpected '}'");
				goto fail;
			}
			incluster = 0;
		} else if (strcmp(w[0], "cluster") == 0) {
			if (cur != NULL) {
				conf_fail(&p, "cluster inside machine %s",
				    cur->name);
				goto fail;
			}
			if (n != 2 || strcmp(w[1], "{") != 0 || c->cluster) {
				conf_fail(&p, "%s", c->cluster ? "a second "
				    "cluster block" : "usage: cluster {");
				goto fail;
			}
			c->cluster = incluster = 1;
			c->cluster_line = p.line;
		} else if (strcmp(w[0], "}") == 0) {
			if (n != 1 || cur == NULL) {
				conf_fail(&p, "unexpected '}'");
				goto fail;
			}
			if (cur->path[0] == '\0') {
				conf_fail(&p, "machine %s has no path",
				    cur->name);
				goto fail;
			}
			cur = NULL;
		} else if (strcmp(w[0], "machine") == 0) {
			if (cur != NULL) {
				conf_fail(&p, "machine inside machine %s",
				    cur->name);
				goto fail;
			}
			if (n != 3 || strcmp(w[2], "{") != 0) {
				conf_fail(&p, "usage: machine NAME {");
				goto fail;
			}
			if ((cur = conf_add(&p, c, w[1], &defaults, dset)) ==
			    NULL)
				goto fail;
		} else if (strcmp(w[0], "path") == 0) {
			if (cur == NULL || n != 2) {
				conf_fail(&p, cur == NULL ? "path outside a "
				    "machine block" : "path takes one value");
				goto fail;
			}
			if (conf_path(&p, w[1], cur->path, sizeof cur->path) ==
			    -1)
				goto fail;
		} else if (strcmp(w[0], "socket") == 0 ||
		    strcmp(w[0], "state-dir") == 0) {
			if (cur != NULL || n != 2) {
				conf_fail(&p, cur != NULL ? "%s inside a "
				    "machine block" : "%s takes one value",
				    w[0]);
				goto fail;
			}
			if (conf_path(&p, w[1], w[0][1] == 'o' ? c->socket :
			    c->state_dir, sizeof c->socket) == -1)
				goto fail;
		} else if (cur != NULL) {
			if (conf_setting(&p, w, n, &cur->opts, &cur->set) == -1)
				goto fail;
		} else if (conf_setting(&p, w, n, &defaults, &dset) == -1)
			goto fail;
	}
	if (cur != NULL) {
		conf_fail(&p, "machine %s: missing '}'", cur->name);
		goto fail;
	}
	if (incluster) {
		conf_fail(&p, "cluster: missing '}'");
		goto fail;
	}
	/* The block's settings together, as `run` takes them. */
	if (c->cluster && cluster_opts_check_conf(c->cl, c->ncl, 1, cerr,
	    sizeof cerr) != -1) {
		p.line = c->cluster_line;
		conf_fail(&p, "cluster: %s", cerr);
		goto fail;
	}
	/* A node's machines are the cluster's, run on its leader. */
	if (c->cluster && c->n > 0) {
		p.line = c->m[0].line;
		conf_fail(&p, "machine %s: the machines of a cluster are run on "
		    "its leader (smsup run NAME=PATH), not in the file of a "
		    "node", c->m[0].name);
		goto fail;
	}
	return 0;
fail_long:
	conf_fail(&p, "line too long");
fail:
	conf_free(c);
	return -1;
}

/* A line of the cluster block: a `run` cluster option and its value. */
static int
conf_cluster_setting(struct conf_parser *p, struct conf *c, char **w, int n)
{
	static const struct {
		const char	*name;
		int		 code;
		int		 value;
	} known[] = {
		{ "node", OPT_CODE_NODE, 1 },
		{ "peer", OPT_CODE_PEER, 1 },
		{ "join", OPT_CODE_JOIN, 0 },
		{ "election-timeout", OPT_CODE_ELECTION, 1 },
		{ "log-snapshot", OPT_CODE_LOG_SNAPSHOT, 1 },
	};
	struct conf_cluster	*cl;
	size_t			 i;
	char			 err[256];

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(w[0], known[i].name) == 0)
			break;
	if (i == sizeof known / sizeof known[0])
		return conf_fail(p, "unknown cluster setting '%s'", w[0]);
	if (n != 1 + known[i].value)
		return conf_fail(p, known[i].value ? "%s takes one value" :
		    "%s takes no value", w[0]);
	if (c->ncl == CONF_CLUSTER_MAX)
		return conf_fail(p, "too many cluster settings");
	cl = &c->cl[c->ncl++];
	cl->code = known[i].code;
	cl->line = p->line;
	if (known[i].value && strlen(w[1]) >= sizeof cl->value)
		return conf_fail(p, "%s: value too long", w[0]);
	snprintf(cl->value, sizeof cl->value, "%s", known[i].value ? w[1] : "");
	/* Checked as `run` checks them, line by line. */
	if (cluster_opts_check_conf(c->cl, c->ncl, 0, err, sizeof err) != -1)
		return conf_fail(p, "%s", err);
	return 0;
}

/* Read and parse file; the machines' binaries are not looked at here. */
int
conf_load(const char *file, struct conf *c, char *err, size_t errlen)
{
	struct stat	 st;
	char		 abs[PATH_MAX], dir[PATH_MAX], *text, *slash;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, rc;

	memset(c, 0, sizeof *c);
	if (paths_absolute(file, abs, sizeof abs) == -1) {
		snprintf(err, errlen, "%s: path too long", file);
		return -1;
	}
	snprintf(dir, sizeof dir, "%s", abs);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	/* Checked as binaries are: it says which binaries run. */
	if ((fd = paths_open_config(abs, err, errlen)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_SIZE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most 1 MiB",
		    file);
		close(fd);
		return -1;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	rc = conf_parse(text, got, file, dir, c, err, errlen);
	free(text);
	return rc;
}

/* Every machine's binary is there and executable. */
int
conf_check_binaries(const struct conf *c, const char *file, char *err,
    size_t errlen)
{
	char	 why[512];
	int	 i;

	for (i = 0; i < c->n; i++)
		if (paths_check_binary(c->m[i].path, why, sizeof why) == -1) {
			snprintf(err, errlen, "%s:%d: machine %s: %s", file,
			    c->m[i].line, c->m[i].name, why);
			return -1;
		}
	return 0;
}

void
conf_free(struct conf *c)
{
	free(c->m);
	c->m = NULL;
	c->n = 0;
	c->ncl = 0;
	c->cluster = 0;
}
