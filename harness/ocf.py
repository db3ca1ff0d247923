"""OCF resource agent return codes by name (the OCF resource agent API, as Pacemaker reads them)."""

OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_ARGS = 2
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_PERM = 4
OCF_ERR_INSTALLED = 5
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7
OCF_RUNNING_PROMOTED = 8
OCF_FAILED_PROMOTED = 9

# The words pacemaker-controld logs for a result ("Result of stop operation for x on n: ok").
RESULT_WORDS = {
    "ok": OCF_SUCCESS,
    "not running": OCF_NOT_RUNNING,
    "error": OCF_ERR_GENERIC,
    "unimplemented feature": OCF_ERR_UNIMPLEMENTED,
    "not installed": OCF_ERR_INSTALLED,
    "not configured": OCF_ERR_CONFIGURED,
}
