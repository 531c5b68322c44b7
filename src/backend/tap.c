#include "backend/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int if_up_and_bridge(const char *ifname, const char *bridge, char *err, size_t errlen)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "tap %s: socket: %s", ifname, strerror(errno));
		return -1;
	}
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &r) < 0 || (r.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &r) < 0)) {
		snprintf(err, errlen, "tap %s: cannot bring it up: %s", ifname, strerror(errno));
		close(s);
		return -1;
	}
	if (bridge) {
		struct ifreq b;
		memset(&b, 0, sizeof(b));
		snprintf(b.ifr_name, sizeof(b.ifr_name), "%s", bridge);
		memset(&r, 0, sizeof(r));
		snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", ifname);
		if (ioctl(s, SIOCGIFINDEX, &r) < 0) {
			snprintf(err, errlen, "tap %s: %s", ifname, strerror(errno));
			close(s);
			return -1;
		}
		b.ifr_ifindex = r.ifr_ifindex;
		if (ioctl(s, SIOCBRADDIF, &b) < 0) {
			snprintf(err, errlen, "bridge %s: cannot add %s to it: %s", bridge, ifname,
				 errno == ENODEV ? "no such bridge" : strerror(errno));
			close(s);
			return -1;
		}
	}
	close(s);
	return 0;
}

int tap_open(const char *name, const char *bridge, char *ifname, char *err, size_t errlen)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	r.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name ? name : "domus%d");
	if (ioctl(fd, TUNSETIFF, &r) < 0) {
		snprintf(err, errlen, "tap %s: %s", r.ifr_name, strerror(errno));
		close(fd);
		return -1;
	}
	int hdr = TAP_VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		snprintf(err, errlen, "tap %s: vnet header: %s", r.ifr_name, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(ifname, IFNAMSIZ, "%s", r.ifr_name);
	if (if_up_and_bridge(ifname, bridge, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int tap_set_offload(int fd, unsigned flags)
{
	return ioctl(fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}

int tap_set_carrier(int fd, bool on)
{
	int v = on;
	return ioctl(fd, TUNSETCARRIER, &v) < 0 ? -errno : 0;
}
