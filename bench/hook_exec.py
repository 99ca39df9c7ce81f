"""The hook script as SCons runs it, exec'd again and again inside one running Python (as in
`pio run`, where Python and SCons are already up), alternated with spawning `node -e 0`.

    hook_exec.py HOOK PROJECT_DIR PIOENV RUNS NODE

Prints {"hook": [ms...], "node": [ms...]} on stdout.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "..", "test", "platformio", "fixtures"))
from run_hook import Env, run  # noqa: E402

hook, project_dir, pioenv, runs, node = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
times = {"hook": [], "node": []}
for _ in range(runs):
    t0 = time.perf_counter()
    run(hook, Env(project_dir, pioenv))
    times["hook"].append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    subprocess.call([node, "-e", "0"])
    times["node"].append((time.perf_counter() - t0) * 1000)
print(json.dumps(times))
