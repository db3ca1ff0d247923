"""Evidence from inside the guest: its heartbeat, its domain's states on each dom0, a picture."""
