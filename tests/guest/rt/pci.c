/*
 * pci.c - configuration mechanism #1 (ports 0xcf8/0xcfc), bus 0 only.
 */
#include "pci.h"

static u32 addr_of(unsigned devfn, unsigned off)
{
	return 0x80000000u | (devfn & 0xff) << 8 | (off & 0xfc);
}

u32 rt_pci_read(unsigned devfn, unsigned off, unsigned size)
{
	outl(0xcf8, addr_of(devfn, off));
	if (size == 1)
		return inb((u16)(0xcfc + (off & 3)));
	if (size == 2)
		return inw((u16)(0xcfc + (off & 2)));
	return inl(0xcfc);
}

void rt_pci_write(unsigned devfn, unsigned off, unsigned size, u32 val)
{
	outl(0xcf8, addr_of(devfn, off));
	if (size == 1)
		outb((u16)(0xcfc + (off & 3)), (u8)val);
	else if (size == 2)
		outw((u16)(0xcfc + (off & 2)), (u16)val);
	else
		outl(0xcfc, val);
}

int rt_pci_find(u16 vendor, u16 device, int from)
{
	for (int df = from < 0 ? 0 : from; df < 256; df++) {
		u32 id = rt_pci_read((unsigned)df, 0, 4);
		if ((id & 0xffff) == vendor && (device == 0xffff || (id >> 16) == device))
			return df;
	}
	return -1;
}

u64 rt_pci_bar(unsigned devfn, unsigned idx, bool *is_io)
{
	u32 lo = rt_pci_read(devfn, 0x10 + 4 * idx, 4);
	if (is_io)
		*is_io = lo & 1;
	if (lo & 1)
		return lo & ~3u;
	u64 a = lo & ~0xfu;
	if ((lo & 6) == 4 && idx < 5)
		a |= (u64)rt_pci_read(devfn, 0x10 + 4 * (idx + 1), 4) << 32;
	return a;
}

u64 rt_pci_bar_size(unsigned devfn, unsigned idx)
{
	unsigned off = 0x10 + 4 * idx;
	u16 cmd = (u16)rt_pci_read(devfn, 4, 2);
	rt_pci_write(devfn, 4, 2, cmd & ~3u);
	u32 lo = rt_pci_read(devfn, off, 4);
	rt_pci_write(devfn, off, 4, 0xffffffff);
	u32 mlo = rt_pci_read(devfn, off, 4);
	rt_pci_write(devfn, off, 4, lo);
	u64 mask;
	if (lo & 1) {
		mask = 0xffffffff00000000ull | (mlo & ~3u);
	} else if ((lo & 6) == 4) {
		u32 hi = rt_pci_read(devfn, off + 4, 4);
		rt_pci_write(devfn, off + 4, 4, 0xffffffff);
		u32 mhi = rt_pci_read(devfn, off + 4, 4);
		rt_pci_write(devfn, off + 4, 4, hi);
		mask = (u64)mhi << 32 | (mlo & ~0xfu);
	} else {
		mask = 0xffffffff00000000ull | (mlo & ~0xfu);
	}
	rt_pci_write(devfn, 4, 2, cmd);
	if ((lo & 1) && (mask & 0xffff) == 0)
		return 0;
	return mask == 0xffffffff00000000ull ? 0 : ~mask + 1;
}

unsigned rt_pci_find_cap(unsigned devfn, u8 id, unsigned from)
{
	if (!(rt_pci_read(devfn, 6, 2) & 0x10))
		return 0;
	unsigned p = from ? rt_pci_read(devfn, from + 1, 1) : rt_pci_read(devfn, 0x34, 1);
	for (int hops = 0; p && hops < 48; hops++) {
		p &= 0xfc;
		if (rt_pci_read(devfn, p, 1) == id)
			return p;
		p = rt_pci_read(devfn, p + 1, 1);
	}
	return 0;
}
