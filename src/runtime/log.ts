// The runtime's logger: where the library sends what is worth saying but is not an error of the
// call (a failed poststart or poststop hook, which the OCI spec makes a warning). The library
// never writes to the process's stderr itself; berthd passes its log, the CLI prints as runc.
export type RuntimeLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type RuntimeLogger = (level: RuntimeLogLevel, msg: string) => void;
