"""migration-harness: when this VM has to move, does Pacemaker migrate it live, or stop and start it?"""

__version__ = "0.1.0"
