{
  "variables": {
    "have_fuse%": "<!(pkg-config --exists fuse3 2>/dev/null && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "envmount",
      "sources": ["native/addon.c", "native/errors.c", "native/mount.c", "native/look.c", "native/mount-api.c", "native/mount-life.c", "native/rotate.c", "native/reuse.c", "native/flush.c", "native/process.c", "native/serve.c", "native/content-pipe.c", "native/event.c", "native/ticket.c", "native/holders.c", "native/share.c", "native/watch.c", "native/lifetime.c", "native/notify.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wmissing-prototypes", "-Wstrict-prototypes", "-Werror", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=gnu11", "-Wall", "-Wextra", "-Wmissing-prototypes", "-Wstrict-prototypes", "-Werror"] },
      "conditions": [
        ["have_fuse==1", {
          "sources": ["native/fuse-api.c", "native/fuse-handup.c", "native/fuse-host.c", "native/fuse-mount.c", "native/fuse-mounter.c", "native/fuse-proc.c", "native/fuse-runner.c", "native/fuse-session.c", "native/fuse-ticket.c"],
          "defines": ["HAVE_FUSE=1"],
          "cflags": ["<!@(pkg-config --cflags fuse3)"],
          "libraries": ["<!@(pkg-config --libs fuse3)"]
        }]
      ]
    }
  ]
}
