{
  "targets": [
    {
      "target_name": "envmount",
      "sources": ["native/addon.c", "native/errors.c", "native/mount.c", "native/mount-api.c", "native/mount-life.c", "native/rotate.c", "native/process.c", "native/serve.c", "native/event.c", "native/ticket.c", "native/holders.c", "native/share.c", "native/watch.c", "native/lifetime.c", "native/notify.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wmissing-prototypes", "-Wstrict-prototypes", "-Werror", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=gnu11", "-Wall", "-Wextra", "-Wmissing-prototypes", "-Wstrict-prototypes", "-Werror"] }
    }
  ]
}
