// The builder: a parsed Dockerfile and a context in, a tagged image out. Stages form a graph
// (FROM <stage>, COPY --from, RUN --mount from=): only those the target needs are built, each
// as soon as what it reads is ready, independent ones side by side (steps bounded by a limit).
// Each step turns a state (config + layers) into the next, through the exact cache (cache.ts)
// unless `noCache`: metadata steps change the config; RUN runs in a container the engine makes
// (step-runner.ts) and its changes become a layer; COPY and ADD copy into a snapshot of the
// state and commit it. The history is the classic builder's (history.ts).

import { createHash, randomBytes } from 'node:crypto';
import { join, posix } from 'node:path';
import { BerthError, errorMessage, invalid, notFound, unsupported } from '../errors.js';
import { formatPlatform, hostPlatform, parsePlatform, toOciLayer, type ImageStore, type Snapshotter } from '../image/index.js';
import type { Descriptor, ImageConfigConfig } from '../oci/image.js';
import { parseSignal } from '../runtime/signals.js';
import { BuildCache, type BuildCacheRecord } from './cache.js';
import {
  copyInto,
  digestSources,
  digestTree,
  findParentsSources,
  findSources,
  globRegex,
  type Excluded,
  type Match,
  type SourceRoot,
} from './copy.js';
import type { ContextIndex, IndexMatch } from './context-index.js';
import { DockerignoreMatcher } from '../common/dockerignore.js';
import {
  contextOf,
  expandFrom,
  expandInstruction,
  parseDockerfile,
  parseOnbuildTrigger,
  processWord,
  runShellInput,
  type CommandLine,
  type Dockerfile,
  type Instruction,
  type Stage,
} from './dockerfile/index.js';
import { copyLine, goList, goQuoteList, healthLine, nopLine, runLine } from './history.js';
import type { BuildEvent, BuildRequest, BuildResult } from './request.js';
import { lookupOwner, resolveInRoot } from './root.js';
import { scratchState, stateDigest, withConfig, withLayer, type BuildState } from './state.js';
import type { StepRunner } from './step-runner.js';
import { Limiter } from './limiter.js';
import { extractedSource, heredocSource, isArchive, remoteSource } from './add-sources.js';
import { cacheMountInUse, prepareMounts } from './run-mounts.js';
import { dirSize } from '../common/dir-size.js';
import { awaitedLater } from '../common/promises.js';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { errno } from '../common/errno.js';

const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** Build args every Dockerfile may use without declaring them; they stay out of the history and the cache key. */
const PROXY_ARGS = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];
/** Steps of one build that run at once (stages in parallel share it). */
const PARALLEL_STEPS = 4;

export interface BuilderOptions {
  store: ImageStore;
  snapshots: Snapshotter;
  runner: StepRunner;
  /** `<data-root>/build`: the cache file, cache mounts. */
  dir: string;
  /**
   * The image ID of `ref`, pulled first when absent or when `pull` asks (the engine's pull, with
   * its registries and events). Progress goes to `note`.
   */
  resolveImage: (
    ref: string,
    opts: { pull: boolean; note: (text: string) => void; credentials?: BuildRequest['registryAuth'] },
  ) => Promise<string>;
  /** A folder on a tmpfs (under the exec root) for RUN --mount=type=secret's files. */
  secretsDir: string;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

/** A step that failed: Docker's words, with the step's output kept for the caller. */
export class StepError extends BerthError {
  constructor(
    message: string,
    readonly exitCode?: number,
  ) {
    super('system', message);
  }
}

interface StageRun {
  stage: Stage;
  /** How events name it: its `AS` name, else its index. */
  label: string;
  state: BuildState;
  shell: string[];
  /** ARGs declared in the stage (after its FROM), with their values; undefined: declared without one. */
  args: Map<string, string | undefined>;
  /** A CMD was given in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

interface Build {
  req: BuildRequest;
  file: Dockerfile;
  emit: (e: BuildEvent) => void;
  /** Values of the global ARGs (before the first FROM). */
  globals: Map<string, string | undefined>;
  stages: Map<number, Promise<BuildState>>;
  /** Step numbers: the first step of each stage (FROM is a step, as the classic builder counts). */
  firstStep: number[];
  total: number;
  failed: boolean;
  usedArgs: Set<string>;
  limiter: Limiter;
  /** `--cache-from` images found in the store. */
  cacheFrom: Promise<BuildState[]>;
  /** Pins of the layers this build made, released when it ends (the cache holds them by then). */
  unpins: (() => void)[];
}

export class Builder {
  readonly cache: BuildCache;

  constructor(private readonly opts: BuilderOptions) {
    this.cache = new BuildCache(opts.dir, opts.store);
  }

  async build(req: BuildRequest, onEvent: (e: BuildEvent) => void): Promise<BuildResult> {
    const host = hostPlatform();
    if (req.platform && formatPlatform(parsePlatform(req.platform)) !== formatPlatform(host)) {
      throw unsupported(`berth builds for this host's platform (${formatPlatform(host)}) only, not ${req.platform}`);
    }
    if (!('text' in req.dockerfile)) await req.contextIndex?.materialize();
    const file =
      'text' in req.dockerfile
        ? parseDockerfile(req.dockerfile.text, { file: req.dockerfile.name })
        : parseDockerfile(
            await readFile(await resolveInRoot(req.contextDir, req.dockerfile.path, { followLast: true, escape: 'refuse' }), 'utf8'),
            { file: req.dockerfile.path },
          );
    if (file.directives.syntax)
      onEvent({ kind: 'note', text: `# syntax=${file.directives.syntax} is ignored: berth builds with its own Dockerfile frontend` });
    if (file.directives.check)
      onEvent({ kind: 'note', text: `# check=${file.directives.check} is ignored: berth runs no Dockerfile linter` });
    for (const w of file.warnings) onEvent({ kind: 'note', text: `[WARNING]: ${w}` });
    if (file.stages.length === 0) throw invalid('the Dockerfile has no FROM: there is nothing to build');
    let target = file.stages.length - 1;
    if (req.target) {
      target = file.stages.findIndex((s) => s.name === req.target!.toLowerCase());
      if (target < 0) throw invalid(`failed to reach build target ${req.target} in Dockerfile`);
    }
    // Steps are numbered as dockerd's classic builder numbers them: the ARGs before the first
    // FROM, every stage up to the target (none after it), then one LABEL step per `labels` key.
    const labels = Object.entries(req.labels).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0));
    const firstStep: number[] = [];
    let total = file.globalArgs.length;
    for (const [i, s] of file.stages.entries()) {
      firstStep.push(total + 1);
      if (i <= target) total += 1 + s.instructions.length;
    }
    total += labels.length;
    const b: Build = {
      req,
      file,
      emit: onEvent,
      globals: new Map(),
      stages: new Map(),
      firstStep,
      total,
      failed: false,
      usedArgs: new Set(),
      limiter: new Limiter(PARALLEL_STEPS),
      unpins: [],
      cacheFrom: this.cacheFromImages(req, onEvent),
    };
    for (const [i, instr] of file.globalArgs.entries()) {
      // dockerd writes such a step's line alone: it makes no image.
      onEvent({ kind: 'note', text: `Step ${i + 1}/${total} : ${instr.original}` });
      for (const a of instr.args) {
        const given = buildArg(req, a.name);
        b.globals.set(a.name, given ?? (a.default !== undefined ? this.expand(b, a.default, (n) => b.globals.get(n)) : undefined));
        // Declared is consumed, as dockerd counts it: a --build-arg NAME with no value anywhere too.
        if (a.name in req.buildArgs) b.usedArgs.add(a.name);
      }
    }
    await this.cache.load();
    let state: BuildState;
    try {
      state = await this.stage(b, target);
      // `labels`: a LABEL step each, after the target's own steps, as dockerd adds them.
      const stageLabel = file.stages[target].name ?? String(target);
      for (const [i, [k, v]] of labels.entries()) {
        const ev = { stage: stageLabel, index: total - labels.length + i + 1 };
        const line = `LABEL ${k}=${v}`;
        b.emit({ kind: 'step', ...ev, total, instruction: line });
        const t0 = Date.now();
        state = await this.cached(
          b,
          state,
          ['LABEL', [[k, v]]],
          line,
          async (s) => withConfig(s, (c) => ({ ...c, Labels: { ...c.Labels, [k]: v } }), nopLine(DEFAULT_SHELL, line)),
          ev,
        );
        b.emit({ kind: 'done', ...ev, id: shortId(state), ms: Date.now() - t0 });
      }
      // Stages started beside the target and read by none of its steps end before the build does.
      await Promise.all(b.stages.values());
    } catch (e) {
      b.failed = true;
      await Promise.allSettled(b.stages.values());
      for (const u of b.unpins) u();
      throw e;
    } finally {
      await this.cache.save().catch((e) => this.opts.log?.('warn', `saving the build cache: ${errorMessage(e)}`));
    }
    const unused = Object.keys(req.buildArgs).filter((k) => !b.usedArgs.has(k) && !PROXY_ARGS.includes(k));
    if (unused.length) onEvent({ kind: 'note', text: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed` });
    try {
      const config = { ...state.config, created: state.config.created ?? new Date().toISOString() };
      const manifest = await this.opts.store.createImage(undefined, config, state.layers);
      const id = (await this.opts.store.readManifest(manifest.digest)).config.digest;
      for (const t of req.tags) await this.opts.store.tag(id, t);
      return { id, tags: req.tags };
    } finally {
      for (const u of b.unpins) u();
    }
  }

  private async cacheFromImages(req: BuildRequest, onEvent: (e: BuildEvent) => void): Promise<BuildState[]> {
    const out: BuildState[] = [];
    for (const ref of req.cacheFrom) {
      try {
        const img = await this.opts.store.resolve(ref);
        out.push({ config: img.config, layers: img.manifest.layers.map(toOciLayer) });
      } catch (e) {
        if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
        onEvent({ kind: 'note', text: `[Warning] --cache-from ${ref}: no such image here; it is not used` });
      }
    }
    return out;
  }

  /** Builds stage `i` once per build; every reader of it awaits the same promise. */
  private stage(b: Build, i: number): Promise<BuildState> {
    let p = b.stages.get(i);
    if (!p) {
      p = this.runStage(b, i);
      b.stages.set(i, p);
      // Stages read later are started now, so that they build beside this one.
      for (const dep of this.dependencies(b, i)) if (!b.stages.has(dep)) awaitedLater(this.stage(b, dep));
    }
    return p;
  }

  /** Stages that stage `i` reads (FROM, COPY --from, RUN --mount from=), found by name or index. */
  private dependencies(b: Build, i: number): number[] {
    const s = b.file.stages[i];
    const refs: string[] = [];
    refs.push(expandFrom(s.from, (n) => b.globals.get(n), contextOf(b.file)).instruction.image);
    for (const instr of s.instructions) {
      // (Names with variables are found when the step expands them.)
      if (instr.kind === 'COPY' && instr.from) refs.push(instr.from);
      if (instr.kind === 'RUN') for (const m of instr.mounts) if ((m.type === 'bind' || m.type === 'cache') && m.from) refs.push(m.from);
    }
    const out = new Set<number>();
    for (const r of refs) {
      const j = this.stageIndex(b, r, i);
      if (j !== undefined) out.add(j);
    }
    return [...out];
  }

  /** The stage `ref` names (its `AS` name, or its index) among those before `before`. */
  private stageIndex(b: Build, ref: string, before: number): number | undefined {
    const lower = ref.toLowerCase();
    for (let j = 0; j < before; j++) if (b.file.stages[j].name === lower) return j;
    if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
    return undefined;
  }

  private async runStage(b: Build, i: number): Promise<BuildState> {
    const stage = b.file.stages[i];
    const label = stage.name ?? String(i);
    let step = b.firstStep[i];
    b.emit({ kind: 'step', stage: label, index: step, total: b.total, instruction: stage.from.original });
    const t0 = Date.now();
    const host = formatPlatform(hostPlatform());
    const fromX = expandFrom(
      stage.from,
      (n) => (n === 'BUILDPLATFORM' || n === 'TARGETPLATFORM' ? host : b.globals.get(n)),
      contextOf(b.file),
    );
    for (const n of fromX.used) if (n in b.req.buildArgs) b.usedArgs.add(n);
    const from = fromX.instruction.image;
    const platform = fromX.instruction.platform;
    if (platform && formatPlatform(parsePlatform(platform)) !== host) {
      throw unsupported(`FROM --platform=${platform}: berth builds for this host's platform (${host}) only`);
    }
    let state: BuildState;
    const j = this.stageIndex(b, from, i);
    if (j !== undefined) state = await this.stage(b, j);
    else if (from.toLowerCase() === 'scratch') state = scratchState(hostPlatform());
    else state = await this.stateOf(b, from, 0);
    // The base image's SHELL (dockerd keeps it in the config) is the stage's until one is set.
    const shell = state.config.config?.Shell?.length ? [...state.config.config.Shell] : [...DEFAULT_SHELL];
    const run: StageRun = { stage, label, state, shell, args: new Map(), cmdSet: false };
    const triggers = state.config.config?.OnBuild;
    if (triggers?.length) {
      const parsed = triggers.map((t) => parseOnbuildTrigger(t, { file: 'ONBUILD' }));
      run.state = { ...run.state, config: { ...run.state.config, config: { ...run.state.config.config, OnBuild: null } } };
      b.emit({ kind: 'note', text: `# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}` });
      for (const instr of parsed) await this.instruction(b, run, instr, step);
    }
    // As dockerd: FROM's step ends after the base image's triggers, with the image they made.
    b.emit({ kind: 'done', stage: label, index: step, id: shortId(run.state), ms: Date.now() - t0 });
    for (const instr of stage.instructions) {
      step++;
      if (b.req.signal?.aborted) throw b.req.signal.reason ?? new BerthError('system', 'the build was cancelled');
      if (b.failed) throw new BerthError('system', 'cancelled: another stage of the build failed');
      b.emit({ kind: 'step', stage: label, index: step, total: b.total, instruction: instr.original });
      const start = Date.now();
      await this.instruction(b, run, instr, step);
      b.emit({ kind: 'done', stage: label, index: step, id: shortId(run.state), ms: Date.now() - start });
    }
    return run.state;
  }

  /** Expands a word with `lookup` (a global ARG's default), recording which build args it read. */
  private expand(b: Build, word: string, lookup: (name: string) => string | undefined): string {
    const r = processWord(word, lookup, { escape: b.file.directives.escape });
    for (const n of r.matched) if (n in b.req.buildArgs) b.usedArgs.add(n);
    return r.word;
  }

  /** The stage's variables as expansion sees them: its ENV over its ARGs. */
  private lookup(run: StageRun): (name: string) => string | undefined {
    const env = new Map((run.state.config.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf('=') >>> 0), e.slice(e.indexOf('=') + 1)]));
    return (n) => env.get(n) ?? run.args.get(n);
  }

  /** Build args in the stage's scope with a value and no ENV of the same name, sorted: RUN's environment and key. */
  private argEnv(run: StageRun): [string, string][] {
    const env = new Set((run.state.config.config?.Env ?? []).map((e) => e.split('=', 1)[0]));
    return [...run.args]
      .filter((kv): kv is [string, string] => kv[1] !== undefined && !env.has(kv[0]))
      .sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0));
  }

  /**
   * A step through the cache: its key is the parent state, `parts` (the instruction as
   * expanded, and whatever else it reads), and the build's `noCache`; a hit replaces `exec`.
   */
  private async cached(
    b: Build,
    parent: BuildState,
    parts: unknown[],
    description: string,
    exec: (s: BuildState) => Promise<BuildState>,
    event?: { stage: string; index: number },
    layerLine?: string,
  ): Promise<BuildState> {
    const key = cacheKey(parent, parts);
    if (!b.req.noCache) {
      const hit = await this.cache.get(key);
      if (hit) {
        if (event) b.emit({ kind: 'cached', ...event });
        return hit;
      }
    }
    const fromImage = layerLine !== undefined && !b.req.noCache ? this.fromCacheImages(await b.cacheFrom, parent, layerLine) : undefined;
    if (fromImage && event) b.emit({ kind: 'cached', ...event });
    const next = fromImage ?? (await exec(parent));
    const made = next.layers.length > parent.layers.length ? next.layers[next.layers.length - 1] : undefined;
    await this.cache.put(key, { state: next, description, ...(made ? { layer: { digest: made.digest, size: made.size } } : {}) });
    return next;
  }

  /**
   * `--cache-from`: a step that makes a layer is satisfied by an image whose history begins
   * with the parent's (every line, so every config change before it is the same), whose layers
   * begin with the parent's, and whose next line is this step's and made a layer: that layer
   * is taken.
   */
  private fromCacheImages(images: BuildState[], parent: BuildState, line: string): BuildState | undefined {
    const ph = parent.config.history ?? [];
    const pd = parent.config.rootfs.diff_ids;
    for (const img of images) {
      const ih = img.config.history ?? [];
      const id = img.config.rootfs.diff_ids;
      if (ih.length <= ph.length || id.length <= pd.length) continue;
      if (!ph.every((h, k) => h.created_by === ih[k].created_by && !!h.empty_layer === !!ih[k].empty_layer)) continue;
      if (!pd.every((d, k) => d === id[k])) continue;
      const next = ih[ph.length];
      if (next.created_by !== line || next.empty_layer) continue;
      return withLayer(parent, { layer: img.layers[pd.length], diffID: id[pd.length] }, line);
    }
    return undefined;
  }

  private async instruction(b: Build, run: StageRun, raw: Instruction, index: number): Promise<void> {
    const ev = { stage: run.label, index };
    const expanded = expandInstruction(raw, this.lookup(run), contextOf(b.file));
    for (const n of expanded.used) if (n in b.req.buildArgs) b.usedArgs.add(n);
    const instr = expanded.instruction;
    const meta = async (parts: unknown[], comment: string, change: (c: ImageConfigConfig) => ImageConfigConfig) => {
      run.state = await this.cached(b, run.state, parts, comment, async (s) => withConfig(s, change, nopLine(run.shell, comment)), ev);
    };
    switch (instr.kind) {
      case 'ENV': {
        const pairs = instr.pairs.map((p) => [p.key, p.value] as const);
        const comment = `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
        await meta(['ENV', pairs], comment, (c) => {
          const env = [...(c.Env ?? [])];
          for (const [k, v] of pairs) {
            const at = env.findIndex((e) => e.split('=', 1)[0] === k);
            if (at >= 0) env[at] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          return { ...c, Env: env };
        });
        return;
      }
      case 'LABEL': {
        const pairs = instr.pairs.map((p) => [p.key, p.value] as const);
        await meta(['LABEL', pairs], `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, (c) => ({
          ...c,
          Labels: { ...c.Labels, ...Object.fromEntries(pairs) },
        }));
        return;
      }
      case 'MAINTAINER': {
        const who = instr.maintainer;
        run.state = await this.cached(
          b,
          run.state,
          ['MAINTAINER', who],
          `MAINTAINER ${who}`,
          async (s) => {
            const n = withConfig(s, (c) => c, nopLine(run.shell, `MAINTAINER ${who}`));
            return { ...n, config: { ...n.config, author: who } };
          },
          ev,
        );
        return;
      }
      case 'ARG': {
        for (const a of instr.args) {
          const given = buildArg(b.req, a.name);
          if (a.name in b.req.buildArgs) b.usedArgs.add(a.name);
          const dflt = a.default !== undefined ? a.default : b.globals.get(a.name);
          run.args.set(a.name, given ?? dflt);
          const comment = `ARG ${a.name}${a.default !== undefined ? `=${dflt}` : ''}`;
          await meta(['ARG', a.name, given ?? dflt ?? null], comment, (c) => c);
        }
        return;
      }
      case 'CMD': {
        const cmd = commandArgs(instr.command, run.shell);
        run.cmdSet = true;
        await meta(['CMD', cmd], `CMD ${goQuoteList(cmd)}`, (c) => ({ ...c, Cmd: cmd }));
        return;
      }
      case 'ENTRYPOINT': {
        const ep = commandArgs(instr.command, run.shell);
        const keepCmd = run.cmdSet;
        await meta(['ENTRYPOINT', ep, keepCmd], `ENTRYPOINT ${goQuoteList(ep)}`, (c) => ({
          ...c,
          // `ENTRYPOINT []` clears it: null in the config, as dockerd writes it.
          Entrypoint: ep.length ? ep : null,
          ...(keepCmd ? {} : { Cmd: null }),
        }));
        return;
      }
      case 'SHELL':
        run.shell = [...instr.shell];
        // The key names the config field written: a SHELL step cached when berth did not record it is not reused.
        await meta(['SHELL', instr.shell, 'Shell'], `SHELL ${goList(instr.shell)}`, (c) => ({ ...c, Shell: [...instr.shell] }));
        return;
      case 'USER': {
        const user = instr.user;
        if (!user) throw invalid('USER requires exactly one argument');
        await meta(['USER', user], `USER ${user}`, (c) => ({ ...c, User: user }));
        return;
      }
      case 'STOPSIGNAL': {
        const sig = instr.signal;
        try {
          parseSignal(sig);
        } catch {
          throw invalid(`Invalid signal: ${sig}`);
        }
        await meta(['STOPSIGNAL', sig], `STOPSIGNAL ${sig}`, (c) => ({ ...c, StopSignal: sig }));
        return;
      }
      case 'EXPOSE': {
        const ports = instr.ports;
        const keys = ports.flatMap(exposedPorts);
        await meta(['EXPOSE', ports], `EXPOSE ${ports.join(' ')}`, (c) => ({
          ...c,
          ExposedPorts: { ...c.ExposedPorts, ...Object.fromEntries(keys.map((k) => [k, {}])) },
        }));
        return;
      }
      case 'VOLUME': {
        const paths = instr.paths;
        if (paths.some((p) => !p.trim())) throw invalid('VOLUME specified can not be an empty string');
        await meta(['VOLUME', paths], `VOLUME ${goList(paths)}`, (c) => ({
          ...c,
          Volumes: { ...c.Volumes, ...Object.fromEntries(paths.map((p) => [p, {}])) },
        }));
        return;
      }
      case 'HEALTHCHECK': {
        const hc: NonNullable<ImageConfigConfig['Healthcheck']> = instr.none
          ? { Test: ['NONE'] }
          : {
              Test: instr.command.form === 'exec' ? ['CMD', ...instr.command.args] : ['CMD-SHELL', instr.command.text],
              ...(instr.interval ? { Interval: instr.interval } : {}),
              ...(instr.timeout ? { Timeout: instr.timeout } : {}),
              ...(instr.startPeriod ? { StartPeriod: instr.startPeriod } : {}),
              ...(instr.startInterval ? { StartInterval: instr.startInterval } : {}),
              ...(instr.retries ? { Retries: instr.retries } : {}),
            };
        await meta(['HEALTHCHECK', hc], healthLine(hc), (c) => ({ ...c, Healthcheck: hc }));
        return;
      }
      case 'ONBUILD':
        await meta(['ONBUILD', instr.expression], `ONBUILD ${instr.expression}`, (c) => ({
          ...c,
          OnBuild: [...(c.OnBuild ?? []), instr.expression],
        }));
        return;
      case 'WORKDIR': {
        const dir = resolveWorkdir(run.state.config.config?.WorkingDir, instr.path);
        // dockerd 20.10 writes this one with a single space after #(nop), unlike the config steps.
        const line = [...run.shell, `#(nop) WORKDIR ${dir}`].join(' ');
        run.state = await this.cached(
          b,
          run.state,
          ['WORKDIR', dir],
          `WORKDIR ${dir}`,
          async (s) => {
            // The directory is made now (as root, as the classic builder does): a layer only when it was missing.
            const layer = await this.onRoot(b, s, async (rootfs) => {
              await mkdir(await resolveInRoot(rootfs, dir, { followLast: true, escape: 'clamp' }), { recursive: true, mode: 0o755 });
            });
            const n = withLayer(s, layer, line);
            return { ...n, config: { ...n.config, config: { ...n.config.config, WorkingDir: dir } } };
          },
          ev,
        );
        return;
      }
      case 'RUN':
        await this.runStep(b, run, instr, ev);
        return;
      case 'COPY':
      case 'ADD':
        await this.copyStep(b, run, instr, ev);
        return;
    }
  }

  private async runStep(
    b: Build,
    run: StageRun,
    instr: Extract<Instruction, { kind: 'RUN' }>,
    ev: { stage: string; index: number },
  ): Promise<void> {
    const { args, script } = runArgs(instr, run.shell);
    const argEnv = this.argEnv(run);
    for (const [k] of argEnv) if (k in b.req.buildArgs) b.usedArgs.add(k);
    const proxies = PROXY_ARGS.map((k) => [k, buildArg(b.req, k)] as const).filter(
      (kv): kv is [string, string] => kv[1] !== undefined && !run.args.has(kv[0]),
    );
    const network = instr.network && instr.network !== 'default' ? instr.network : b.req.network || 'default';
    const line = runLine(args, argEnv);
    const stageIndex = b.file.stages.indexOf(run.stage);
    const mounts = await prepareMounts(instr.mounts, {
      cacheDir: this.mountsDir,
      secretsDir: this.opts.secretsDir,
      tmpDir: join(this.opts.dir, 'tmp'),
      req: b.req,
      rootOf: async (from) => {
        const state = await this.stateOf(b, from, stageIndex);
        return { ...(await this.mountState(state)), digest: stateDigest(state) };
      },
    });
    let scriptDir: string | undefined;
    try {
      if (script) {
        // BuildKit's RUN <<EOF with a #! line: the body is a file (0755) of a read-only folder
        // mounted for the step, and the shell is given its path.
        scriptDir = join(this.opts.dir, 'tmp', randomBytes(8).toString('hex'));
        await mkdir(scriptDir, { recursive: true, mode: 0o755 });
        await writeFile(join(scriptDir, posix.basename(script.path)), script.content, { mode: 0o755 });
        mounts.mounts.push({ type: 'bind', source: scriptDir, target: posix.dirname(script.path), readonly: true });
      }
      run.state = await this.cached(
        b,
        run.state,
        ['RUN', args, argEnv, network, b.req.extraHosts ?? [], mounts.key, script?.content ?? null],
        `RUN ${instr.original.replace(/^RUN\s+/i, '')}`,
        (s) =>
          b.limiter.run(async () => {
            const cfg = s.config.config ?? {};
            const layer = await this.withImage(s, async (image) => {
              const outcome = await this.opts.runner.run(
                {
                  image,
                  args,
                  env: [...[...argEnv, ...proxies].map(([k, v]) => `${k}=${v}`), ...mounts.env],
                  user: cfg.User ?? '',
                  workdir: cfg.WorkingDir || '/',
                  network,
                  mounts: mounts.mounts,
                  extraHosts: b.req.extraHosts ?? [],
                  resources: b.req.resources ?? {},
                  signal: b.req.signal,
                  onOutput: (data) => b.emit({ kind: 'output', ...ev, data }),
                },
                (key, engineMade) => this.commitSnapshot(b, key, engineMade),
              );
              if (outcome.exitCode !== 0) {
                throw new StepError(`The command '${args.join(' ')}' returned a non-zero code: ${outcome.exitCode}`, outcome.exitCode);
              }
              return outcome.result;
            });
            return withLayer(s, layer, line);
          }),
        ev,
        line,
      );
    } finally {
      if (scriptDir) await rm(scriptDir, { recursive: true, force: true });
      await mounts.release();
    }
  }

  /** The state `from` names: an earlier stage (by name or index), else an image (pulled when absent). */
  private async stateOf(b: Build, from: string, before: number): Promise<BuildState> {
    const j = this.stageIndex(b, from, before);
    if (j !== undefined) return this.stage(b, j);
    const id = await this.opts.resolveImage(from, {
      pull: b.req.pull,
      note: (text) => b.emit({ kind: 'note', text }),
      credentials: b.req.registryAuth,
    });
    const img = await this.opts.store.resolve(id);
    return { config: img.config, layers: img.manifest.layers.map(toOciLayer) };
  }

  /** A read-only use of a state's root: a snapshot mounted until `release`. */
  private async mountState(state: BuildState): Promise<{ rootfs: string; release: () => Promise<void> }> {
    let done!: () => void;
    const released = new Promise<void>((r) => (done = r));
    let ready!: (v: string) => void;
    let failed!: (e: unknown) => void;
    const rootfs = new Promise<string>((res, rej) => ((ready = res), (failed = rej)));
    const held = this.withImage(state, async (image) => {
      const key = `build-src-${randomBytes(8).toString('hex')}`;
      const info = await this.opts.snapshots.prepare(key, this.opts.store, image);
      try {
        ready(info.rootfs);
        await released;
      } finally {
        await this.opts.snapshots.remove(key);
      }
    }).catch(failed);
    return {
      rootfs: await rootfs,
      release: async () => {
        done();
        await held;
      },
    };
  }

  private async copyStep(
    b: Build,
    run: StageRun,
    instr: Extract<Instruction, { kind: 'COPY' | 'ADD' }>,
    ev: { stage: string; index: number },
  ): Promise<void> {
    if (instr.kind === 'ADD' && instr.keepGitDir) throw unsupported('ADD --keep-git-dir: git sources are not supported by berth');
    const parents = instr.kind === 'COPY' && instr.parents;
    const exclude = excludeMatcher(instr);
    // --exclude as BuildKit applies it: to what is under each source, relative to it (to the
    // source root, or the `/./` pivot, with --parents, where the matches themselves are tested too).
    const excluded: Excluded | undefined = exclude && ((m, inside) => exclude.matches(parents && m.rel ? `${m.rel}/${inside}` : inside));
    const from = instr.kind === 'COPY' && instr.from ? instr.from : undefined;
    const fromState = from !== undefined ? await this.stateOf(b, from, b.file.stages.indexOf(run.stage)) : undefined;
    const sources = instr.sources.map((s) => (s.kind === 'heredoc' ? `<<${s.heredoc.name}` : s.path));
    const wd = run.state.config.config?.WorkingDir || '/';
    const rawDest = instr.dest;
    const dest = rawDest.startsWith('/') ? rawDest : `${wd.replace(/\/$/, '')}/${rawDest}`.replace(/\/\.\/?$/, '/').replace(/\/\.$/, '/');
    const chown = instr.chown;
    const chmod = instr.chmod !== undefined ? parseChmod(instr.chmod) : undefined;
    const fromKey =
      fromState && instr.sources.every((s) => s.kind !== 'heredoc')
        ? [
            instr.kind,
            from,
            stateDigest(fromState),
            sources,
            'paths of the state',
            dest,
            chown ?? null,
            chmod ?? null,
            instr.exclude,
            parents,
          ]
        : undefined;
    // The key of a copy of what was read (content and metadata of exactly the files matched).
    const readKey = (digest: string, archives: number) => [
      instr.kind,
      from ?? null,
      fromState ? stateDigest(fromState) : null,
      sources,
      digest,
      dest,
      chown ?? null,
      chmod ?? null,
      archives,
      instr.exclude,
      parents,
    ];
    const work = async (srcRoot: SourceRoot) => {
      const tmp = join(this.opts.dir, 'tmp', randomBytes(8).toString('hex'));
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      try {
        const matches: Match[] = [];
        const remote = new Set<Match>();
        for (const s of instr.sources) {
          if (s.kind === 'heredoc') {
            matches.push(await heredocSource(tmp, s.heredoc));
            continue;
          }
          const src = s.path;
          if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src) || isGitSource(src)) {
            if (instr.kind === 'COPY') throw invalid(`source can't be a URL for COPY`);
            if (!/^https?:\/\//i.test(src) || isGitSource(src)) {
              throw unsupported(
                `ADD ${src}: git sources are not supported by berth (it does not clone repositories); clone it into the context and COPY it`,
              );
            }
            const r = await remoteSource(tmp, src, instr.checksum).catch((e: unknown) => {
              if (e instanceof BerthError) e.message = `ADD failed: ${e.message}`;
              throw e;
            });
            remote.add(r);
            matches.push(r);
            continue;
          }
          const found = parents ? await findParentsSources(srcRoot, src) : await findSources(srcRoot, src);
          // dockerd's words (its copier's, prefixed by the instruction): a pattern that matches nothing is no file at all.
          if (!found.length && /[*?[]/.test(src)) throw notFound(`${instr.kind} failed: no source files were specified`);
          if (!found.length) {
            throw notFound(
              `${instr.kind} failed: file not found in ${srcRoot.name} or excluded by .dockerignore: stat ${src}: file does not exist`,
            );
          }
          // A wildcard's matches are themselves tested against --exclude (by name; with --parents, by path).
          if (exclude && (parents || /[*?[\\]/.test(src))) {
            matches.push(...found.filter((m) => !exclude.matches(parents ? m.rel : posix.basename(m.rel))));
          } else matches.push(...found);
        }
        if (instr.kind === 'ADD' && instr.checksum && !sources.every((x) => /^https?:\/\//i.test(x))) {
          throw invalid("checksum can't be specified for non-HTTP(S) sources");
        }
        if (matches.length > 1 && !dest.endsWith('/') && !parents) {
          throw invalid(`When using ${instr.kind} with more than one source file, the destination must be a directory and end with a /`);
        }
        // ADD unpacks local archives (found by content) into the destination, and a remote one
        // only with --unpack=true; --unpack=false unpacks none.
        const archives = new Set<Match>();
        if (instr.kind === 'ADD' && instr.unpack !== false) {
          for (const m of matches) {
            const local = !m.host.startsWith(`${tmp}/`); // not a heredoc's or a download's file
            if ((local || (remote.has(m) && instr.unpack === true)) && (await isArchive(m.host, m.st))) archives.add(m);
          }
        }
        const { digest, kind } = await digestSources(matches, excluded);
        // The destination as written (expanded, not resolved against WORKDIR), as dockerd's line has it.
        const line = copyLine(run.shell, instr.kind, `${kind}:${digest}`, rawDest);
        run.state = await this.cached(
          b,
          run.state,
          fromKey ?? readKey(digest, archives.size),
          `${instr.kind} ${sources.join(' ')} ${dest}`,
          (s) =>
            b.limiter.run(async () => {
              const layer = await this.onRoot(b, s, async (rootfs) => {
                const owner = chown ? await lookupOwner(rootfs, chown) : { uid: 0, gid: 0 };
                const plain = matches.filter((m) => !archives.has(m));
                const o = { owner, mode: chmod, excluded };
                // --parents: each match goes to its path under the destination.
                if (parents) {
                  for (const m of plain)
                    await copyInto(rootfs, `${posix.join(dest, m.st.isDirectory() ? m.rel : posix.dirname(m.rel))}/`, [m], o);
                } else if (plain.length) await copyInto(rootfs, dest, plain, o);
                let n = 0;
                // An archive's entries keep their owners unless --chown says otherwise.
                for (const m of archives) {
                  const dir = await extractedSource(tmp, m, n++);
                  await copyInto(rootfs, dest.endsWith('/') ? dest : `${dest}/`, [dir], {
                    owner: chown ? owner : undefined,
                    mode: chmod,
                    excluded,
                  });
                }
              });
              return withLayer(s, layer, line);
            }),
          ev,
          line,
        );
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    };
    if (!fromState) {
      // A context not yet written to disk: the step's key from its index, and the files written
      // only when the cache has no such step.
      const index = b.req.contextIndex;
      if (index && !index.materialized && !b.req.noCache && instr.kind === 'COPY' && !parents) {
        const digest = indexedDigest(index, instr.sources, exclude, dest);
        const hit = digest !== undefined && (await this.cache.get(cacheKey(run.state, readKey(await digest, 0))));
        if (hit) {
          b.emit({ kind: 'cached', ...ev });
          run.state = hit;
          return;
        }
      }
      await index?.materialize();
      return work({ dir: b.req.contextDir, escape: 'refuse', name: 'build context' });
    }
    // A stage's or image's files are fixed by its state (its layers are content-addressed), so
    // a copy of paths from it is keyed by that state and the paths, and a hit needs no mount.
    // (A heredoc's content is in no such part: it keeps the key of what was read.)
    if (fromKey && !b.req.noCache) {
      const hit = await this.cache.get(cacheKey(run.state, fromKey));
      if (hit) {
        b.emit({ kind: 'cached', ...ev });
        run.state = hit;
        return;
      }
    }
    // A stage's or image's files are read from a snapshot of it, mounted for the copy.
    const src = await this.mountState(fromState);
    try {
      await work({ dir: src.rootfs, escape: 'clamp', name: `image or stage ${from}` });
    } finally {
      await src.release();
    }
  }

  /**
   * Runs `fn` on a writable snapshot of `state` mounted for the builder itself (no container),
   * and commits what it changed as a layer (undefined when it changed nothing).
   */
  private async onRoot(
    b: Build,
    state: BuildState,
    fn: (rootfs: string) => Promise<void>,
  ): Promise<{ layer: Descriptor; diffID: string } | undefined> {
    return this.withImage(state, async (image) => {
      const key = `build-${randomBytes(8).toString('hex')}`;
      const info = await this.opts.snapshots.prepare(key, this.opts.store, image);
      try {
        await fn(info.rootfs);
        // Nothing is left out of this layer: its upper dir becomes the layer the next step mounts.
        return await this.commitSnapshot(b, key, () => false, true);
      } finally {
        await this.opts.snapshots.remove(key);
      }
    });
  }

  /** The snapshot's changes as a layer, pinned until the cache takes it; undefined when there are none. */
  private async commitSnapshot(b: Build, key: string, engineMade: (path: string) => boolean, adopt = false) {
    if (!(await this.opts.snapshots.hasChanges(key, engineMade))) return undefined;
    const { layer, diffID, unpin } = await this.opts.snapshots.commitLayer(
      key,
      this.opts.store,
      adopt ? { adopt } : { exclude: engineMade },
    );
    // The cache entry made right after pins it for good; until the build ends this pin holds it.
    b.unpins.push(unpin);
    return { layer, diffID };
  }

  /**
   * Runs `fn` with `state` recorded as an image of the store (the engine's containers and the
   * snapshotter start from images), and removes that image after. Its config carries a history
   * line of its own, so it is no other image.
   */
  private async withImage<T>(state: BuildState, fn: (image: string) => Promise<T>): Promise<T> {
    const config = {
      ...state.config,
      history: [...(state.config.history ?? []), { created_by: `berth build step ${randomBytes(8).toString('hex')}`, empty_layer: true }],
    };
    const manifest = await this.opts.store.createImage(undefined, config, state.layers);
    const id = (await this.opts.store.readManifest(manifest.digest)).config.digest;
    try {
      return await fn(id);
    } finally {
      await this.opts.store
        .delete(id)
        .catch((e) => this.opts.log?.('warn', `removing the build's step image ${id.slice(7, 19)}: ${errorMessage(e)}`));
    }
  }

  /** `system df`'s build cache: the steps' entries and the cache mounts. */
  async records(): Promise<BuildCacheRecord[]> {
    const out = await this.cache.records();
    for (const m of await this.cacheMounts()) {
      out.push({
        ID: m.name.slice(0, 25),
        Type: 'exec.cachemount',
        Description: 'cache mount (RUN --mount=type=cache)',
        InUse: cacheMountInUse(m.dir),
        Shared: false,
        Size: await dirSize(m.dir),
        CreatedAt: m.created,
        LastUsedAt: m.used,
        UsageCount: 0,
      });
    }
    return out;
  }

  private async cacheMounts(): Promise<{ name: string; dir: string; created: string; used: string }[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.mountsDir);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    const out = [];
    for (const name of names) {
      const st = await lstat(join(this.mountsDir, name));
      out.push({ name, dir: join(this.mountsDir, name), created: st.birthtime.toISOString(), used: st.mtime.toISOString() });
    }
    return out;
  }

  /** `/build/prune`: the entries and cache mounts `keep` refuses (all by default), but for mounts in use. */
  async prune(keep: (r: BuildCacheRecord) => boolean = () => false): Promise<{ deleted: string[]; reclaimed: number }> {
    const r = await this.cache.prune(keep);
    for (const rec of await this.records()) {
      if (rec.Type !== 'exec.cachemount' || rec.InUse || keep(rec)) continue;
      const m = (await this.cacheMounts()).find((x) => x.name.startsWith(rec.ID));
      if (!m) continue;
      await rm(m.dir, { recursive: true, force: true });
      r.deleted.push(rec.ID);
      r.reclaimed += rec.Size;
    }
    return r;
  }

  /** Where cache mounts live. */
  get mountsDir(): string {
    return join(this.opts.dir, 'mounts');
  }
}

/** A build arg's value as the request gives it: null takes berthd's environment, as dockerd does. */
function buildArg(req: BuildRequest, name: string): string | undefined {
  if (!(name in req.buildArgs)) return undefined;
  const v = req.buildArgs[name];
  return v === null ? process.env[name] : v;
}

/** A step's cache key: its parent state and `parts`, what else its result depends on. */
function cacheKey(parent: BuildState, parts: unknown[]): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify([stateDigest(parent), ...parts]))
    .digest('hex')}`;
}

function shortId(s: BuildState): string {
  return createHash('sha256').update(JSON.stringify(s.config)).digest('hex').slice(0, 12);
}

/** CMD/ENTRYPOINT/RUN's argv: the exec form as is, the shell form given to the stage's SHELL. */
function commandArgs(c: CommandLine, shell: string[]): string[] {
  return c.form === 'exec' ? [...c.args] : [...shell, c.text];
}

/**
 * RUN's argv: the exec form as is, the shell form (heredocs as BuildKit gives them) to the
 * stage's SHELL; `script`: a `#!` heredoc's file, which the argv runs by its path.
 */
function runArgs(
  instr: Extract<Instruction, { kind: 'RUN' }>,
  shell: string[],
): { args: string[]; script?: { path: string; content: string } } {
  const input = runShellInput(instr);
  if (!input) return { args: commandArgs(instr.command, shell) };
  if (input.kind === 'file') return { args: [...shell, input.path], script: { path: input.path, content: input.content } };
  return { args: [...shell, input.text] };
}

/** WORKDIR relative to the current one. */
function resolveWorkdir(current: string | undefined, path: string): string {
  if (!path) throw invalid('WORKDIR requires exactly one argument');
  const joined = path.startsWith('/') ? path : `${current || '/'}/${path}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (!p || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/** EXPOSE's word → ExposedPorts keys: `80` is `80/tcp`, a range every port of it. */
function exposedPorts(p: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
  // dockerd's words (nat.ParsePortSpecs): a port with a protocol it does not know names the protocol.
  const given = /^\d+(?:-\d+)?\/(.*)$/.exec(p);
  if (!m && given) throw invalid(`Invalid proto: ${given[1]}`);
  if (!m) throw invalid(`invalid containerPort: ${p}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (hi < lo || hi > 65535) throw invalid(`invalid port range: ${p}`);
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) out.push(`${n}/${proto}`);
  return out;
}

/** COPY/ADD --exclude's patterns (.dockerignore's syntax, `**` and `!` included); undefined without any. */
function excludeMatcher(instr: Extract<Instruction, { kind: 'COPY' | 'ADD' }>): DockerignoreMatcher | undefined {
  if (!instr.exclude.length) return undefined;
  try {
    return new DockerignoreMatcher(instr.exclude);
  } catch (e) {
    throw invalid(`${instr.kind} --exclude: ${errorMessage(e).replace(/^\.dockerignore: /, '')}`);
  }
}

/**
 * The digest `digestSources` gives COPY's `sources` (paths in the context), from the context's
 * index, found and filtered as the disk's walk finds them; undefined where the step must read
 * the files to know (a heredoc, a URL, no match: the disk's walk then gives its answer or error).
 */
function indexedDigest(
  index: ContextIndex,
  sources: Extract<Instruction, { kind: 'COPY' | 'ADD' }>['sources'],
  exclude: DockerignoreMatcher | undefined,
  dest: string,
): Promise<string> | undefined {
  const matches: IndexMatch[] = [];
  for (const s of sources) {
    if (s.kind === 'heredoc' || /^[a-z][a-z0-9+.-]*:\/\//i.test(s.path) || isGitSource(s.path)) return undefined;
    const found = index.find(s.path, globRegex);
    if (!found.length) return undefined;
    matches.push(...(exclude && /[*?[\\]/.test(s.path) ? found.filter((m) => !exclude.matches(posix.basename(m.rel))) : found));
  }
  if (matches.length > 1 && !dest.endsWith('/')) return undefined; // (refused by the disk's walk)
  return digestTree(index, matches, exclude && ((_m, inside) => exclude.matches(inside))).then((d) => d.digest);
}

/** A git source as BuildKit's ADD recognizes one: git@…, git://…, or a URL ending in .git (with a #ref). */
function isGitSource(src: string): boolean {
  return /^git@|^git:\/\/|^ssh:\/\//i.test(src) || /^https?:\/\/[^#]*\.git(#.*)?$/i.test(src);
}

/** `--chmod`: octal only (what the classic builder and BuildKit's stable syntax take). */
function parseChmod(s: string): number {
  if (!/^[0-7]{3,4}$/.test(s)) throw invalid(`invalid chmod parameter: ${s}: give an octal mode such as 755`);
  return parseInt(s, 8);
}
