{
  "targets": [
    {
      "target_name": "hearth_sendmmsg",
      "sources": ["sendmmsg.c", "malloc-tuning.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS!='linux'", { "sources!": ["sendmmsg.c", "malloc-tuning.c"], "sources": ["unsupported.c"] }]
      ]
    }
  ]
}
