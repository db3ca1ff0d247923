"""The nested tier: Vagrant + libvirt VMs running Xen dom0s and an iSCSI SAN."""
