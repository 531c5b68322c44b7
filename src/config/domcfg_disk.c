/* xl disk specs (xl-disk-configuration(5)) and vdev names
 * (xen-vbd-interface(7)).
 *
 * A spec is a comma-separated series of key=value parameters, flags and
 * positional parameters (target, format, vdev, access, filling the slots
 * not yet set). `target=` eats the rest of the spec, commas included. Old
 * prefixes (file:, phy:, raw:, tap:aio:, ...) may precede a parameter; a
 * format prefix sets the format and then the format slot is skipped, as in
 * `raw:/x.img,xvda,w`.
 *
 * Accepted and ignored, because they only choose among Xen back ends or
 * tune them and Domus has one back end per device: backendtype=,
 * specification=, direct-io-safe, trusted/untrusted, grant_usage=.
 * Refused, because ignoring them would silently change what the guest gets:
 * script= and the iscsi:/nbd:/enbd:/drbd: prefixes (the target is not a
 * path then), COLO parameters, and backend= naming a driver domain.
 */
#include "config/domcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct disk_parse {
	struct domcfg_disk *d;
	char *err;
	size_t errlen;
	bool has_target, has_format, has_vdev, has_access, has_serial;
	bool had_prefix;        /* an old prefix: no format slot */
	bool access_rw;         /* access was given as w/rw */
	int ret;
};

static int __attribute__((format(printf, 2, 3)))
derr(struct disk_parse *dp, const char *fmt, ...)
{
	va_list ap;

	if (dp->ret)
		return dp->ret;
	dp->ret = -EINVAL;
	if (dp->err && dp->errlen) {
		va_start(ap, fmt);
		vsnprintf(dp->err, dp->errlen, fmt, ap);
		va_end(ap);
	}
	return dp->ret;
}

static const char *const formats[] = {
	[DOMCFG_DISK_RAW] = "raw",
	[DOMCFG_DISK_QCOW] = "qcow",
	[DOMCFG_DISK_QCOW2] = "qcow2",
	[DOMCFG_DISK_VHD] = "vhd",
	[DOMCFG_DISK_QED] = "qed",
	[DOMCFG_DISK_EMPTY] = "empty",
};

const char *domcfg_format_name(enum domcfg_disk_format f)
{
	return (unsigned)f < sizeof(formats) / sizeof(formats[0]) ?
	       formats[f] : "?";
}

static int lookup_format(const char *s)
{
	if (!*s)
		return DOMCFG_DISK_RAW;         /* empty = default */
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(s, formats[i]))
			return (int)i;
	return -1;
}

static int set_format(struct disk_parse *dp, const char *s)
{
	char buf[40];
	int f = lookup_format(s);

	if (f < 0)
		return derr(dp, "unknown format '%s'",
			    xlcfg_printable(buf, sizeof(buf), s));
	if (dp->has_format && *s && dp->d->format != (enum domcfg_disk_format)f)
		return derr(dp, "format given twice");
	if (*s || !dp->has_format)
		dp->d->format = (enum domcfg_disk_format)f;
	dp->has_format = true;
	return 0;
}

static int set_access(struct disk_parse *dp, const char *s)
{
	char buf[40];

	if (!strcmp(s, "r") || !strcmp(s, "ro")) {
		dp->d->readonly = true;
		dp->access_rw = false;
	} else if (!strcmp(s, "w") || !strcmp(s, "rw")) {
		dp->d->readonly = false;
		dp->access_rw = true;
	} else if (*s) {
		return derr(dp, "unknown access '%s' (use r, ro, w or rw)",
			    xlcfg_printable(buf, sizeof(buf), s));
	}
	dp->has_access = true;
	return 0;
}

/* Set a string field; an empty earlier value may be replaced (xl's rule). */
static int set_string(struct disk_parse *dp, char **field, bool *has,
		      const char *what, const char *s)
{
	char *v;

	if (*field && **field && *s && strcmp(*field, s))
		return derr(dp, "%s given twice", what);
	v = strdup(s);
	if (!v)
		return dp->ret = -ENOMEM;
	free(*field);
	*field = v;
	*has = true;
	return 0;
}

/* "hdc:cdrom" / "xvda:disk": the deprecated vdev:devtype form. Returns 1 if
 * s had a devtype suffix (and the vdev was set), 0 if not, <0 on error. */
static int vdev_devtype(struct disk_parse *dp, const char *s)
{
	const char *colon = strrchr(s, ':');
	char *vdev;
	int r;

	if (!colon)
		return 0;
	if (!strcmp(colon + 1, "cdrom"))
		dp->d->cdrom = true;
	else if (strcmp(colon + 1, "disk"))
		return derr(dp, "unknown device type '%s' after vdev "
			    "(use cdrom or disk)", colon + 1);
	vdev = strndup(s, (size_t)(colon - s));
	if (!vdev)
		return dp->ret = -ENOMEM;
	r = set_string(dp, &dp->d->vdev, &dp->has_vdev, "vdev", vdev);
	free(vdev);
	return r < 0 ? r : 1;
}

static bool looks_like_vdev(const char *s)
{
	const char *colon = strrchr(s, ':');
	char name[32];
	enum domcfg_vdev_bus bus;
	unsigned idx, part;
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, s, n);
	name[n] = 0;
	if (colon && strcmp(colon + 1, "cdrom") && strcmp(colon + 1, "disk"))
		return false;
	return domcfg_parse_vdev(name, &bus, &idx, &part) == 0;
}

static int positional(struct disk_parse *dp, const char *s)
{
	char buf[40];
	int r;

	if (!dp->has_target)
		return set_string(dp, &dp->d->target, &dp->has_target,
				  "target", s);
	if (!dp->had_prefix && !dp->has_format) {
		/* ",hdc:cdrom,r": xend's empty CD-ROM drive. */
		if (!*dp->d->target) {
			r = vdev_devtype(dp, s);
			if (r) {
				dp->d->format = DOMCFG_DISK_EMPTY;
				dp->has_format = true;
				return r < 0 ? r : 0;
			}
		}
		/* Domus extension: "/x.iso,hdc:cdrom,r" without a prefix is
		 * the old target,vdev,access form; xl would call hdc a bad
		 * format. A vdev name can never be a format name. */
		if (lookup_format(s) < 0 && looks_like_vdev(s)) {
			dp->has_format = true;
		} else {
			return set_format(dp, s);
		}
	}
	if (!dp->has_vdev) {
		r = vdev_devtype(dp, s);
		if (r)
			return r < 0 ? r : 0;
		return set_string(dp, &dp->d->vdev, &dp->has_vdev, "vdev", s);
	}
	if (!dp->has_access)
		return set_access(dp, s);
	return derr(dp, "too many positional parameters at '%s'",
		    xlcfg_printable(buf, sizeof(buf), s));
}

static bool is_dom0(const char *s)
{
	return !*s || !strcmp(s, "0") || !strcmp(s, "Domain-0");
}

/* One key=value parameter (s points at the key, eq at the '='). */
static int keyword(struct disk_parse *dp, const char *s, const char *eq)
{
	const char *v = eq + 1;
	size_t klen = (size_t)(eq - s);
	char buf[40];

#define IS(k) (klen == strlen(k) && !strncmp(s, k, klen))
	if (IS("format"))
		return set_format(dp, v);
	if (IS("access"))
		return set_access(dp, v);
	if (IS("vdev"))
		return set_string(dp, &dp->d->vdev, &dp->has_vdev, "vdev", v);
	if (IS("serial")) {
		/* Domus: the disk's name for the guest (virtio-blk GET_ID has
		 * 20 bytes; kept short and printable like a vdev name). */
		size_t n = strlen(v);
		bool ok = n > 0 && n < 16;
		for (const char *c = v; ok && *c; c++)
			ok = *c > ' ' && *c < 0x7f;
		if (!ok)
			return derr(dp, "bad serial '%s' (1-15 printable "
				    "characters)", xlcfg_printable(buf,
				    sizeof(buf), v));
		return set_string(dp, &dp->d->serial, &dp->has_serial,
				  "serial", v);
	}
	if (IS("devtype")) {
		if (!strcmp(v, "cdrom"))
			dp->d->cdrom = true;
		else if (!strcmp(v, "disk"))
			dp->d->cdrom = false;
		else
			return derr(dp, "unknown devtype '%s' (use cdrom or "
				    "disk)", xlcfg_printable(buf, sizeof(buf), v));
		return 0;
	}
	if (IS("backendtype")) {
		if (strcmp(v, "phy") && strcmp(v, "tap") && strcmp(v, "qdisk") &&
		    strcmp(v, "standalone"))
			return derr(dp, "unknown backendtype '%s'",
				    xlcfg_printable(buf, sizeof(buf), v));
		return 0;
	}
	if (IS("specification")) {
		if (strcmp(v, "xen") && strcmp(v, "virtio"))
			return derr(dp, "unknown specification '%s'",
				    xlcfg_printable(buf, sizeof(buf), v));
		return 0;
	}
	if (IS("grant_usage")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return derr(dp, "grant_usage must be 0 or 1");
		return 0;
	}
	if (IS("backend")) {
		if (!is_dom0(v))
			return derr(dp, "backend domains are not supported");
		return 0;
	}
	if (IS("script"))
		return derr(dp, "block scripts are not supported");
	if (IS("colo-host") || IS("colo-port") || IS("colo-export") ||
	    IS("active-disk") || IS("hidden-disk"))
		return derr(dp, "COLO is not supported");
#undef IS
	{
		char key[32];

		snprintf(key, sizeof(key), "%.*s", (int)klen, s);
		return derr(dp, "unknown parameter '%s'",
			    xlcfg_printable(buf, sizeof(buf), key));
	}
}

/* Flags: returns 1 if s was one, 0 if not. */
static int flag(struct disk_parse *dp, const char *s)
{
	if (!strcmp(s, "cdrom")) {
		dp->d->cdrom = true;
	} else if (!strcmp(s, "discard")) {
		dp->d->discard = true;
	} else if (!strcmp(s, "no-discard")) {
		dp->d->discard = false;
	} else if (!strcmp(s, "direct-io-safe") || !strcmp(s, "trusted") ||
		   !strcmp(s, "untrusted") || !strcmp(s, "no-colo")) {
		/* back-end tuning: nothing to do in Domus */
	} else if (!strcmp(s, "colo")) {
		derr(dp, "COLO is not supported");
	} else {
		return 0;
	}
	return 1;
}

/* Strip old "word:" prefixes off *ps. */
static int prefixes(struct disk_parse *dp, const char **ps)
{
	static const char *const ignored[] = {
		"tapdisk", "tap", "tap2", "aio", "ioemu", "file", "phy",
	};
	static const char *const scripts[] = { "iscsi", "nbd", "enbd", "drbd" };
	const char *s = *ps;

	for (;;) {
		const char *w = s;
		size_t n;
		int f;
		char word[16];
		bool known = false;

		if (!(*w >= 'a' && *w <= 'z'))
			break;
		while ((*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9'))
			w++;
		n = (size_t)(w - s);
		if (*w != ':' || n >= sizeof(word))
			break;
		memcpy(word, s, n);
		word[n] = 0;
		for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
			known |= !strcmp(word, ignored[i]);
		for (size_t i = 0; i < sizeof(scripts) / sizeof(*scripts); i++)
			if (!strcmp(word, scripts[i]))
				return derr(dp, "'%s:' disks need block scripts, "
					    "which are not supported", word);
		f = lookup_format(word);
		if (f >= 0 && f != DOMCFG_DISK_QED && f != DOMCFG_DISK_EMPTY) {
			if (set_format(dp, word) < 0)
				return dp->ret;
		} else if (!known) {
			/* "hdc:cdrom" is a vdev, not a prefix: xl only calls a
			 * word a prefix when no letter or digit follows. */
			if ((w[1] >= 'a' && w[1] <= 'z') ||
			    (w[1] >= '0' && w[1] <= '9'))
				break;
			return derr(dp, "unknown disk prefix '%s:'", word);
		}
		dp->had_prefix = true;
		s = w + 1;
	}
	*ps = s;
	return 0;
}

static int finish(struct disk_parse *dp)
{
	struct domcfg_disk *d = dp->d;
	char buf[40];

	if (!d->vdev || !*d->vdev)
		return derr(dp, "missing vdev");
	if (domcfg_parse_vdev(d->vdev, &d->bus, &d->index, &d->partition) < 0)
		return derr(dp, "bad vdev '%s' (use xvdX, hdX, sdX or dNpM)",
			    xlcfg_printable(buf, sizeof(buf), d->vdev));
	if (!d->target || !*d->target) {
		if (!d->cdrom)
			return derr(dp, "missing target (only a CD-ROM drive "
				    "may be empty)");
		if (!d->target && !(d->target = strdup("")))
			return dp->ret = -ENOMEM;
		d->format = DOMCFG_DISK_EMPTY;
	} else if (d->format == DOMCFG_DISK_EMPTY) {
		return derr(dp, "format 'empty' with a target");
	}
	if (d->cdrom) {
		if (dp->access_rw)
			return derr(dp, "a CD-ROM cannot be writable");
		if (d->partition)
			return derr(dp, "a CD-ROM cannot be a partition");
		d->readonly = true;
	}
	return 0;
}

int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, char *err,
		      size_t errlen)
{
	struct disk_parse dp = { .d = d, .err = err, .errlen = errlen };
	const char *s = spec;
	char *param = NULL;

	memset(d, 0, sizeof(*d));
	d->discard = true;
	if (err && errlen)
		err[0] = 0;
	while (*s && !dp.ret) {
		const char *end, *eq;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!strncmp(s, "target=", 7)) {
			size_t n = strlen(s + 7);

			if (n && s[7 + n - 1] == ',')
				n--;
			free(param);
			param = strndup(s + 7, n);
			if (!param || set_string(&dp, &d->target,
						 &dp.has_target, "target",
						 param) < 0)
				dp.ret = dp.ret ? dp.ret : -ENOMEM;
			break;
		}
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		free(param);
		param = strndup(s, (size_t)(end - s));
		if (!param) {
			dp.ret = -ENOMEM;
			break;
		}
		s = *end ? end + 1 : end;
		/* xl keeps trailing blanks, making "xvda " a bad vdev; drop
		 * them (target= keeps its own, as documented). */
		for (size_t n = strlen(param); n && (param[n - 1] == ' ' ||
				param[n - 1] == '\t' || param[n - 1] == '\n');)
			param[--n] = 0;
		eq = strchr(param, '=');
		if (eq && *param >= 'a' && *param <= 'z') {
			keyword(&dp, param, eq);
		} else if (eq) {
			char buf[40];

			derr(&dp, "bad disk parameter '%s' (give a target "
			     "with '=' or ',' last, as target=...)",
			     xlcfg_printable(buf, sizeof(buf), param));
		} else if (!flag(&dp, param)) {
			const char *p = param;

			if (prefixes(&dp, &p) == 0)
				positional(&dp, p);
		}
	}
	free(param);
	if (!dp.ret)
		finish(&dp);
	if (dp.ret) {
		if (dp.ret == -ENOMEM && err && errlen)
			snprintf(err, errlen, "out of memory");
		domcfg_disk_free(d);
	}
	return dp.ret;
}

void domcfg_disk_free(struct domcfg_disk *d)
{
	free(d->target);
	free(d->vdev);
	free(d->serial);
	memset(d, 0, sizeof(*d));
}

/* Bijective base 26: a=0 .. z=25, aa=26 .. (xen-vbd-interface(7)). */
static int letters(const char **ps, unsigned max_letters, unsigned *out)
{
	const char *s = *ps;
	unsigned v = 0, n = 0;

	while (*s >= 'a' && *s <= 'z') {
		if (++n > max_letters)
			return -EINVAL;
		v = v * 26 + (unsigned)(*s++ - 'a' + 1);
	}
	if (!n)
		return -EINVAL;
	*out = v - 1;
	*ps = s;
	return 0;
}

/* Decimal without sign or leading zeros, at most max. */
static int decimal(const char **ps, unsigned max, unsigned *out)
{
	const char *s = *ps;
	unsigned long v = 0;

	if (!(*s >= '0' && *s <= '9') || (s[0] == '0' && s[1] >= '0' &&
					   s[1] <= '9'))
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s++ - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = (unsigned)v;
	*ps = s;
	return 0;
}

int domcfg_parse_vdev(const char *vdev, enum domcfg_vdev_bus *bus,
		      unsigned *index, unsigned *partition)
{
	const char *s = vdev;
	unsigned idx, part = 0, max_idx, max_part;

	if (!strncmp(s, "xvd", 3)) {
		*bus = DOMCFG_BUS_XVD;
		s += 3;
		max_idx = (1u << 20) - 1;
		max_part = 255;
		/* four letters (up to index 475253) are plenty */
		if (letters(&s, 4, &idx) < 0)
			return -EINVAL;
	} else if (!strncmp(s, "hd", 2) || !strncmp(s, "sd", 2)) {
		*bus = s[0] == 'h' ? DOMCFG_BUS_HD : DOMCFG_BUS_SD;
		s += 2;
		max_idx = *bus == DOMCFG_BUS_HD ? 3 : 15;
		max_part = *bus == DOMCFG_BUS_HD ? 63 : 15;
		if (letters(&s, 1, &idx) < 0)
			return -EINVAL;
	} else if (s[0] == 'd' && s[1] >= '0' && s[1] <= '9') {
		*bus = DOMCFG_BUS_XVD;
		s++;
		if (decimal(&s, (1u << 20) - 1, &idx) < 0)
			return -EINVAL;
		if (*s == 'p') {
			s++;
			if (decimal(&s, 255, &part) < 0)
				return -EINVAL;
		}
		if (*s)
			return -EINVAL;
		*index = idx;
		*partition = part;
		return 0;
	} else {
		return -EINVAL;
	}
	if (idx > max_idx)
		return -EINVAL;
	if (*s && (*s == '0' || decimal(&s, max_part, &part) < 0 || *s))
		return -EINVAL;
	*index = idx;
	*partition = part;
	return 0;
}
