// The CRI's gRPC services, loaded from the published proto (proto/cri-runtime-v1.proto, in the
// package beside dist/) when berthd serves the CRI, never before: parsing it costs berthd's
// start-up ~100 ms. Messages keep the proto's own field names; int64s come as decimal strings
// (nanosecond times pass 2^53), enums as their numbers (0 is each enum's default, which the
// field checks in fields.ts rely on).

import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** From dist/src/cri/ (and src/cri/ under a loader), three levels up is the package root. */
export const PROTO_PATH = fileURLToPath(new URL('../../../proto/cri-runtime-v1.proto', import.meta.url));

export interface CriServices {
  RuntimeService: ServiceDefinition;
  ImageService: ServiceDefinition;
}

export function loadCriServices(): CriServices {
  const def = loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: Number, defaults: false, oneofs: true });
  const pkg = loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, { service: ServiceDefinition }> } };
  return { RuntimeService: pkg.runtime.v1.RuntimeService.service, ImageService: pkg.runtime.v1.ImageService.service };
}
