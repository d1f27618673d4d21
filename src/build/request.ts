// The builder's contract with its callers (the engine, and through it POST /build and `berth
// build`): what a build is asked to do, and what it reports while it runs. The Dockerfile's own
// syntax lives in dockerfile/; how steps run and are cached lives in the builder. Field names
// follow the query parameters of the Docker Engine API's POST /build where one exists.

import type { Credentials } from '../common/credentials.js';
import type { ContextIndex } from './context-index.js';
import type { StepResources } from './step-runner.js';

/** One build, as the API's query parameters and the CLI's flags ask for it. */
export interface BuildRequest {
  /** A directory holding the unpacked context, already filtered by .dockerignore (once `contextIndex` is materialized, when given). */
  contextDir: string;
  /**
   * The context as its archive's index, its files not yet written to `contextDir`: COPY keys its
   * steps from it, and whatever reads the files first calls `materialize()`.
   */
  contextIndex?: ContextIndex;
  /** The Dockerfile's path relative to contextDir (`dockerfile`), or its text (`-f -`, or outside the context). */
  dockerfile: { path: string } | { text: string; name: string };
  /** `t`: every tag the image gets. */
  tags: string[];
  /** `target`: the stage to build; the last one when absent. */
  target?: string;
  /** `buildargs`: a null value takes the variable from berthd's environment, as dockerd does. */
  buildArgs: Record<string, string | null>;
  /** `labels`: set on the final image, after the Dockerfile's own. */
  labels: Record<string, string>;
  /** `nocache` */
  noCache: boolean;
  /** `pull`: fetch every FROM image again even when it is present. */
  pull: boolean;
  /** `cachefrom`: local images whose history may satisfy steps. */
  cacheFrom: string[];
  /** `networkmode`: 'default' (the default bridge), 'none', 'host', `container:<name>`, or a network's name. */
  network: string;
  /** `platform`: only the host's own is built; anything else is refused. */
  platform?: string;
  /** Secrets for `RUN --mount=type=secret`, by id; never written to a layer or the history. */
  secrets: Record<string, { path: string } | { data: Buffer }>;
  /** `extrahosts`: `name:ip` lines added to each RUN step's /etc/hosts (as `--add-host`); berthd checked their form. */
  extraHosts?: string[];
  /** `memory`, `memswap`, `cpu*`, `shmsize`, `cgroupparent`, `ulimits`: every RUN step's container gets them (none: no limit). */
  resources?: StepResources;
  /** `X-Registry-Config`: credentials for FROM pulls, by registry host as the docker CLI keys them. */
  registryAuth?: Record<string, Credentials>;
  /** Aborted when the client went away (or POST /build/cancel): the build stops, and leaves nothing behind. */
  signal?: AbortSignal;
  /** `rm` / `forcerm` are always true in berth: a step's container never outlives it. */
}

/** What a build reports while it runs; the API turns it into the JSON stream, the CLI into progress. */
export type BuildEvent =
  /** A step begins: `Step 2/7 : RUN make` in the classic builder's words. */
  | { kind: 'step'; stage: string; index: number; total: number; instruction: string }
  /** A step was satisfied from the cache. */
  | { kind: 'cached'; stage: string; index: number }
  /** Output of a RUN step (stdout and stderr interleaved as they came). */
  | { kind: 'output'; stage: string; index: number; data: Buffer }
  /** A step finished, with the layer or config it produced and how long it took. */
  | { kind: 'done'; stage: string; index: number; id: string; ms: number }
  /** A message that is not a step's: a note on an ignored `syntax` directive, a pull's progress. */
  | { kind: 'note'; text: string };

// A build's failure says why in its message; a failing RUN step's error also carries the
// command's `exitCode`, which the API puts in `errorDetail.code` as dockerd does.

/** What a finished build made. */
export interface BuildResult {
  /** The image's config digest (`sha256:…`), the ID `aux` carries and --iidfile writes. */
  id: string;
  tags: string[];
}
