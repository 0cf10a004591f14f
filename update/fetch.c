// SPDX-License-Identifier: GPL-2.0
/* One conditional HTTP(S) download of a list, bounded in size and time (libcurl). */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fetch.h"

/* What one transfer writes to and remembers. */
struct transfer {
	FILE *out;
	long long bytes, max_bytes;
	bool too_big;
	struct ln_list_state *st;
	char etag[sizeof(((struct ln_list_state *)0)->etag)];
	char last_modified[sizeof(((struct ln_list_state *)0)->last_modified)];
};

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
}

/* Counts what arrives: past the cap the transfer stops, even without a Content-Length. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;

	t->bytes += (long long)n;
	if (t->bytes > t->max_bytes) {
		t->too_big = true;
		return 0;
	}
	return fwrite(p, size, n, t->out);
}

/* "Name: value\r\n" into @out when the header is @name. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name), vl;

	if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
		return;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	vl = len < size - 1 ? len : size - 1;
	memcpy(out, line, vl);
	out[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;

	header_value(p, n, "ETag", t->etag, sizeof(t->etag));
	header_value(p, n, "Last-Modified", t->last_modified, sizeof(t->last_modified));
	return n;
}

static struct curl_slist *conditional_headers(const struct ln_list_state *st)
{
	struct curl_slist *h = NULL;
	char line[512];

	if (st->etag[0]) {
		snprintf(line, sizeof(line), "If-None-Match: %s", st->etag);
		h = curl_slist_append(h, line);
	}
	if (st->last_modified[0]) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", st->last_modified);
		h = curl_slist_append(h, line);
	}
	return h;
}

static void set_options(CURL *c, const char *url, struct transfer *t,
			const struct fetch_limits *lim, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, lim->timeout_sec);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)lim->max_bytes);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "lsnitch-update/" LN_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

/* The transfer's outcome: enum fetch_result, or -errno with the reason. */
static int transfer_result(CURL *c, CURLcode cc, const struct transfer *t, const char *errbuf,
			   const struct fetch_limits *lim, struct ln_error *err)
{
	long code = 0;

	if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return ln_err(err, -EFBIG, "larger than %lld bytes, refused", lim->max_bytes);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ln_err(err, -ETIMEDOUT, "timed out after %ld s", lim->timeout_sec);
	if (cc != CURLE_OK)
		return ln_err(err, -EIO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code == 304)
		return FETCH_NOT_MODIFIED;
	if (code != 200)
		return ln_err(err, -EIO, "HTTP status %ld", code);
	return FETCH_NEW;
}

int fetch_list(const char *url, const char *path, bool conditional, struct ln_list_state *st,
	       const struct fetch_limits *lim, struct ln_error *err)
{
	struct transfer t = {.max_bytes = lim->max_bytes, .st = st};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = conditional ? conditional_headers(st) : NULL;
	CURL *c = curl_easy_init();
	int rc;

	t.out = fopen(path, "wxe");
	if (!c || !t.out) {
		rc = ln_err(err, c ? -errno : -ENOMEM, "%s: %s", path,
			    c ? strerror(errno) : "out of memory");
		goto out;
	}
	set_options(c, url, &t, lim, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = transfer_result(c, curl_easy_perform(c), &t, errbuf, lim, err);
	if (fflush(t.out) || fsync(fileno(t.out)))
		rc = rc < 0 ? rc : ln_err(err, -errno, "%s: %s", path, strerror(errno));
	if (rc == FETCH_NEW) {
		snprintf(st->etag, sizeof(st->etag), "%s", t.etag);
		snprintf(st->last_modified, sizeof(st->last_modified), "%s", t.last_modified);
	}
out:
	if (t.out)
		fclose(t.out);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}
