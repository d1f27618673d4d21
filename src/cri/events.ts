// GetContainerEvents (kubelet's evented PLEG): the engine's container events turned into the
// CRI's, each with the sandbox's status and its containers' as they are when it is sent. A
// sandbox's events are its infra container's, under the sandbox's ID. The infra container's
// `create` comes before its pod is registered, so a sandbox's first event is its start.

import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Engine, EventMessage } from '../engine/index.js';
import { errorMessage } from '../errors.js';
import { criContainers } from './containers.js';
import { CRI_LABEL } from './labels.js';

/** runtime.v1 ContainerEventType, by the engine's container actions. */
const EVENT_TYPES: Record<string, number> = { create: 0, start: 1, die: 2, destroy: 3 };

interface Statuses {
  sandbox(id: string): Promise<{ status?: object | null }>;
  container(id: string): Promise<{ status?: object | null }>;
}

/** Where an event's container stands: its CRI pod, and whether it is the pod's infra container. */
interface Place {
  pod: string;
  infra: boolean;
}

export function eventsService(engine: Engine, statuses: Statuses, log: (msg: string) => void) {
  return {
    GetContainerEvents(call: ServerWritableStream<unknown, object>): void {
      // A destroyed container's record is gone: where it stood is remembered from its earlier events.
      const places = new Map<string, Place>();
      const placeOf = (e: EventMessage): Place | undefined => {
        const rec = engine.containers.list().find((c) => c.Id === e.Actor.ID);
        if (!rec) return places.get(e.Actor.ID);
        if (!rec.Pod) return undefined;
        const pod = engine.pods.list().find((i) => i.pod.Id === rec.Pod)?.pod;
        if (pod?.Labels[CRI_LABEL.metadata] === undefined) return undefined;
        const place = { pod: pod.Id, infra: !!rec.IsInfra };
        places.set(rec.Id, place);
        return place;
      };
      const send = async (e: EventMessage, type: number) => {
        const place = placeOf(e);
        if (!place) return;
        if (e.Action === 'destroy') places.delete(e.Actor.ID);
        // The infra container's destroy is the sandbox's removal: its record goes right after.
        const podAlive = !(place.infra && e.Action === 'destroy') && engine.pods.list().some((i) => i.pod.Id === place.pod);
        const members = criContainers(engine).filter((c) => c.Pod === place.pod);
        call.write({
          container_id: place.infra ? place.pod : e.Actor.ID,
          container_event_type: type,
          created_at: String(e.timeNano),
          pod_sandbox_status: podAlive ? ((await statuses.sandbox(place.pod)).status ?? null) : null,
          containers_statuses: (await Promise.all(members.map((c) => statuses.container(c.Id)))).map((r) => r.status),
        });
      };
      // One at a time, in the engine's order.
      let chain = Promise.resolve();
      const { unsubscribe } = engine.events.subscribe({ filters: { type: ['container'] } }, (e) => {
        const type = EVENT_TYPES[e.Action];
        if (type === undefined) return;
        chain = chain
          .then(() => send(e, type))
          .catch((err: unknown) => log(`cri: GetContainerEvents: ${e.Action} of ${e.Actor.ID.slice(0, 12)}: ${errorMessage(err)}`));
      });
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
    },
  };
}
