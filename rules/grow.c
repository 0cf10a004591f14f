// SPDX-License-Identifier: GPL-2.0
/* Geometric growth of the library's dynamic arrays. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "rules_internal.h"

int ln_grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return -ENOMEM;
		ncap *= 2;
	}
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}
