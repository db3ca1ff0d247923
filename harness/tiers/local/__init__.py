"""The local tier's machinery: real corosync + pacemaker nodes, one per set of Linux namespaces.

``netns`` joins nodes through a bridge in a hub namespace of the cluster's own, ``node`` writes each
node's configuration and starts its init, ``cluster`` is the ``LocalLab`` (bring up, attach, exec,
down, clean), ``standin`` installs the harness's stand-in agents and drives their control file,
``observe`` waits for the cluster to be idle and reads what actually ran.
"""
