/* Exit statuses of the domus command, one per way a domain can end (`domus run` and the
 * domus-vmm monitor); the client verbs use DOMUS_EXIT_ERROR and DOMUS_EXIT_USAGE. */
#ifndef DOMUS_EXIT_CODES_H
#define DOMUS_EXIT_CODES_H

#define DOMUS_EXIT_POWEROFF 0   /* the guest powered off (ACPI S5) */
#define DOMUS_EXIT_ERROR 1      /* bad input or a setup failure: nothing ran */
#define DOMUS_EXIT_USAGE 2      /* bad command line */
#define DOMUS_EXIT_REBOOT 3     /* the guest rebooted and --no-reboot was given */
#define DOMUS_EXIT_CRASH 4      /* triple fault or guest panic */
#define DOMUS_EXIT_EMULATION 5  /* an instruction neither KVM nor Domus can emulate */
#define DOMUS_EXIT_KVM 6        /* another KVM failure */
#define DOMUS_EXIT_SIGNAL 128   /* + signal number: SIGINT, SIGTERM, SIGHUP, Ctrl-A x (SIGINT) */

#endif
