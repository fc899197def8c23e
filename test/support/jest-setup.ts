/**
 * Jest setup file, run in every suite before its modules load: the SDK's Node-version warning
 * stays quiet (tools/common/sdk-quiet.ts), and the replication code that suites run in-process
 * (redrive, resync, the handler) logs nothing unless a suite asks for a level: its Powertools
 * logger is created when its module loads, at INFO by default, and would print every change.
 */
import "../../tools/common/sdk-quiet";

process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
