/* TAP network back end: a Linux TAP device with the virtio-net header (IFF_VNET_HDR, 12 bytes
 * as in virtio 1.x), non-blocking, up, and attached to a named bridge. */
#ifndef DOMUS_TAP_H
#define DOMUS_TAP_H
#include <stdbool.h>
#include <stddef.h>

#define TAP_VNET_HDR_LEN 12

/* Create the TAP (name may be NULL: the kernel picks "domusN"), bring it up and add it to
 * bridge (may be NULL: no bridge). Returns the fd, or -1 with the reason in err; the name
 * chosen goes to ifname (IFNAMSIZ bytes). */
int tap_open(const char *name, const char *bridge, char *ifname, char *err, size_t errlen);
/* Tell the TAP which offloads the guest accepts (TUN_F_* flags). 0 or -errno. */
int tap_set_offload(int fd, unsigned flags);
/* The TAP's carrier as the host sees it (TUNSETCARRIER): off, the host stack and a bridge
 * treat the port as unplugged. 0 or -errno. */
int tap_set_carrier(int fd, bool on);

#endif
