{
  "targets": [
    {
      "target_name": "hearth_sendmmsg",
      "sources": ["sendmmsg.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS!='linux'", { "sources!": ["sendmmsg.c"], "sources": ["unsupported.c"] }]
      ]
    }
  ]
}
