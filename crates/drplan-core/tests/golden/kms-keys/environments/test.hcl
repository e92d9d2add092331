stack = "golden"
