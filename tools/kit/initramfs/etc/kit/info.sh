# kit.run=info: print facts about the guest as key=value lines, then power off (via /init).
n=0
for c in /sys/devices/system/cpu/cpu[0-9]*; do
	[ -d "$c" ] && n=$((n + 1))
done
echo "nproc=$(nproc)"
echo "cpus_present=$n"
while read -r key val unit; do
	if [ "$key" = "MemTotal:" ]; then
		echo "memtotal_kb=$val"
		break
	fi
done </proc/meminfo
echo "date=$(date +%s)"
