# kit.run=panic: crash the kernel on purpose (tests on_crash handling).
echo "domus-kit: triggering a kernel panic"
echo 1 >/proc/sys/kernel/sysrq
echo c >/proc/sysrq-trigger
