/* The fixed ISA resources of the Domus PC, for both machines (machine_pc.c, machine_fv.c) and
 * the ACPI tables that describe them; docs/platform.md is the same table for guest authors. */
#ifndef DOMUS_PC_PLATFORM_H
#define DOMUS_PC_PLATFORM_H

#define PORT_I8042 0x60
#define PORT_PIT_SPEAKER 0x61
#define PORT_RTC 0x70
#define PORT_POST 0x80
#define PORT_COM1 0x3F8
/* The ACPI PM block (PM1a event/control, PM timer). SeaBIOS puts PIIX4's PM block at the same
 * address when it runs our table loader, so both machines decode it here. */
#define PORT_ACPI_PM 0x600
#define IRQ_KBD 1
#define IRQ_COM1 4
#define IRQ_RTC 8
#define IRQ_SCI 9
/* The local APIC and IOAPIC at their PC addresses (KVM's in-kernel irqchip; the MADT). */
#define PC_LAPIC_ADDR 0xFEE00000u
#define PC_IOAPIC_ADDR 0xFEC00000u
/* PCI windows firmware would program: ports above the ISA range, MMIO in the 32-bit hole below
 * the IOAPIC, and 64-bit BARs in 16 GiB from the first 1 GiB boundary above RAM. */
#define PCI_IO_BASE 0xC000
#define PCI_IO_END 0x10000
#define PCI_MEM32_END 0xFC000000ull
#define PCI_MEM64_SIZE (16ull << 30)
/* The FV PC's legacy IDE channels (PIIX3 IDE in compatibility mode). */
#define PORT_IDE0 0x1F0
#define PORT_IDE0_CTL 0x3F6
#define IRQ_IDE0 14
#define PORT_IDE1 0x170
#define PORT_IDE1_CTL 0x376
#define IRQ_IDE1 15

#endif
