// The Engine API versions berthd speaks: it answers requests of any version from MIN to MAX
// (the `/v1.XX/` prefix) with the shapes of MAX, and names MAX in `Api-Version`.
export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';
