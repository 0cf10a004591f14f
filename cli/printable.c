// SPDX-License-Identifier: GPL-2.0
/* Text from the agent or the command line made safe for a terminal: no control bytes, UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h" /* ln_utf8_char_len(), shared with the agent */
#include "lsnitch.h"

/* The length of the printable character @s starts with, or 0: a control, or not UTF-8. */
static size_t printable_len(const char *s, size_t len)
{
	size_t n = ln_utf8_char_len(s, len);
	unsigned char c = s[0];

	if (n == 1 && (c < 0x20 || c == 0x7f))
		return 0;
	/* the C1 controls U+0080-U+009F: some terminals act on them too */
	if (n == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0)
		return 0;
	return n;
}

char *printable(const char *s, size_t len)
{
	char *out = malloc(len * 4 + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0, n; i < len; i += n) {
		n = printable_len(s + i, len - i);
		if (n) {
			memcpy(p, s + i, n);
			p += n;
		} else {
			p += sprintf(p, "\\x%02x", (unsigned char)s[i]);
			n = 1;
		}
	}
	*p = '\0';
	return out;
}

void make_printable(json_object *o)
{
	const char *s;
	size_t len;
	char *t;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, key, v) {
			(void)key;
			make_printable(v);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			make_printable(json_object_array_get_idx(o, i));
		break;
	case json_type_string:
		s = json_object_get_string(o);
		len = json_object_get_string_len(o);
		t = printable(s, len);
		if (!t || strlen(t) != len || memcmp(t, s, len))
			json_object_set_string(o, t ? t : "?");
		free(t);
		break;
	default:
		break;
	}
}
