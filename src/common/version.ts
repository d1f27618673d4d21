// berth's version, one string for berthd (the API's `Server` header and `/version`), the CLI and
// berth-runtime. Kept in step with package.json's by a unit test.

export const BERTH_VERSION = '0.1.0';
