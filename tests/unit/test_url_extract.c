/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/url_extract.c. Every case is fed whole, cut in two at every byte
 * offset, and one byte at a time, and must give the same URLs (bytes, order, truncated flag)
 * and counters each way: prose punctuation and brackets, href/src/action values in both quote
 * styles, character references, "www." hosts, case, word boundaries, the URL_EXTRACT_MAX cut,
 * a URL ended only by finish, several URLs per line, and patterns split across feeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "url_extract.h"

#define GOT_MAX 16

struct got_url {
	uint8_t url[URL_EXTRACT_MAX];
	size_t len;
	bool truncated;
};

struct got {
	size_t n;
	uint64_t n_urls, n_truncated;
	struct got_url u[GOT_MAX];
};

struct want {
	const char *url;
	bool truncated;
};

static void
record(void *ctx, const uint8_t *url, size_t len, bool truncated)
{
	struct got *g = ctx;

	assert_true(len >= 1 && len <= URL_EXTRACT_MAX);
	assert_true(!truncated || len == URL_EXTRACT_MAX);
	assert_true(g->n < GOT_MAX);
	memcpy(g->u[g->n].url, url, len);
	g->u[g->n].len = len;
	g->u[g->n].truncated = truncated;
	g->n++;
}

/* Feed in[0..split) then in[split..len), each in pieces of at most step bytes, then finish. */
static void
run(const uint8_t *in, size_t len, bool html, size_t split, size_t step, struct got *g)
{
	struct url_extract u;
	size_t ends[2] = { split, len };
	size_t off = 0;

	memset(g, 0, sizeof(*g));
	url_extract_init(&u, html);
	for (int part = 0; part < 2; part++) {
		while (off < ends[part]) {
			size_t n = ends[part] - off < step ? ends[part] - off : step;

			url_extract_feed(&u, in + off, n, record, g);
			off += n;
		}
	}
	url_extract_finish(&u, record, g);
	g->n_urls = u.n_urls;
	g->n_truncated = u.n_truncated;
}

static void
assert_same(const struct got *a, const struct got *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->n_urls, b->n_urls);
	assert_int_equal(a->n_truncated, b->n_truncated);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->u[i].len, b->u[i].len);
		assert_memory_equal(a->u[i].url, b->u[i].url, a->u[i].len);
		assert_int_equal(a->u[i].truncated, b->u[i].truncated);
	}
}

static struct got whole, other;

/* Check in[0..len) gives exactly want[0..n_want) whole, cut anywhere, and byte by byte. */
static void
check_bytes(bool html, const uint8_t *in, size_t len, const struct want *want, size_t n_want)
{
	uint64_t n_trunc = 0;

	run(in, len, html, 0, len ? len : 1, &whole);
	if (whole.n != n_want) {
		for (size_t i = 0; i < whole.n; i++)
			print_message("got [%.*s]\n", (int)whole.u[i].len, whole.u[i].url);
	}
	assert_int_equal(whole.n, n_want);
	for (size_t i = 0; i < n_want; i++) {
		size_t wl = strlen(want[i].url);

		if (whole.u[i].len != wl || memcmp(whole.u[i].url, want[i].url, wl) != 0)
			print_message("url %zu: got [%.*s] want [%s]\n", i, (int)whole.u[i].len,
				      whole.u[i].url, want[i].url);
		assert_int_equal(whole.u[i].len, wl);
		assert_memory_equal(whole.u[i].url, want[i].url, wl);
		assert_int_equal(whole.u[i].truncated, want[i].truncated);
		n_trunc += want[i].truncated;
	}
	assert_int_equal(whole.n_urls, n_want);
	assert_int_equal(whole.n_truncated, n_trunc);

	for (size_t split = 0; split <= len; split++) {
		run(in, len, html, split, len + 1, &other);
		assert_same(&whole, &other);
	}
	run(in, len, html, 0, 1, &other);
	assert_same(&whole, &other);
}

#define CHECK(html, in, ...)                                                                   \
	do {                                                                                   \
		static const struct want w_[] = { __VA_ARGS__ };                               \
		check_bytes(html, (const uint8_t *)(in), strlen(in), w_,                       \
			    sizeof(w_) / sizeof(w_[0]));                                       \
	} while (0)

#define CHECK_NONE(html, in) check_bytes(html, (const uint8_t *)(in), strlen(in), NULL, 0)

#define U(s) { s, false }

static void
test_prose_punctuation(void **state)
{
	(void)state;
	CHECK(false, "Read http://example.com/docs. Then stop.", U("http://example.com/docs"));
	CHECK(false, "Really? https://a.example/x?y=1! And see http://b.example/a?, ok",
	      U("https://a.example/x?y=1"), U("http://b.example/a"));
	CHECK(false, "at http://c.example/f.tar.gz;: done", U("http://c.example/f.tar.gz"));
	/* interior punctuation stays */
	CHECK(false, "http://d.example/a.b,c;d:e!f?g=1", U("http://d.example/a.b,c;d:e!f?g=1"));
}

static void
test_brackets(void **state)
{
	(void)state;
	CHECK(false, "(see http://example.com/x)", U("http://example.com/x"));
	CHECK(false, "(http://en.wikipedia.org/wiki/Foo_(bar)).",
	      U("http://en.wikipedia.org/wiki/Foo_(bar)"));
	/* plain-text renderings of HTML mail, as GetResponse and Office 365 write them */
	CHECK(false, "Im Browser ansehen! [https://n.example/view.html?x=a&u=d&]\n",
	      U("https://n.example/view.html?x=a&u=d&"));
	CHECK(false, "[t](http://m.example/p) <http://a.example/1> 'http://b.example/2' "
		     "\"http://c.example/3\" `http://d.example/4` {http://e.example/5}",
	      U("http://m.example/p"), U("http://a.example/1"), U("http://b.example/2"),
	      U("http://c.example/3"), U("http://d.example/4"), U("http://e.example/5"));
	CHECK(false, "http://a.example/x|y\\z^w", U("http://a.example/x"));
}

static void
test_href_quotes(void **state)
{
	(void)state;
	CHECK(true, "<a href=\"http://a.example/x?q=1\">A</a><img src='https://b.example/i.png'>",
	      U("http://a.example/x?q=1"), U("https://b.example/i.png"));
	/* inside quotes only the matching quote ends the value; spaces around it are stripped */
	CHECK(true, "<a HREF = '  https://c.example/ y?q=\"x\"  '>",
	      U("https://c.example/ y?q=\"x\""));
	CHECK(true, "<a\nhref=http://d.example/p>d</a>", U("http://d.example/p"));
	/* any scheme: a SOC wants mailto:, javascript:, data: and relative links too */
	CHECK(true, "<a href=\"mailto:x@y.example\"></a><a href='javascript:go()'>",
	      U("mailto:x@y.example"), U("javascript:go()"));
	CHECK(true, "<form class=\"f\"action=\"/login.php\">", U("/login.php"));
	CHECK_NONE(true, "<a href=\"#top\"></a><a href=\"\"></a><a href=' '><a href=\"http://\">");
	CHECK_NONE(true, "<img srcset=\"a.png 2x\" data-src=\"b.png\" xhref=\"c\" href>");
	CHECK_NONE(true, "<a href=>x</a> href = ");
	/* wrapped href (seen in real newsletters): browsers drop TAB/CR/LF */
	CHECK(true, "<a href=\"http://g.example/mcp?p=041H1h\r\n012000WRnwBz\">",
	      U("http://g.example/mcp?p=041H1h012000WRnwBz"));
	/* in text mode attributes mean nothing; the scheme is still found */
	CHECK(false, "href=\"mailto:a@b.example\" href=\"http://t.example/\"",
	      U("http://t.example/"));
	/* "href=" inside a query is not an attribute */
	CHECK(true, "x&href=junk http://r.example/?a&href=x", U("http://r.example/?a&href=x"));
	/* unterminated value: emitted at finish */
	CHECK(true, "<a href=\"http://u.example/a", U("http://u.example/a"));
}

static void
test_amp(void **state)
{
	(void)state;
	CHECK(true, "<a href=\"http://a.example/?a=1&amp;b=2&amp;amp;c&AMP;d\">",
	      U("http://a.example/?a=1&b=2&amp;c&d"));
	CHECK(true, "<p>Go http://b.example/?x=1&amp;y=2 now</p>", U("http://b.example/?x=1&y=2"));
	CHECK(false, "http://c.example/?x=1&amp;y=2", U("http://c.example/?x=1&amp;y=2"));
}

static void
test_entities(void **state)
{
	(void)state;
	CHECK(true, "&quot;http://a.example/p&quot; and http://b.example&nbsp;next "
		    "&lt;http://c.example&gt;",
	      U("http://a.example/p"), U("http://b.example"), U("http://c.example"));
	CHECK(true, "<a href=\"http://evil&#46;example/&#x2F;x&#X2e;y\">",
	      U("http://evil.example//x.y"));
	CHECK(true, "<a href='http://h&#10;ost/&quot;q&#34;'>", U("http://host/\"q\""));
	/* not decoded: unknown, non-ASCII, zero, malformed, too long */
	CHECK(true, "<a href=\"http://k.example/&hellip;&#233;&#0;&#xZZ;&#x;&#;&;&#00000000065;\">",
	      U("http://k.example/&hellip;&#233;&#0;&#xZZ;&#x;&#;&;&#00000000065;"));
	CHECK(true, "<a href=\"http://k.example/&#x41;&#0000065;\">", U("http://k.example/AA"));
}

static void
test_www(void **state)
{
	(void)state;
	CHECK(false, "visit www.example.org, or WWW.Example.NET/path.", U("www.example.org"),
	      U("WWW.Example.NET/path"));
	CHECK(false, "\"www.\xc3\xb6koligenta.de/wandel-newsletter*\"",
	      U("www.\xc3\xb6koligenta.de/wandel-newsletter*"));
	CHECK_NONE(false, "xwww.no.example wwww.no.example 1www.no.example www. www.. ww.w");
	/* one URL, not two */
	CHECK(false, "http://www.x.example/www.y", U("http://www.x.example/www.y"));
}

static void
test_uppercase(void **state)
{
	(void)state;
	CHECK(false, "HTTP://EXAMPLE.COM/Path HtTpS://x.example/AbC FTP://f.example/F",
	      U("HTTP://EXAMPLE.COM/Path"), U("HtTpS://x.example/AbC"), U("FTP://f.example/F"));
	CHECK(true, "<A HREF=\"HTTP://X.EXAMPLE/P\"><IMG SRC=Y.PNG>", U("HTTP://X.EXAMPLE/P"),
	      U("Y.PNG"));
}

static void
test_word_boundary(void **state)
{
	(void)state;
	CHECK_NONE(false, "xhttp://a.example 1https://b.example Zftp://c.example hxxp://d.example");
	CHECK(false, "_ftp://c.example -http://d.example =https://f.example:http://g.example",
	      U("ftp://c.example"), U("http://d.example"), U("https://f.example:http://g.example"));
	/* a failed candidate does not hide one starting at the failing byte */
	CHECK(false, "http:/http://a.example htt.https://b.example wwhttp://no.example",
	      U("http://a.example"), U("https://b.example"));
	CHECK(false, "\xc3\xa9http://e.example", U("http://e.example"));
}

static void
test_bare_scheme(void **state)
{
	(void)state;
	CHECK_NONE(false, "http:// and https://. and ftp://) and www.,");
	CHECK_NONE(true, "http://&quot; https://&nbsp;");
	CHECK(false, "http:/// ftp://x", U("http:///"), U("ftp://x"));
}

/* in[0..n) = "http://" + 'a' * pad + tail */
static size_t
make_long(uint8_t *buf, size_t cap, const char *head, size_t pad, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);

	assert_true(h + pad + t <= cap);
	memcpy(buf, head, h);
	memset(buf + h, 'a', pad);
	memcpy(buf + h + pad, tail, t);
	return h + pad + t;
}

static void
test_long(void **state)
{
	static uint8_t in[4096];
	static char cut[URL_EXTRACT_MAX + 1];
	struct want w[2];
	size_t n;

	(void)state;
	/* exactly URL_EXTRACT_MAX: whole, not flagged */
	n = make_long(in, sizeof(in), "http://", URL_EXTRACT_MAX - 7, " next");
	memcpy(cut, in, URL_EXTRACT_MAX);
	cut[URL_EXTRACT_MAX] = '\0';
	w[0] = (struct want){ cut, false };
	check_bytes(false, in, n, w, 1);

	/* one byte more: cut and flagged; the rest, scheme inside included, is not a URL */
	n = make_long(in, sizeof(in), "See http://", URL_EXTRACT_MAX,
		      "http://inner.example/,www.inner.example then http://after.example.");
	memcpy(cut, in + 4, URL_EXTRACT_MAX);
	w[0] = (struct want){ cut, true };
	w[1] = (struct want){ "http://after.example", false };
	check_bytes(false, in, n, w, 2);

	/* a quoted value is skipped to its quote, not to the next space */
	n = make_long(in, sizeof(in), "<a href=\"http://", 1500,
		      " http://inner.example\">http://after.example</a>");
	memcpy(cut, in + 9, URL_EXTRACT_MAX);
	w[0] = (struct want){ cut, true };
	check_bytes(true, in, n, w, 2);
}

static void
test_finish(void **state)
{
	static const char in[] = "end http://end.example/path";
	struct url_extract u;
	struct got g;

	(void)state;
	CHECK(false, in, U("http://end.example/path"));
	CHECK(false, "the end: http://end.example/.", U("http://end.example/"));
	CHECK_NONE(false, "cut in the scheme: htt");

	/* nothing is emitted before finish; the object serves the next part after it */
	memset(&g, 0, sizeof(g));
	url_extract_init(&u, false);
	url_extract_feed(&u, (const uint8_t *)in, strlen(in), record, &g);
	assert_int_equal(g.n, 0);
	url_extract_finish(&u, record, &g);
	assert_int_equal(g.n, 1);
	url_extract_feed(&u, (const uint8_t *)"p://no.example ", 15, record, &g);
	url_extract_feed(&u, (const uint8_t *)in, strlen(in), record, &g);
	url_extract_finish(&u, record, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(u.n_urls, 2);
	url_extract_finish(&u, record, &g);
	assert_int_equal(g.n, 2);

	/* counters without a callback */
	url_extract_init(&u, false);
	url_extract_feed(&u, (const uint8_t *)"http://a.example http://b", 25, NULL, NULL);
	url_extract_finish(&u, NULL, NULL);
	assert_int_equal(u.n_urls, 2);
	assert_int_equal(u.n_truncated, 0);
}

static void
test_several_per_line(void **state)
{
	(void)state;
	CHECK(false, "a http://a.example b https://b.example, c ftp://c.example; d www.d.example!\n"
		     "e http://e.example\thttp://f.example\r\nhttp://g.example\x01http://h.example",
	      U("http://a.example"), U("https://b.example"), U("ftp://c.example"),
	      U("www.d.example"), U("http://e.example"), U("http://f.example"),
	      U("http://g.example"), U("http://h.example"));
	/* a link and its visible text are two URLs; CSS url() loses its ')' and ';' */
	CHECK(true, "<a href=\"http://a.example/\">http://a.example/</a>"
		    "<td style=\"background-image:url(https://n.example/bg.png); color:red\">",
	      U("http://a.example/"), U("http://a.example/"), U("https://n.example/bg.png"));
}

static void
test_split_scheme(void **state)
{
	static const char *const pieces[][3] = {
		{ "htt", "p://x", "" },
		{ "see w", "ww", ".y.example" },
		{ "<a hr", "ef", "=\"z\">" },
	};
	static const char *const want[] = { "http://x", "www.y.example", "z" };
	struct url_extract u;
	struct got g;

	(void)state;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		memset(&g, 0, sizeof(g));
		url_extract_init(&u, true);
		for (size_t k = 0; k < 3; k++)
			url_extract_feed(&u, (const uint8_t *)pieces[i][k], strlen(pieces[i][k]),
					 record, &g);
		url_extract_finish(&u, record, &g);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.u[0].len, strlen(want[i]));
		assert_memory_equal(g.u[0].url, want[i], g.u[0].len);
	}
}

/*
 * The fast paths: a word start whose second letter begins no pattern is skipped with both
 * its letters, and a URL's plain bytes are copied in runs. Each case is also fed a byte at
 * a time and cut everywhere (check_bytes), which takes the slow path, so both must agree.
 */
static void
test_fast_paths(void **state)
{
	(void)state;
	CHECK_NONE(false, "shttp://a.example hthttp://b.example awww.c.example");
	CHECK(false, "ah ht hr ft ww sr ac http://d.example/p?q=1&r=2;s hT HTTPS://E.example",
	      U("http://d.example/p?q=1&r=2;s"), U("HTTPS://E.example"));
	CHECK(true, "<a class=x action=\"/post\" href='https://f.example/a&amp;b'>ac src</a>",
	      U("/post"), U("https://f.example/a&b"));
	CHECK(true, "<img src=https://g.example/i.png?x=1&#46;y>",
	      U("https://g.example/i.png?x=1.y"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prose_punctuation),
		cmocka_unit_test(test_brackets),
		cmocka_unit_test(test_href_quotes),
		cmocka_unit_test(test_amp),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_www),
		cmocka_unit_test(test_uppercase),
		cmocka_unit_test(test_word_boundary),
		cmocka_unit_test(test_bare_scheme),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_several_per_line),
		cmocka_unit_test(test_split_scheme),
		cmocka_unit_test(test_fast_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
