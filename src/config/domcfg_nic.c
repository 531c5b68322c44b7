/* xl vif specs (xl-network-configuration(5)) and guest MAC addresses.
 *
 * A spec is comma-separated key=value pairs, blanks around keys and values
 * ignored, a repeated key overriding the earlier one (as xl does). Domus
 * uses mac, bridge, model, type, vifname and devid. It accepts and
 * ignores, because Domus plugs the TAP device into the bridge itself and
 * does no routing: script (the hotplug script), gatewaydev and its old
 * alias netdev (vif-route only). ip is kept for information. rate and mtu
 * are checked for syntax and then refused: Domus does not shape traffic
 * and its NICs have the default MTU, and a guest must not get a network
 * other than the one its config asks for. backend= must name domain 0.
 * Anything else is an error.
 */
#include "config/domcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int __attribute__((format(printf, 3, 4)))
nerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int domcfg_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	for (int i = 0; i < 6; i++) {
		int hi = hex(s[0]), lo = hi < 0 ? -1 : hex(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (*s != (i == 5 ? 0 : ':'))
			return -EINVAL;
		s += i < 5;
	}
	memcpy(mac, m, 6);
	return 0;
}

/*
 * The hash is 64-bit FNV-1a over the name's bytes, one zero byte, and the
 * index as four little-endian bytes; folded as h ^ (h >> 32), its low 24
 * bits are the last three MAC bytes, with the top bit cleared as libxl does
 * for its random addresses (00:16:3e:00:00:00 - 00:16:3e:7f:ff:ff). FNV is
 * fixed by its definition, so the MAC never changes between releases or
 * hosts. With 23 bits, two NICs collide with probability 2^-23 per pair;
 * domcfg_build refuses a duplicate inside one domain.
 */
void domcfg_derive_mac(const char *name, unsigned index, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	const uint64_t prime = 0x100000001b3ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * prime;
	h = (h ^ 0) * prime;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((index >> (8 * i)) & 0xff)) * prime;
	h ^= h >> 32;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)((h >> 16) & 0x7f);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Linux interface names: 1..15 bytes, no '/', ':' or blanks. */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool model_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

/* xl's rate syntax: N[GMK]?[Bb]/s, optionally @N[mu]?s; N > 0. */
static bool rate_ok(const char *s)
{
	const char *p = s;
	unsigned long long n = 0;

	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		if ((n = n * 10 + (unsigned)(*p++ - '0')) > UINT32_MAX)
			return false;
	if (*p == 'G' || *p == 'M' || *p == 'K')
		p++;
	if (*p != 'B' && *p != 'b')
		return false;
	if (strncmp(++p, "/s", 2))
		return false;
	p += 2;
	if (!*p)
		return true;
	if (*p++ != '@' || *p < '1' || *p > '9')
		return false;
	n = 0;
	while (*p >= '0' && *p <= '9')
		if ((n = n * 10 + (unsigned)(*p++ - '0')) > UINT32_MAX)
			return false;
	if (*p == 'm' || *p == 'u')
		p++;
	if (*p == 's')
		p++;
	return !*p;
}

static int set_str(char **field, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

static int nic_option(struct domcfg_nic *n, const char *k, const char *v,
		      char *err, size_t errlen)
{
	char buf[40];
	uint64_t u;

	xlcfg_printable(buf, sizeof(buf), v);
	if (!strcmp(k, "mac")) {
		if (domcfg_parse_mac(v, n->mac) < 0)
			return nerr(err, errlen, "bad MAC address '%s' (want "
				    "six hex pairs like 00:16:3e:12:34:56)", buf);
		if (n->mac[0] & 1)
			return nerr(err, errlen, "MAC address '%s' is "
				    "multicast", buf);
		n->mac_auto = false;
		return 0;
	}
	if (!strcmp(k, "bridge") || !strcmp(k, "vifname")) {
		if (!ifname_ok(v))
			return nerr(err, errlen, "bad %s '%s' (an interface "
				    "name of 1-15 characters)", k, buf);
		return set_str(k[0] == 'b' ? &n->bridge : &n->vifname, v);
	}
	if (!strcmp(k, "model")) {
		if (!model_ok(v))
			return nerr(err, errlen, "bad model '%s'", buf);
		return set_str(&n->model, v);
	}
	if (!strcmp(k, "type")) {
		if (!strcmp(v, "ioemu"))
			n->type = DOMCFG_NIC_IOEMU;
		else if (!strcmp(v, "vif"))
			n->type = DOMCFG_NIC_VIF;
		else
			return nerr(err, errlen, "bad type '%s' (use ioemu or "
				    "vif)", buf);
		return 0;
	}
	if (!strcmp(k, "devid")) {
		if (xlcfg_parse_u64(v, &u) < 0 || u > 1023)
			return nerr(err, errlen, "bad devid '%s' (0-1023)", buf);
		n->devid = (int)u;
		return 0;
	}
	if (!strcmp(k, "mtu")) {
		if (xlcfg_parse_u64(v, &u) < 0 || u < 68 || u > 65535)
			return nerr(err, errlen, "bad mtu '%s' (68-65535)", buf);
		return nerr(err, errlen, "mtu: Domus NICs have the default "
			    "MTU (1500); setting it is not supported yet");
	}
	if (!strcmp(k, "ip"))
		return set_str(&n->ip, v);
	if (!strcmp(k, "rate")) {
		if (!rate_ok(v))
			return nerr(err, errlen, "bad rate '%s' (like 10Mb/s "
				    "or 1MB/s@20ms)", buf);
		return nerr(err, errlen, "rate: Domus does not limit a NIC's "
			    "traffic yet");
	}
	if (!strcmp(k, "script") || !strcmp(k, "gatewaydev") ||
	    !strcmp(k, "netdev"))
		return 0;
	if (!strcmp(k, "backend")) {
		if (*v && strcmp(v, "0") && strcmp(v, "Domain-0"))
			return nerr(err, errlen, "backend domains are not "
				    "supported");
		return 0;
	}
	return nerr(err, errlen, "unknown vif option '%s'",
		    xlcfg_printable(buf, sizeof(buf), k));
}

int domcfg_parse_nic(const char *spec, struct domcfg_nic *n, char *err,
		     size_t errlen)
{
	char *copy = strdup(spec), *p, *tok;
	int ret = 0;

	memset(n, 0, sizeof(*n));
	n->mac_auto = true;
	n->devid = -1;
	if (err && errlen)
		err[0] = 0;
	if (!copy)
		return -ENOMEM;
	for (p = copy; p && !ret; p = tok) {
		char *eq, *k;

		tok = strchr(p, ',');
		if (tok)
			*tok++ = 0;
		k = trim(p);
		if (!*k)
			continue;       /* '' and trailing commas are fine */
		eq = strchr(k, '=');
		if (!eq) {
			char buf[40];

			ret = nerr(err, errlen, "vif option '%s' is not "
				   "key=value", xlcfg_printable(buf, sizeof(buf),
								k));
			break;
		}
		*eq = 0;
		ret = nic_option(n, trim(k), trim(eq + 1), err, errlen);
	}
	free(copy);
	if (ret) {
		if (ret == -ENOMEM && err && errlen)
			snprintf(err, errlen, "out of memory");
		domcfg_nic_free(n);
	}
	return ret;
}

void domcfg_nic_free(struct domcfg_nic *n)
{
	free(n->bridge);
	free(n->model);
	free(n->vifname);
	free(n->ip);
	memset(n, 0, sizeof(*n));
}
