/* libFuzzer target for the xl.cfg parser and the domain config builder.
 *
 * Input: config text, optionally followed by a NUL and one command-line
 * override. Every string in the resulting tree is also fed to the disk,
 * vif, vdev and MAC parsers, which random configs would rarely reach
 * through `disk = [...]`. Invariants of a successful build are checked.
 *
 * Build with clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc
 * -D_GNU_SOURCE, this file and every .c file in src/config; run with
 * ./fuzz_xlcfg -max_total_time=30 CORPUS_DIR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/domcfg.h"
#include "config/xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_error(int rc, const char *err)
{
	ASSERT(rc == -EINVAL || rc == -ENOMEM);
	ASSERT(err[0] != 0);
	ASSERT(strlen(err) < 512);
}

static void poke_specs(const struct xlval *v)
{
	char err[200];

	if (v->type == XLVAL_LIST) {
		for (size_t i = 0; i < v->nitems; i++)
			poke_specs(v->items[i]);
		return;
	}
	{
		struct domcfg_disk d;
		int rc = domcfg_parse_disk(v->str, &d, err, sizeof(err));

		if (rc == 0) {
			ASSERT(d.target && d.vdev && *d.vdev);
			ASSERT(!d.cdrom || d.readonly);
			ASSERT(*d.target || d.format == DOMCFG_DISK_EMPTY);
			domcfg_disk_free(&d);
		} else {
			check_error(rc, err);
			ASSERT(!d.target && !d.vdev);
		}
	}
	{
		struct domcfg_nic n;
		int rc = domcfg_parse_nic(v->str, &n, err, sizeof(err));

		if (rc == 0) {
			ASSERT(n.mac_auto || !(n.mac[0] & 1));
			domcfg_nic_free(&n);
		} else {
			check_error(rc, err);
		}
	}
	{
		enum domcfg_vdev_bus bus;
		unsigned idx, part;
		uint8_t mac[6];
		uint64_t u;
		char buf[40];

		if (domcfg_parse_vdev(v->str, &bus, &idx, &part) == 0)
			ASSERT(idx < (1u << 20) && part < 256);
		(void)domcfg_parse_mac(v->str, mac);
		(void)xlcfg_parse_u64(v->str, &u);
		(void)xlval_as_u64(v, &u);
		ASSERT(strlen(xlcfg_printable(buf, sizeof(buf), v->str)) <
		       sizeof(buf));
	}
}

static void check_config(const struct domain_config *dc)
{
	ASSERT(dc->name && *dc->name);
	ASSERT(dc->memory_mib >= 1 && dc->memory_mib <= DOMUS_MAX_MEMORY_MIB);
	ASSERT(dc->maxmem_mib >= dc->memory_mib);
	ASSERT(dc->vcpus >= 1 && dc->vcpus <= DOMUS_MAX_VCPUS);
	ASSERT(dc->type == DOMCFG_TYPE_HVM || dc->kernel);
	ASSERT(strlen(dc->boot) >= 1 && strspn(dc->boot, "cdn") ==
	       strlen(dc->boot));
	ASSERT(dc->ndisks <= DOMUS_MAX_DISKS && dc->nnics <= DOMUS_MAX_NICS);
	for (size_t i = 0; i < dc->nnics; i++) {
		ASSERT(dc->nics[i].devid >= 0);
		for (size_t j = 0; j < i; j++) {
			ASSERT(dc->nics[i].devid != dc->nics[j].devid);
			ASSERT(memcmp(dc->nics[i].mac, dc->nics[j].mac, 6));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - text) : size;
	struct xlcfg *cfg = xlcfg_new();
	struct domain_config dc;
	char err[512];
	int rc;

	if (!cfg)
		return 0;
	rc = xlcfg_parse(cfg, "fuzz.cfg", text, len, err, sizeof(err));
	if (rc == 0 && nul) {
		/* the rest, up to a second NUL, is a command-line override */
		size_t rest = size - len - 1;
		char *ov = malloc(rest + 1);

		if (ov) {
			memcpy(ov, nul + 1, rest);
			ov[rest] = 0;
			rc = xlcfg_parse_override(cfg, ov, err, sizeof(err));
			free(ov);
		}
	}
	if (rc != 0)
		check_error(rc, err);
	for (size_t i = 0; i < xlcfg_count(cfg); i++) {
		const struct xlcfg_setting *s = xlcfg_at(cfg, i);

		ASSERT(s && s->key && s->val && s->line >= 1 && s->source);
		ASSERT(xlcfg_find(cfg, s->key) == s);
		poke_specs(s->val);
	}
	rc = domcfg_build(cfg, &dc, err, sizeof(err));
	if (rc == 0) {
		check_config(&dc);
		domcfg_free(&dc);
	} else {
		check_error(rc, err);
		ASSERT(!dc.name && !dc.disks && !dc.nics);
	}
	xlcfg_free(cfg);
	return 0;
}
