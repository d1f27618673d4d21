/* A bridge endpoint through rtnetlink: what CNI's bridge plugin did (for berth's config: a
 * gateway bridge, hairpin on, no masquerade) in a dozen netlink messages on one thread, where
 * the plugin and its IPAM were two programs of ~8 ms each to start. The bridge is made when
 * missing (up, its MAC fixed so it does not follow its ports, its gateway addresses set,
 * forwarding on); a veth pair is made with its host end up on the bridge and its peer made
 * directly in the container's namespace; the host end gets hairpin; the thread then joins the
 * container's namespace and sets the peer's addresses and the endpoint's sysctls, brings it up and
 * adds the routes. IPv6 addresses are added without DAD (dockerd's way: the addresses are
 * berthd's leases). set_default_routes moves a container's default routes to the endpoint that
 * gives its gateway now (a network connected or disconnected while it runs). A macvlan or ipvlan
 * endpoint is one link, made on its parent directly in the container's namespace, then set as a
 * veth's peer is; link_add makes the dummy or VLAN parent such a network may need.
 * conntrack_delete_udp deletes the host's UDP flows to newly published ports (NETLINK_NETFILTER). */
#define _GNU_SOURCE
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

struct msg {
  union {
    struct nlmsghdr h;
    char buf[2048];
  } u;
  int overflow;
};

static void msg_init(struct msg *m, int type, int flags) {
  memset(&m->u.h, 0, sizeof m->u.h);
  m->u.h.nlmsg_len = NLMSG_LENGTH(0);
  m->u.h.nlmsg_type = type;
  m->u.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  m->overflow = 0;
}

/* Appends `len` bytes (a header struct or an attribute's payload), aligned. */
static void *msg_put(struct msg *m, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(m->u.h.nlmsg_len);
  if (at + NLMSG_ALIGN(len) > sizeof m->u.buf) { m->overflow = 1; return NULL; }
  void *p = m->u.buf + at;
  memset(p, 0, NLMSG_ALIGN(len));
  if (data) memcpy(p, data, len);
  m->u.h.nlmsg_len = at + len;
  return p;
}

static struct rtattr *attr(struct msg *m, int type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(m->u.h.nlmsg_len);
  if (at + RTA_SPACE(len) > sizeof m->u.buf) { m->overflow = 1; return NULL; }
  struct rtattr *a = (struct rtattr *)(m->u.buf + at);
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memset(RTA_DATA(a), 0, RTA_ALIGN(len));
  if (len) memcpy(RTA_DATA(a), data, len);
  m->u.h.nlmsg_len = at + RTA_ALIGN(a->rta_len);
  return a;
}

static void attr_str(struct msg *m, int type, const char *s) { attr(m, type, s, strlen(s) + 1); }
static void attr_u32(struct msg *m, int type, unsigned v) { attr(m, type, &v, sizeof v); }
static void attr_u8(struct msg *m, int type, unsigned char v) { attr(m, type, &v, 1); }
static void attr_u16(struct msg *m, int type, unsigned short v) { attr(m, type, &v, sizeof v); }

/* A nested attribute: opened, then closed once its content is in. */
static struct rtattr *nest(struct msg *m, int type) { return attr(m, type, NULL, 0); }
static void nest_end(struct msg *m, struct rtattr *n) {
  if (n) n->rta_len = (unsigned short)(m->u.buf + m->u.h.nlmsg_len - (char *)n);
}

static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  /* The kernel answers at once; a bound on the wait keeps a stuck kernel from holding the thread. */
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends the request and waits for its acknowledgement: 0, or the errno the kernel answered. */
static int nl_talk(int fd, struct msg *m) {
  static __thread unsigned seq;
  if (m->overflow) return E2BIG;
  m->u.h.nlmsg_seq = ++seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &m->u.h, m->u.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != m->u.h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      return -e->error;
    }
  }
}

static struct ifinfomsg *link_msg(struct msg *m, int type, int flags, int family, int index) {
  msg_init(m, type, flags);
  struct ifinfomsg *i = msg_put(m, NULL, sizeof *i);
  if (i) {
    i->ifi_family = family;
    i->ifi_index = index;
  }
  return i;
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* "ip/prefix" (and for routes " gw") parsed: family, bytes, prefix; -1 when malformed. */
struct cidr {
  int family, prefix;
  unsigned char addr[16];
};
static int parse_cidr(const char *s, struct cidr *c, const char **rest) {
  char ip[64];
  const char *slash = strchr(s, '/');
  if (!slash || (size_t)(slash - s) >= sizeof ip) return -1;
  memcpy(ip, s, slash - s);
  ip[slash - s] = 0;
  c->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(c->family, ip, c->addr) != 1) return -1;
  char *end;
  long p = strtol(slash + 1, &end, 10);
  if (end == slash + 1 || p < 0 || p > (c->family == AF_INET ? 32 : 128)) return -1;
  c->prefix = (int)p;
  if (rest) *rest = end;
  return 0;
}
static size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

/* A bare address (a route's gateway). */
static int parse_addr(const char *s, struct cidr *c) {
  c->family = strchr(s, ':') ? AF_INET6 : AF_INET;
  c->prefix = c->family == AF_INET ? 32 : 128;
  return inet_pton(c->family, s, c->addr) == 1 ? 0 : -1;
}

/* RTM_NEWADDR of `c` on link `index`; v4 with its broadcast (as `ip addr add … brd +`), v6
 * without DAD. */
static int add_address(int fd, int index, const struct cidr *c) {
  struct msg m;
  msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *a = msg_put(&m, NULL, sizeof *a);
  if (!a) return E2BIG;
  a->ifa_family = c->family;
  a->ifa_prefixlen = c->prefix;
  a->ifa_scope = RT_SCOPE_UNIVERSE;
  a->ifa_index = index;
  if (c->family == AF_INET6) a->ifa_flags = IFA_F_NODAD;
  size_t len = addr_len(c->family);
  attr(&m, IFA_LOCAL, c->addr, len);
  attr(&m, IFA_ADDRESS, c->addr, len);
  if (c->family == AF_INET && c->prefix < 31) {
    unsigned char brd[4];
    unsigned host = c->prefix ? 0xffffffffu >> c->prefix : 0xffffffffu;
    for (int i = 0; i < 4; i++) brd[i] = c->addr[i] | ((host >> (24 - 8 * i)) & 0xff);
    attr(&m, IFA_BROADCAST, brd, 4);
  }
  if (c->family == AF_INET6) attr_u32(&m, IFA_FLAGS, IFA_F_NODAD);
  return nl_talk(fd, &m);
}

/* Writes "1" to a /proc/sys file unless it holds it already; `value` "0" likewise. */
static int sysctl_set(const char *path, const char *value) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno;
  char have[8] = "";
  ssize_t n = read(fd, have, sizeof have - 1);
  int e = 0;
  if (n < 0) e = errno;
  else if (!(n >= 1 && have[0] == value[0] && (n == 1 || have[1] == '\n')) && pwrite(fd, value, 1, 0) != 1) e = errno;
  close(fd);
  return e;
}

static int fail(struct bridge_attach *a, int e, const char *fmt, const char *x, const char *y) {
  a->err = e ? e : EIO;
  snprintf(a->what, sizeof a->what, fmt, x, y);
  return -1;
}

/* The bridge: made up with its MAC fixed (a bridge otherwise takes its lowest port's, which
 * changes as containers come and go), or brought up when it exists; its ifindex. */
static int ensure_bridge(int fd, struct bridge_attach *a, int *index) {
  unsigned char mac[6];
  if (parse_mac(a->bridge_mac, mac) < 0) return fail(a, EINVAL, "bridge MAC %s%s", a->bridge_mac, "");
  struct msg m;
  struct ifinfomsg *i = link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
  if (!i) return fail(a, E2BIG, "create bridge %s%s", a->bridge, "");
  i->ifi_flags = IFF_UP;
  i->ifi_change = IFF_UP;
  attr_str(&m, IFLA_IFNAME, a->bridge);
  if (a->mtu) attr_u32(&m, IFLA_MTU, a->mtu);
  attr(&m, IFLA_ADDRESS, mac, 6);
  struct rtattr *info = nest(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, "bridge");
  nest_end(&m, info);
  int e = nl_talk(fd, &m);
  if (e && e != EEXIST) return fail(a, e, "create bridge %s%s", a->bridge, "");
  *index = (int)if_nametoindex(a->bridge);
  if (!*index) return fail(a, errno, "find bridge %s%s", a->bridge, "");
  if (e == EEXIST) {
    i = link_msg(&m, RTM_NEWLINK, 0, AF_UNSPEC, *index);
    if (!i) return fail(a, E2BIG, "set bridge %s up%s", a->bridge, "");
    i->ifi_flags = IFF_UP;
    i->ifi_change = IFF_UP;
    if ((e = nl_talk(fd, &m))) return fail(a, e, "set bridge %s up%s", a->bridge, "");
  }
  return 0;
}

/* "path=value": the file must be a sysctl's (a regular file under /proc/sys), written unless it
 * holds the value already (dockerd's check, so a read-only /proc/sys/net is no failure then). */
static int write_sysctl(struct bridge_attach *a, const char *spec) {
  const char *eq = strchr(spec, '=');
  char path[256];
  if (!eq || (size_t)(eq - spec) >= sizeof path) return fail(a, EINVAL, "sysctl %s%s", spec, "");
  memcpy(path, spec, eq - spec);
  path[eq - spec] = 0;
  const char *value = eq + 1;
  struct stat st;
  if (stat(path, &st) < 0) return fail(a, errno, "%s is not a sysctl file%s", path, "");
  if (!S_ISREG(st.st_mode)) return fail(a, EINVAL, "%s is not a sysctl file%s", path, "");
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(a, errno, "unable to write to '%s'%s", path, "");
  char have[256];
  ssize_t n = read(fd, have, sizeof have - 1);
  if (n < 0) {
    int e = errno;
    close(fd);
    return fail(a, e, "unable to read '%s'%s", path, "");
  }
  have[n] = 0;
  while (n > 0 && (have[n - 1] == '\n' || have[n - 1] == ' ' || have[n - 1] == '\t')) have[--n] = 0;
  const char *h = have;
  while (*h == ' ' || *h == '\t') h++;
  int e = 0;
  size_t len = strlen(value);
  if (strcmp(h, value) != 0 && pwrite(fd, value, len, 0) != (ssize_t)len) e = errno ? errno : EIO;
  close(fd);
  return e ? fail(a, e, "unable to write to '%s'%s", path, "") : 0;
}

/* Adds the route "dst/prefix gw" through link `oif` (named `dev`, for the error); "dst/prefix"
 * alone is a route on the link (scope link, as `ip route add default dev eth0`). Without
 * NLM_F_EXCL, as CNI adds them. */
static int add_route(struct bridge_attach *a, int fd, const char *spec, int oif, const char *dev) {
  struct cidr dst, gw;
  const char *rest;
  int on_link = 0;
  if (parse_cidr(spec, &dst, &rest) < 0) return fail(a, EINVAL, "route %s%s", spec, "");
  if (!*rest) on_link = 1;
  else if (*rest != ' ' || parse_addr(rest + 1, &gw) < 0 || gw.family != dst.family) return fail(a, EINVAL, "route %s%s", spec, "");
  struct msg m;
  msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE);
  struct rtmsg *rt = msg_put(&m, NULL, sizeof *rt);
  if (!rt) return fail(a, E2BIG, "route %s%s", spec, "");
  rt->rtm_family = dst.family;
  rt->rtm_dst_len = dst.prefix;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = on_link ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  if (dst.prefix) attr(&m, RTA_DST, dst.addr, addr_len(dst.family));
  if (!on_link) attr(&m, RTA_GATEWAY, gw.addr, addr_len(gw.family));
  attr_u32(&m, RTA_OIF, (unsigned)oif);
  int e = nl_talk(fd, &m);
  return e ? fail(a, e, "add route %s dev %s", spec, dev) : 0;
}

/* The macvlan or ipvlan link `a->ifname` on `a->parent` (a link of the caller's namespace), made
 * in the namespace `nsfd` names, down; an ipvlan shares its parent's MAC, so `mac` is a
 * macvlan's only. */
static int add_sub_link(int fd, struct bridge_attach *a, int nsfd, const unsigned char *mac) {
  int ipvlan = strcmp(a->kind, "ipvlan") == 0;
  if (!ipvlan && strcmp(a->kind, "macvlan") != 0) return fail(a, EINVAL, "link kind %s%s", a->kind, "");
  int parent = a->parent ? (int)if_nametoindex(a->parent) : 0;
  if (!parent) return fail(a, a->parent ? errno : EINVAL, "find the parent interface %s%s", a->parent ? a->parent : "(none)", "");
  struct msg m;
  if (!link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0)) return fail(a, E2BIG, "create %s %s", a->kind, a->ifname);
  attr_str(&m, IFLA_IFNAME, a->ifname);
  attr_u32(&m, IFLA_LINK, (unsigned)parent);
  attr_u32(&m, IFLA_NET_NS_FD, (unsigned)nsfd);
  if (a->mtu) attr_u32(&m, IFLA_MTU, a->mtu);
  if (!ipvlan) attr(&m, IFLA_ADDRESS, mac, 6);
  struct rtattr *info = nest(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, a->kind);
  struct rtattr *data = nest(&m, IFLA_INFO_DATA);
  if (ipvlan) {
    attr_u16(&m, IFLA_IPVLAN_MODE, (unsigned short)a->mode);
    attr_u16(&m, IFLA_IPVLAN_FLAGS, (unsigned short)a->flags);
  } else attr_u32(&m, IFLA_MACVLAN_MODE, a->mode);
  nest_end(&m, data);
  nest_end(&m, info);
  int e = nl_talk(fd, &m);
  if (e) {
    a->err = e;
    snprintf(a->what, sizeof a->what, "create the %s port %s on %s", a->kind, a->ifname, a->parent);
    return -1;
  }
  return 0;
}

int bridge_attach(struct bridge_attach *a) {
  int fd = -1, nsfd = -1, cfd = -1, ret = -1, e;
  struct msg m;
  struct ifinfomsg *i;
  unsigned char mac[6];
  if ((!a->kind || strcmp(a->kind, "ipvlan") != 0) && (!a->mac || parse_mac(a->mac, mac) < 0))
    return fail(a, EINVAL, "MAC %s%s", a->mac ? a->mac : "(none)", "");
  if ((fd = nl_open()) < 0) return fail(a, errno, "netlink socket%s%s", "", "");
  if (a->kind) {
    if ((nsfd = open(a->netns, O_RDONLY | O_CLOEXEC)) < 0) { fail(a, errno, "open network namespace %s%s", a->netns, ""); goto out; }
    if (add_sub_link(fd, a, nsfd, mac) < 0) goto out;
    goto inside;
  }
  int br;
  if (ensure_bridge(fd, a, &br) < 0) goto out;
  for (char **g = a->gateways; *g; g++) {
    struct cidr c;
    if (parse_cidr(*g, &c, NULL) < 0) { fail(a, EINVAL, "gateway address %s%s", *g, ""); goto out; }
    if ((e = add_address(fd, br, &c)) && e != EEXIST) { fail(a, e, "add address %s to bridge %s", *g, a->bridge); goto out; }
    const char *fwd = c.family == AF_INET ? "/proc/sys/net/ipv4/ip_forward" : "/proc/sys/net/ipv6/conf/all/forwarding";
    if ((e = sysctl_set(fwd, "1"))) { fail(a, e, "enable forwarding (%s)%s", fwd, ""); goto out; }
  }

  if ((nsfd = open(a->netns, O_RDONLY | O_CLOEXEC)) < 0) { fail(a, errno, "open network namespace %s%s", a->netns, ""); goto out; }
  /* The pair, made in one message: the host end up on the bridge, the peer (down) made in the
   * container's namespace under its final name. */
  i = link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
  if (!i) { fail(a, E2BIG, "create veth %s%s", a->host, ""); goto out; }
  i->ifi_flags = IFF_UP;
  i->ifi_change = IFF_UP;
  attr_str(&m, IFLA_IFNAME, a->host);
  if (a->mtu) attr_u32(&m, IFLA_MTU, a->mtu);
  attr_u32(&m, IFLA_MASTER, (unsigned)br);
  struct rtattr *info = nest(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest(&m, IFLA_INFO_DATA);
  struct rtattr *peer = nest(&m, VETH_INFO_PEER);
  msg_put(&m, NULL, sizeof(struct ifinfomsg));
  attr_str(&m, IFLA_IFNAME, a->ifname);
  attr_u32(&m, IFLA_NET_NS_FD, (unsigned)nsfd);
  if (a->mtu) attr_u32(&m, IFLA_MTU, a->mtu);
  attr(&m, IFLA_ADDRESS, mac, 6);
  nest_end(&m, peer);
  nest_end(&m, data);
  nest_end(&m, info);
  if ((e = nl_talk(fd, &m))) { fail(a, e, "create veth %s (its peer %s in the container)", a->host, a->ifname); goto out; }
  int host = (int)if_nametoindex(a->host);
  if (!host) { fail(a, errno, "find veth %s%s", a->host, ""); goto out; }
  /* Hairpin: a container reaches itself through a published port (CNI's hairpinMode). */
  if (!link_msg(&m, RTM_SETLINK, 0, AF_BRIDGE, host)) { fail(a, E2BIG, "hairpin on %s%s", a->host, ""); goto out; }
  struct rtattr *pi = nest(&m, IFLA_PROTINFO | NLA_F_NESTED);
  attr_u8(&m, IFLA_BRPORT_MODE, 1);
  nest_end(&m, pi);
  if ((e = nl_talk(fd, &m))) { fail(a, e, "set hairpin mode on %s%s", a->host, ""); goto out; }

  /* The container's side, from inside its namespace (this thread only: setns of a network
   * namespace is allowed in a multithreaded process). */
inside:
  if (setns(nsfd, CLONE_NEWNET) < 0) { fail(a, errno, "join network namespace %s%s", a->netns, ""); goto out; }
  if ((cfd = nl_open()) < 0) { fail(a, errno, "netlink socket in %s%s", a->netns, ""); goto out; }
  int peer_index = (int)if_nametoindex(a->ifname);
  if (!peer_index) { fail(a, errno, "find %s in %s", a->ifname, a->netns); goto out; }
  int has_v6 = 0;
  for (char **p = a->addresses; *p; p++) has_v6 |= strchr(*p, ':') != NULL;
  char path[96];
  if (has_v6) {
    /* As CNI's bridge: hairpin echoes neighbour solicitations back, so DAD is off where the
     * kernel has no enhanced DAD; IPv6 on for lo and the interface. */
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/enhanced_dad", a->ifname);
    int enh = open(path, O_RDONLY | O_CLOEXEC);
    char v[4] = "";
    if (enh >= 0) {
      if (read(enh, v, sizeof v - 1) < 0) v[0] = 0;
      close(enh);
    }
    if (v[0] != '1') {
      snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_dad", a->ifname);
      if ((e = sysctl_set(path, "0"))) { fail(a, e, "write %s%s", path, ""); goto out; }
    }
    const char *ifs[] = {"lo", a->ifname};
    for (int k = 0; k < 2; k++) {
      snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifs[k]);
      if ((e = sysctl_set(path, "0"))) { fail(a, e, "write %s%s", path, ""); goto out; }
    }
  }
  /* arp_notify: a gratuitous ARP when it comes up, so neighbours forget a reused address's old MAC. */
  if (!link_msg(&m, RTM_SETLINK, 0, AF_UNSPEC, peer_index)) { fail(a, E2BIG, "arp_notify on %s%s", a->ifname, ""); goto out; }
  struct rtattr *spec = nest(&m, IFLA_AF_SPEC);
  struct rtattr *inet = nest(&m, AF_INET);
  struct rtattr *conf = nest(&m, IFLA_INET_CONF);
  attr_u32(&m, IPV4_DEVCONF_ARP_NOTIFY, 1);
  nest_end(&m, conf);
  nest_end(&m, inet);
  nest_end(&m, spec);
  if ((e = nl_talk(cfd, &m))) { fail(a, e, "set arp_notify on %s%s", a->ifname, ""); goto out; }
  for (char **p = a->addresses; *p; p++) {
    struct cidr c;
    if (parse_cidr(*p, &c, NULL) < 0) { fail(a, EINVAL, "address %s%s", *p, ""); goto out; }
    if ((e = add_address(cfd, peer_index, &c))) { fail(a, e, "add address %s to %s", *p, a->ifname); goto out; }
  }
  /* The endpoint's sysctls (com.docker.network.endpoint.sysctls), before it is up, as dockerd sets them. */
  for (char **p = a->sysctls; *p; p++)
    if (write_sysctl(a, *p) < 0) goto out;
  i = link_msg(&m, RTM_NEWLINK, 0, AF_UNSPEC, peer_index);
  if (!i) { fail(a, E2BIG, "set %s up%s", a->ifname, ""); goto out; }
  i->ifi_flags = IFF_UP;
  i->ifi_change = IFF_UP;
  if ((e = nl_talk(cfd, &m))) { fail(a, e, "set %s up%s", a->ifname, ""); goto out; }
  for (char **r = a->routes; *r; r++)
    if (add_route(a, cfd, *r, peer_index, a->ifname) < 0) goto out;
  ret = 0;
out:
  if (cfd >= 0) close(cfd);
  if (nsfd >= 0) close(nsfd);
  if (fd >= 0) close(fd);
  return ret;
}

int set_default_routes(struct bridge_attach *a) {
  int nsfd = -1, fd = -1, ret = -1;
  if ((nsfd = open(a->netns, O_RDONLY | O_CLOEXEC)) < 0) { fail(a, errno, "open network namespace %s%s", a->netns, ""); goto out; }
  if (setns(nsfd, CLONE_NEWNET) < 0) { fail(a, errno, "join network namespace %s%s", a->netns, ""); goto out; }
  if ((fd = nl_open()) < 0) { fail(a, errno, "netlink socket in %s%s", a->netns, ""); goto out; }
  /* Each family's default routes, one a message, until none is left (IPv6 off: none to delete). */
  const int families[] = {AF_INET, AF_INET6};
  for (int f = 0; f < 2; f++) {
    for (int k = 0; k < 64; k++) {
      struct msg m;
      msg_init(&m, RTM_DELROUTE, 0);
      struct rtmsg *rt = msg_put(&m, NULL, sizeof *rt);
      if (!rt) { fail(a, E2BIG, "delete default route%s%s", "", ""); goto out; }
      rt->rtm_family = families[f];
      rt->rtm_table = RT_TABLE_MAIN;
      rt->rtm_scope = RT_SCOPE_NOWHERE;
      int e = nl_talk(fd, &m);
      if (e == ESRCH || e == ENOENT || e == EAFNOSUPPORT) break;
      if (e) { fail(a, e, "delete the default %s route in %s", families[f] == AF_INET ? "IPv4" : "IPv6", a->netns); goto out; }
    }
  }
  for (char **r = a->routes; *r; r++) {
    /* "dst/prefix gw dev" */
    const char *sp = strrchr(*r, ' ');
    char spec[128];
    if (!sp || (size_t)(sp - *r) >= sizeof spec) { fail(a, EINVAL, "route %s%s", *r, ""); goto out; }
    memcpy(spec, *r, sp - *r);
    spec[sp - *r] = 0;
    int oif = (int)if_nametoindex(sp + 1);
    if (!oif) { fail(a, errno, "find %s in %s", sp + 1, a->netns); goto out; }
    if (add_route(a, fd, spec, oif, sp + 1) < 0) goto out;
  }
  ret = 0;
out:
  if (fd >= 0) close(fd);
  if (nsfd >= 0) close(nsfd);
  return ret;
}

int link_delete(const char *name, const char *netns, int *err, char *what, unsigned what_len) {
  if (netns) {
    int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 && errno == ENOENT) return 0; /* the namespace went, and its links with it */
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
      *err = errno;
      snprintf(what, what_len, "join network namespace %s", netns);
      if (nsfd >= 0) close(nsfd);
      return -1;
    }
    close(nsfd);
  }
  int fd = nl_open();
  if (fd < 0) {
    *err = errno;
    snprintf(what, what_len, "netlink socket");
    return -1;
  }
  struct msg m;
  link_msg(&m, RTM_DELLINK, 0, AF_UNSPEC, 0);
  attr_str(&m, IFLA_IFNAME, name);
  int e = nl_talk(fd, &m);
  close(fd);
  if (e == ENODEV) return 0;
  if (e) {
    *err = e;
    snprintf(what, what_len, "delete link %s", name);
    return -1;
  }
  return 1;
}

int link_add(const char *kind, const char *name, const char *parent, unsigned vlan_id, int *err, char *what, unsigned what_len) {
  int vlan = strcmp(kind, "vlan") == 0;
  if (!vlan && strcmp(kind, "dummy") != 0) {
    *err = EINVAL;
    snprintf(what, what_len, "link kind %s", kind);
    return -1;
  }
  int index = vlan && parent ? (int)if_nametoindex(parent) : 0;
  if (vlan && !index) {
    *err = parent ? errno : EINVAL;
    snprintf(what, what_len, "find master interface %s", parent ? parent : "(none)");
    return -1;
  }
  int fd = nl_open();
  if (fd < 0) {
    *err = errno;
    snprintf(what, what_len, "netlink socket");
    return -1;
  }
  struct msg m;
  struct ifinfomsg *i = link_msg(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
  if (i) {
    i->ifi_flags = IFF_UP;
    i->ifi_change = IFF_UP;
  }
  attr_str(&m, IFLA_IFNAME, name);
  if (vlan) attr_u32(&m, IFLA_LINK, (unsigned)index);
  struct rtattr *info = nest(&m, IFLA_LINKINFO);
  attr_str(&m, IFLA_INFO_KIND, kind);
  if (vlan) {
    struct rtattr *data = nest(&m, IFLA_INFO_DATA);
    attr_u16(&m, IFLA_VLAN_ID, (unsigned short)vlan_id);
    nest_end(&m, data);
  }
  nest_end(&m, info);
  int e = i ? nl_talk(fd, &m) : E2BIG;
  close(fd);
  if (e) {
    *err = e;
    snprintf(what, what_len, "create %s link %s", kind, name);
    return -1;
  }
  return 0;
}

/* Conntrack through NETLINK_NETFILTER: the host's UDP flows to the given destination ports, as
 * CNI's portmap deleted them on ADD (a flow seen before its port was published keeps its
 * conntrack entry, which NAT is never consulted for again, so its datagrams would go on
 * bypassing the new DNAT while it is refreshed). The family's table is dumped, then each matching
 * entry deleted by its original tuple (an entry gone meanwhile is no error). */
/* The original tuple (the attribute whole) of an entry that matches, copied for its deletion. */
struct ct_tuple {
  unsigned short len;
  char data[256];
};

static const struct nlattr *nla_find(const void *start, int len, int type) {
  for (const struct nlattr *a = start; len >= (int)sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= len;
       len -= NLA_ALIGN(a->nla_len), a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))
    if ((a->nla_type & NLA_TYPE_MASK) == type) return a;
  return NULL;
}
#define NLA_PAYLOAD(a) ((const char *)(a) + NLA_HDRLEN)
#define NLA_PAYLOAD_LEN(a) ((int)(a)->nla_len - NLA_HDRLEN)

/* Whether the entry's original tuple is UDP to one of `ports`. */
static int ct_matches(const struct nlattr *orig, const unsigned short *ports, int n) {
  const struct nlattr *proto = nla_find(NLA_PAYLOAD(orig), NLA_PAYLOAD_LEN(orig), CTA_TUPLE_PROTO);
  if (!proto) return 0;
  const struct nlattr *num = nla_find(NLA_PAYLOAD(proto), NLA_PAYLOAD_LEN(proto), CTA_PROTO_NUM);
  const struct nlattr *dport = nla_find(NLA_PAYLOAD(proto), NLA_PAYLOAD_LEN(proto), CTA_PROTO_DST_PORT);
  if (!num || !dport || *(const unsigned char *)NLA_PAYLOAD(num) != IPPROTO_UDP) return 0;
  unsigned short port;
  memcpy(&port, NLA_PAYLOAD(dport), sizeof port);
  for (int i = 0; i < n; i++)
    if (ntohs(port) == ports[i]) return 1;
  return 0;
}

static void ct_msg(struct msg *m, int type, int flags, int family) {
  msg_init(m, (NFNL_SUBSYS_CTNETLINK << 8) | type, flags);
  struct nfgenmsg g = {.nfgen_family = (unsigned char)family, .version = NFNETLINK_V0};
  msg_put(m, &g, sizeof g);
}

int conntrack_delete_udp(int family, const unsigned short *ports, int n, int *deleted, int *err, char *what, unsigned what_len) {
  *deleted = 0;
  struct ct_tuple *found = NULL;
  int nfound = 0, cap = 0, ret = -1;
  char *buf = malloc(65536);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (!buf || fd < 0) {
    *err = buf ? errno : ENOMEM;
    snprintf(what, what_len, "netlink netfilter socket");
    goto out;
  }
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct msg m;
  ct_msg(&m, IPCTNL_MSG_CT_GET, NLM_F_DUMP, family);
  m.u.h.nlmsg_flags &= ~NLM_F_ACK;
  m.u.h.nlmsg_seq = 1;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &m.u.h, m.u.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    *err = errno;
    snprintf(what, what_len, "dump conntrack");
    goto out;
  }
  for (int done = 0; !done;) {
    ssize_t r = recv(fd, buf, 65536, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      snprintf(what, what_len, "dump conntrack");
      goto out;
    }
    size_t len = (size_t)r;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) { done = 1; break; }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (!e->error) continue;
        *err = -e->error;
        snprintf(what, what_len, "dump conntrack");
        goto out;
      }
      int alen = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg));
      const void *attrs = (const char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
      const struct nlattr *orig = alen > 0 ? nla_find(attrs, alen, CTA_TUPLE_ORIG) : NULL;
      if (!orig || orig->nla_len > sizeof found->data || !ct_matches(orig, ports, n)) continue;
      if (nfound == cap) {
        struct ct_tuple *more = realloc(found, (size_t)(cap = cap ? cap * 2 : 8) * sizeof *found);
        if (!more) {
          *err = ENOMEM;
          snprintf(what, what_len, "dump conntrack");
          goto out;
        }
        found = more;
      }
      found[nfound].len = orig->nla_len;
      memcpy(found[nfound++].data, orig, orig->nla_len);
    }
  }
  for (int i = 0; i < nfound; i++) {
    ct_msg(&m, IPCTNL_MSG_CT_DELETE, 0, family);
    msg_put(&m, found[i].data, found[i].len);
    int e = nl_talk(fd, &m);
    if (e == ENOENT) continue;
    if (e) {
      *err = e;
      snprintf(what, what_len, "delete a conntrack entry");
      goto out;
    }
    (*deleted)++;
  }
  ret = 0;
out:
  if (fd >= 0) close(fd);
  free(buf);
  free(found);
  return ret;
}
