/*
 * ser-tpljson.c: unit tests of the tpl image to JSON decoder, against
 * images written by tpl itself, and against every truncation and many
 * random mutations of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <tpl.h>

#include "json.h"

static char	 json[65536];

/* Render the image of tn (its arrays packed), or NULL with the error in json. */
static const char *
render(tpl_node *tn, const char *fields)
{
	void		*img;
	size_t		 len;
	struct buf	 out = { 0 };
	char		 err[256];
	const char	*rc = json;

	tpl_pack(tn, 0);	/* index 0: what is not in an A(...) */
	cr_assert_eq(tpl_dump(tn, TPL_MEM, &img, &len), 0);
	tpl_free(tn);
	if (tpljson_render(img, len, fields, &out, err, sizeof err) == -1) {
		snprintf(json, sizeof json, "error: %s", err);
		rc = NULL;
	} else
		snprintf(json, sizeof json, "%.*s", (int)buf_used(&out),
		    (const char *)buf_head(&out));
	free(img);
	buf_free(&out);
	return rc;
}

Test(tpljson, counter_struct_numbered_and_named)
{
	struct { int32_t n; } c = { 5 };
	struct { int32_t old, n; } c2 = { 2, 3 };

	cr_assert_str_eq(render(tpl_map("S(i)", &c), NULL), "{\"0\":5}");
	cr_assert_str_eq(render(tpl_map("S(i)", &c), "n"), "{\"n\":5}");
	cr_assert_str_eq(render(tpl_map("S(ii)", &c2), "old,n"),
	    "{\"old\":2,\"n\":3}");
	/* Fewer names than fields: the rest are numbered. */
	cr_assert_str_eq(render(tpl_map("S(ii)", &c2), "old"),
	    "{\"old\":2,\"1\":3}");
}

Test(tpljson, numbers_at_every_width)
{
	struct {
		char c; int16_t j; uint16_t v; int32_t i; uint32_t u;
		int64_t I; uint64_t U; double f;
	} s = { 'A', -32768, 65535, INT32_MIN, UINT32_MAX, INT64_MIN,
	    UINT64_MAX, 0.5 };

	cr_assert_str_eq(render(tpl_map("S(cjviuIUf)", &s), NULL),
	    "{\"0\":65,\"1\":-32768,\"2\":65535,\"3\":-2147483648,"
	    "\"4\":4294967295,\"5\":-9223372036854775808,"
	    "\"6\":18446744073709551615,\"7\":0.5}");
}

Test(tpljson, strings_escaped_and_null)
{
	char	*s = "a\"b\\c\n\x01\xff\xc3\xa9";
	char	*null = NULL;
	tpl_node *tn;

	tn = tpl_map("ss", &s, &null);
	tpl_pack(tn, 0);
	cr_assert_str_eq(render(tn, "text,none"),
	    "{\"text\":\"a\\\"b\\\\c\\n\\u0001\\u00ff\xc3\xa9\",\"none\":null}");
}

Test(tpljson, fixed_arrays_and_char_buffers)
{
	struct { char name[8]; int32_t v[3]; } s = { "bob", { 1, 2, 3 } };
	struct { int32_t a; char b[4]; } two[2] = { { 1, "xy" }, { 2, "z" } };

	cr_assert_str_eq(render(tpl_map("S(c#i#)", &s, 8, 3), "name,v"),
	    "{\"name\":\"bob\",\"v\":[1,2,3]}");
	cr_assert_str_eq(render(tpl_map("S(ic#)#", two, 4, 2), "a,b"),
	    "[{\"a\":1,\"b\":\"xy\"},{\"a\":2,\"b\":\"z\"}]");
}

Test(tpljson, variable_arrays_of_structs)
{
	struct { char *k, *v; } kv;
	tpl_node *tn;

	tn = tpl_map("A(S(ss))", &kv);
	kv.k = "a"; kv.v = "1"; tpl_pack(tn, 1);
	kv.k = "b"; kv.v = "2"; tpl_pack(tn, 1);
	cr_assert_str_eq(render(tn, NULL),
	    "[{\"0\":\"a\",\"1\":\"1\"},{\"0\":\"b\",\"1\":\"2\"}]");

	tn = tpl_map("A(S(ss))", &kv);
	kv.k = "a"; kv.v = "1"; tpl_pack(tn, 1);
	cr_assert_str_eq(render(tn, "(key,value)"),
	    "[{\"key\":\"a\",\"value\":\"1\"}]");

	tn = tpl_map("A(S(ss))", &kv);
	cr_assert_str_eq(render(tn, "entries(key,value)"),
	    "{\"entries\":[]}");
}

Test(tpljson, several_items_nested_arrays_binary)
{
	int32_t		 n = 7, x, y;
	tpl_bin		 bin = { "\x00\xab", 2 };
	tpl_node	*tn;

	tn = tpl_map("iA(iA(i))B", &n, &x, &y, &bin);
	tpl_pack(tn, 0);
	x = 1; y = 10; tpl_pack(tn, 2); y = 11; tpl_pack(tn, 2);
	tpl_pack(tn, 1);
	x = 2; tpl_pack(tn, 1);
	cr_assert_str_eq(render(tn, "n,rows(id,cells),blob"),
	    "{\"n\":7,\"rows\":[{\"id\":1,\"cells\":[10,11]},"
	    "{\"id\":2,\"cells\":[]}],\"blob\":\"00ab\"}");
}

Test(tpljson, nested_structs)
{
	struct { int32_t a; struct { int32_t b; char c; } in; } s =
	    { 1, { 2, 'x' } };

	cr_assert_str_eq(render(tpl_map("S(i$(ic))", &s), "a,in(b,c)"),
	    "{\"a\":1,\"in\":{\"b\":2,\"c\":120}}");
}

Test(tpljson, doubles_that_json_cannot_say_are_null)
{
	struct { double a, b; } s = { 1.0 / 0.0, -2.25 };

	cr_assert_str_eq(render(tpl_map("S(ff)", &s), NULL),
	    "{\"0\":null,\"1\":-2.25}");
}

/* A reference image with a bit of everything, for the damage tests. */
static void
reference(void **img, size_t *len)
{
	struct { char *k; int32_t v[2]; } e;
	char		*name = "ref";
	tpl_node	*tn;

	tn = tpl_map("sA(S(si#))", &name, &e, 2);
	tpl_pack(tn, 0);
	e.k = "one"; e.v[0] = 1; e.v[1] = 2; tpl_pack(tn, 1);
	e.k = "two"; e.v[0] = 3; e.v[1] = 4; tpl_pack(tn, 1);
	cr_assert_eq(tpl_dump(tn, TPL_MEM, img, len), 0);
	tpl_free(tn);
}

Test(tpljson, every_truncation_fails_and_leaves_out_alone)
{
	void		*img;
	size_t		 len, i;
	struct buf	 out = { 0 };
	char		 err[256];

	reference(&img, &len);
	buf_add(&out, "x", 1);
	cr_assert_eq(tpljson_render(img, len, NULL, &out, err, sizeof err), 0);
	cr_assert(buf_used(&out) > 1);
	for (i = 0; i < len; i++) {
		buf_reset(&out);
		buf_add(&out, "x", 1);
		cr_assert_eq(tpljson_render(img, i, NULL, &out, err,
		    sizeof err), -1, "truncated to %zu", i);
		cr_assert_eq(buf_used(&out), 1);
		cr_assert(err[0] != '\0');
	}
	free(img);
	buf_free(&out);
}

Test(tpljson, bad_formats_and_headers)
{
	static const struct { const char *fmt; const char *why; } bad[] = {
		{ "S(A(i))", "A inside a struct" },
		{ "S(S(i))", "S inside a struct" },
		{ "$(i)", "$ outside a struct" },
		{ "A(i)#", "'#' after A" },
		{ "S()", "empty" },
		{ "S(i", "unbalanced" },
		{ "i)", "unbalanced" },
		{ "x", "unexpected 'x'" },
		{ "i#", "length 0" },
	};
	uint8_t		 img[64];
	struct buf	 out = { 0 };
	char		 err[256];
	size_t		 i, flen, len;
	uint32_t	 total;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		flen = strlen(bad[i].fmt);
		memcpy(img, "tpl\x02", 4);
		memcpy(img + 8, bad[i].fmt, flen + 1);
		len = 8 + flen + 1;
		/* Each '#' has its length: 0 for "i#", 1 otherwise. */
		if (strchr(bad[i].fmt, '#') != NULL) {
			total = strcmp(bad[i].fmt, "i#") != 0;
			memcpy(img + len, &total, 4);
			len += 4;
		}
		total = (uint32_t)len;
		memcpy(img + 4, &total, 4);
		cr_assert_eq(tpljson_render(img, len, NULL, &out, err,
		    sizeof err), -1, "%s", bad[i].fmt);
		cr_assert(strstr(err, bad[i].why) != NULL, "%s: %s",
		    bad[i].fmt, err);
	}
	cr_assert_eq(tpljson_render((const uint8_t *)"nope", 4, NULL, &out,
	    err, sizeof err), -1);
	cr_assert(strstr(err, "not a tpl image") != NULL);
	cr_assert_eq(tpljson_fields_valid("a,b(c,d),(e)", err, sizeof err), 0);
	cr_assert_eq(tpljson_fields_valid("a b", err, sizeof err), -1);
	cr_assert_eq(tpljson_fields_valid("a(b", err, sizeof err), -1);
	buf_free(&out);
}

Test(tpljson, survives_random_mutations)
{
	void		*img;
	uint8_t		*m;
	size_t		 len, k;
	struct buf	 out = { 0 };
	char		 err[256];
	unsigned	 seed = 12345, i;

	reference(&img, &len);
	m = malloc(len);
	for (i = 0; i < 200000; i++) {
		memcpy(m, img, len);
		for (k = 0; k < 1 + i % 4; k++)
			m[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		buf_reset(&out);
		(void)tpljson_render(m, len - (i % 7 == 0 ? rand_r(&seed) %
		    len : 0), NULL, &out, err, sizeof err);
	}
	free(m);
	free(img);
	buf_free(&out);
}
