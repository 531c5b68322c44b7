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

#endif
