/* rand.c — xorshift64* seeded from the kernel (see sip/rand.h). */
#include <sip/rand.h>
#include <sys/random.h>

void sip_rand_seed(struct sip_rand *r)
{
	if (getrandom(&r->s, sizeof(r->s), GRND_NONBLOCK) != (ssize_t)sizeof(r->s) || !r->s)
		r->s = (uint64_t)(uintptr_t)r ^ 0x9E3779B97F4A7C15ull;
}

uint64_t sip_rand_next(struct sip_rand *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

void sip_rand_hex(struct sip_rand *r, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			v = sip_rand_next(r);
		out[i] = hex[v & 15];
		v >>= 4;
	}
	out[n] = 0;
}
