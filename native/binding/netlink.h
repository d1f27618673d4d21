/* A container's endpoint on a bridge, or on a macvlan or ipvlan network's parent, made and
 * undone through rtnetlink (netlink.c), called by binding.c on a thread of its own: the attach
 * moves that thread into the container's network namespace. Every value (names, addresses, MAC,
 * routes, modes) is chosen by the caller. */
#ifndef BERTH_NETLINK_H
#define BERTH_NETLINK_H

struct bridge_attach {
  const char *netns;   /* path of the container's pinned network namespace */
  const char *bridge;  /* the host bridge, made (up, MAC fixed) when missing */
  const char *bridge_mac; /* the MAC a new bridge gets ("aa:bb:…") */
  const char *host;    /* the veth's host end, on the bridge, hairpin on */
  const char *ifname;  /* its peer in the container (eth0) */
  const char *mac;     /* the peer's MAC */
  unsigned mtu;        /* 0: the kernel's default */
  char **gateways;     /* "ip/prefix" set on the bridge (NULL-terminated) */
  char **addresses;    /* "ip/prefix" set on the peer */
  char **routes;       /* "dst/prefix gw" in the container; "dst/prefix" alone: on the link, no gateway */
  char **sysctls;      /* "/proc/sys/... path=value" written in the container's namespace before the peer is up */
  /* A macvlan or ipvlan endpoint: `kind` ("macvlan" or "ipvlan") made on the host's link
   * `parent` directly in the container's namespace as `ifname` (no bridge, no veth; `bridge`,
   * `bridge_mac`, `host` and `gateways` unused); NULL for a veth on the bridge. */
  const char *kind;
  const char *parent;
  unsigned mode;  /* IFLA_MACVLAN_MODE, or IFLA_IPVLAN_MODE */
  unsigned flags; /* IFLA_IPVLAN_FLAGS */
  /* out: on failure, the errno and what failed ("create veth vethab12 (peer eth0)") */
  int err;
  char what[320];
};

/* 0, or -1 with a->err and a->what set. Leaves the calling thread in the container's
 * namespace once it got there: the caller's thread must end after it. */
int bridge_attach(struct bridge_attach *a);

/* The container's default routes: every IPv4 and IPv6 default route of its namespace deleted,
 * then `routes` ("dst/prefix gw dev") added; 0, or -1 with a->err and a->what set (only
 * netns, routes, err and what are read). Leaves the calling thread in that namespace, as
 * bridge_attach. */
int set_default_routes(struct bridge_attach *a);

/* Deletes the link `name` of the caller's namespace, or of the namespace at `netns` (joined by
 * the calling thread, which must end after it) when not NULL; 0 when gone already, the
 * namespace too (1 when deleted), -1 with *err and what set. */
int link_delete(const char *name, const char *netns, int *err, char *what, unsigned what_len);

/* Makes the host's link `name` of `kind` ("dummy", or "vlan" on `parent` with `vlan_id`) and
 * sets it up: the parent of a macvlan or ipvlan network that dockerd would make. 0, or -1 with
 * *err and what set (EEXIST when a link of that name is there). */
int link_add(const char *kind, const char *name, const char *parent, unsigned vlan_id, int *err, char *what, unsigned what_len);

/* Deletes the host's conntrack entries of UDP flows of `family` (AF_INET or AF_INET6) to any of
 * the `n` destination ports, through NETLINK_NETFILTER: 0 with *deleted set, or -1 with *err and
 * what set. */
int conntrack_delete_udp(int family, const unsigned short *ports, int n, int *deleted, int *err, char *what, unsigned what_len);

#endif
