// berth's tar: a small streaming reader and writer for the formats images, `docker cp`,
// save/load and import/export meet — ustar, PAX (xattrs as bytes) and GNU long names. A
// ground-floor module: it imports only errors, and every layer may use it.

export { BLOCK, unpackedBytes, type TarHeader, type TarHeaderInput, type TarType } from './header.js';
export { readTar, type TarEntry } from './reader.js';
export { TarWriter, tarBuffer } from './writer.js';
