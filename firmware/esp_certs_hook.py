# esp-certs PlatformIO pre-build hook (extra_scripts = pre:<this file>).
#
# Before every build it runs `esp-certs hook --env <environment>`, which makes any missing
# certificate and keeps the firmware header (esp_certs.h) in step with the certificate
# store. It prints nothing and touches nothing when everything is up to date, so
# PlatformIO does not rebuild. Installed by "esp-certs init"; safe to commit.
#
# After each successful run esp-certs leaves a stamp in the environment's build folder: the
# digest of every file it read, the header's file mode, the environment, the CLI, and the
# time from which a certificate is due for renewal. While all of that still holds, this script does not start
# Node.js at all; anything else (a changed file, a passed time, an unreadable stamp) runs
# esp-certs, which decides.
import hashlib
import inspect
import json
import os
import shutil
import socket
import subprocess
import sys
import time

Import("env")  # noqa: F821  (SCons provides Import)

# Until esp-certs is on the npm registry, a project installs it from a built clone.
INSTALL = "in %s run \"npm install --save-dev PATH/TO/esp-certs\" (a clone, after npm run build), or run \"npm link\" in the clone"


def _script_dir():
    # SCons runs this file through exec() without __file__; the code object keeps its name.
    name = inspect.getframeinfo(inspect.currentframe()).filename
    return os.path.dirname(os.path.abspath(name))


def _find_node():
    """node on PATH (node.exe on Windows), else where the Node.js installers put it: an IDE
    started before Node.js was installed, or from the macOS Dock, has a PATH without it."""
    found = shutil.which("node")
    if found:
        return found
    places = [os.path.join(os.environ[v], "nodejs", "node.exe") for v in ("ProgramFiles", "ProgramW6432") if os.environ.get(v)]
    places += ["/opt/homebrew/bin/node", "/usr/local/bin/node"]
    return next((p for p in places if os.path.isfile(p) and os.access(p, os.X_OK)), None)


def _find_cli(project_dir):
    """The command that runs esp-certs, or None; and the places it looked."""
    node = _find_node()
    # The project's own copy, run directly: no .bin shim (esp-certs.cmd on Windows) in between.
    local = os.path.join(project_dir, "node_modules", "esp-certs", "dist", "esp-certs.cjs")
    # Beside this script: how the esp-certs repository builds its own firmware.
    beside = os.path.normpath(os.path.join(_script_dir(), "..", "dist", "esp-certs.cjs"))
    looked = [local, "esp-certs on PATH", beside]
    if os.path.isfile(local):
        return ([node, local] if node else None), looked
    on_path = shutil.which("esp-certs")
    if on_path:
        # A global install on Windows is an esp-certs.cmd shim beside node_modules: run its
        # bundle with node rather than through cmd.exe (slower to start, and it mangles
        # arguments holding % or ^, and asks "Terminate batch job?" on Ctrl+C).
        bundle = os.path.join(os.path.dirname(on_path), "node_modules", "esp-certs", "dist", "esp-certs.cjs")
        if node and os.path.isfile(bundle):
            return [node, bundle], looked
        return [on_path], looked
    if os.path.isfile(beside):
        return ([node, beside] if node else None), looked
    return None, looked


# The stamp's shape, as esp-certs writes it (STAMP_FORMAT in src/platformio/stamp.ts).
STAMP_FORMAT = 2


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path):
    with open(path, "rb") as f:
        return _sha256(f.read())


def _unchanged(stamp_file, pioenv, client, cli):
    """Whether the stamp of the last successful run still holds: then there is nothing to do."""
    try:
        with open(stamp_file, encoding="utf-8") as f:
            s = json.load(f)
        if s.get("format") != STAMP_FORMAT or s["env"] != pioenv or s["client"] != client:
            return False
        if s["renewBy"] is not None and time.time() * 1000 >= s["renewBy"]:
            return False
        if s["hostname"] != socket.gethostname() or s["cli"] is None:
            return False
        st = os.stat(cli[-1])
        if [os.path.realpath(cli[-1]), st.st_size, str(st.st_mtime_ns)] != [s["cli"]["path"], s["cli"]["size"], s["cli"]["mtimeNs"]]:
            return False
        for name, digest in s["sysenv"].items():
            value = os.environ.get(name)
            if (None if value is None else _sha256(value.encode("utf-8"))) != digest:
                return False
        # The header holds a private key: one made readable by others gets its 0600 back.
        if any(os.stat(path).st_mode & 0o777 != mode for path, mode in s["modes"].items()):
            return False
        # null: a path that was absent, and whose appearing gives esp-certs work.
        return all(not os.path.exists(path) if digest is None else _file_sha256(path) == digest for path, digest in s["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # no stamp, or one this script cannot read: esp-certs decides


def _fail(env, first, *more):
    sys.stderr.write("esp-certs: %s\n" % first + "".join("  %s\n" % line for line in more))
    sys.stderr.flush()
    env.Exit(1)


def main(env):
    # An IDE asking for include paths, or `pio run -t clean`: nothing will be compiled.
    if getattr(env, "IsIntegrationDump", lambda: False)() or getattr(env, "IsCleanTarget", lambda: False)():
        return
    project_dir = env.subst("$PROJECT_DIR")
    pioenv = env.subst("$PIOENV")
    client = env.GetProjectOption("custom_esp_certs_client", "")
    cli, looked = _find_cli(project_dir)
    if cli is None:
        if _find_node() is None:
            _fail(env, "cannot run the pre-build step: Node.js is not installed (or not on PATH).",
                  "Install Node.js 20 or later from https://nodejs.org, then %s." % (INSTALL % project_dir))
        _fail(env, "cannot run the pre-build step: esp-certs is not installed.",
              "Looked for: %s." % "; ".join(looked),
              "Install it: %s." % (INSTALL % project_dir))
    build_dir = env.subst("$BUILD_DIR")
    stamp = os.path.join(build_dir, "esp-certs-hook.json") if build_dir else None
    if stamp and _unchanged(stamp, pioenv, client, cli):
        return
    args = cli + ["--project-dir", project_dir, "hook", "--env", pioenv]
    if client:
        args += ["--client", client]
    if stamp:
        args += ["--stamp", stamp]
    # Output goes straight to the build log; a terminal stays attached for a passphrase prompt.
    code = subprocess.call(args, cwd=project_dir)
    if code != 0:
        _fail(env, "the pre-build step failed (exit %d); the build stops. See the message above." % code)


main(env)  # noqa: F821
