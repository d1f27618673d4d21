# The in-process binding (binding.c, with netlink.c), built from source by node-gyp at `npm install`
# (package.json "install"): build/Release/berth.node.
{
  "targets": [
    {
      "target_name": "berth",
      "sources": ["binding.c", "netlink.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "defines": ["_FORTIFY_SOURCE=2"]
    }
  ]
}
