# kit.run=reboot: reboot at once. The command line is the same after the reset, so this
# repeats on every boot: a test counts the "domus-kit: ready" banners and stops the guest.
echo "domus-kit: rebooting"
sync
reboot -f
