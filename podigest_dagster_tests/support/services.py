"""Real PostgreSQL and Redis servers on 127.0.0.1 for tests, each in a temporary folder, as an unprivileged user.

`postgres_server()` and `redis_server()` start one server on a free port, wait until it answers, yield its
connection details and always stop it and remove its folder. The binaries come from Debian's `postgresql`
and `redis-server` packages (`ensure_service_packages()` says how to get them, or installs them). As root
(CI), the servers run as the system user `podigest-svc` (created when missing, else `nobody`): PostgreSQL
refuses to run as root, and a test server has no business with root's rights.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SERVICE_USER = "podigest-svc"
FALLBACK_USER = "nobody"
APT_PACKAGES = ("postgresql", "redis-server")
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


class ServiceUnavailable(RuntimeError):
    """A server's binaries are missing or it did not come up; the message says what to do."""


# --- binaries ----------------------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres, or None."""
    candidates = []
    for folder in Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")):
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            version = tuple(int(part) for part in re.findall(r"\d+", folder.parent.name))
            candidates.append((version, folder))
    return max(candidates)[1] if candidates else None


def redis_binary() -> Path | None:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    return Path(found) if found else None


def missing_service_packages(packages: tuple[str, ...] = APT_PACKAGES) -> list[str]:
    """Those of `packages` (Debian names) whose server binary is not on this machine."""
    found = {"postgresql": postgres_bin_dir, "redis-server": redis_binary}
    return [name for name in packages if found[name]() is None]


def ensure_service_packages(*packages: str, install: bool = False) -> None:
    """Raise ServiceUnavailable naming the apt command when a binary is missing; with `install` (as root), run it.

    `packages` defaults to both. Debian's postgresql package may create and start a system cluster on
    port 5432; one started by this install is stopped again, since these helpers never use it.
    """
    packages = packages or APT_PACKAGES
    missing = missing_service_packages(packages)
    if not missing:
        return
    command = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " + " ".join(missing)
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServiceUnavailable(
            f"test servers need the Debian packages {', '.join(missing)}: run `{command}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", *missing], check=True, env=env, stdout=subprocess.DEVNULL
    )
    if "postgresql" in missing:
        _stop_system_clusters()
    still_missing = missing_service_packages(packages)
    if still_missing:
        raise ServiceUnavailable(f"`{command}` ran but {', '.join(still_missing)} is still missing")


def _stop_system_clusters() -> None:
    """Stop every Debian cluster that is online (the one a fresh postgresql install may have started)."""
    if shutil.which("pg_lsclusters") is None:
        return
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].startswith("online"):
            subprocess.run(["pg_ctlcluster", fields[0], fields[1], "stop"], check=False, capture_output=True)


# --- the unprivileged user and its folders ------------------------------------------------------------


def service_user() -> pwd.struct_passwd:
    """Who the servers run as: the current user, or as root `podigest-svc` (created if missing) or `nobody`."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    if shutil.which("useradd"):
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=False, capture_output=True,
        )  # fmt: skip
        try:  # also when a parallel test process created it first
            return pwd.getpwnam(SERVICE_USER)
        except KeyError:
            pass
    return pwd.getpwnam(FALLBACK_USER)


def _world_traversable(folder: Path) -> bool:
    return all(os.stat(part).st_mode & 0o001 for part in [folder, *folder.parents])


@contextmanager
def _owned_temp_dir(prefix: str, user: pwd.struct_passwd) -> Iterator[Path]:
    """A fresh folder owned by `user` (mode 700) where that user can reach it; removed on exit."""
    base = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and not _world_traversable(base):
        base = Path("/tmp")
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chmod(folder, 0o700)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_user(user: pwd.struct_passwd, home: Path) -> dict:
    """subprocess arguments that run a command as `user` (setuid/setgid in the child, no extra groups)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "USER": user.pw_name, "LOGNAME": user.pw_name}  # fmt: skip
    if os.geteuid() != 0:
        return {"env": env}
    return {"env": env, "user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- process lifecycle ------------------------------------------------------------------------------


def _log_tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until(ready, process: subprocess.Popen, what: str, log: Path) -> None:
    """Poll `ready()` until it is true; fail with the server's log if it exits or the deadline passes."""
    deadline = time.monotonic() + START_TIMEOUT_S
    delay = 0.05
    while not ready():
        if process.poll() is not None:
            raise ServiceUnavailable(f"{what} exited with {process.returncode}:\n{_log_tail(log)}")
        if time.monotonic() > deadline:
            raise ServiceUnavailable(
                f"{what} did not accept connections in {START_TIMEOUT_S:.0f} s:\n{_log_tail(log)}"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _launch(command, ready, what: str, log: Path, cwd: Path, run_as: dict) -> tuple[subprocess.Popen, int]:
    """Start `command(port)` on a free port and wait for `ready(port)`; a port taken meanwhile is retried."""
    for attempt in range(3):
        port = free_port()
        with open(log, "wb") as log_file:
            process = subprocess.Popen(
                command(port), stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                **run_as,
            )  # fmt: skip
        try:
            _wait_until(functools.partial(ready, port), process, what, log)
            return process, port
        except ServiceUnavailable:
            _stop(process, signal.SIGKILL)
            if attempt == 2 or "in use" not in _log_tail(log).lower():
                raise
    raise AssertionError("unreachable")


def _stop(process: subprocess.Popen, first_signal: int) -> None:
    """Ask the server to stop, then kill it if it does not within STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.send_signal(first_signal)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- PostgreSQL ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL: superuser `user` (trust auth on 127.0.0.1), database `dbname` already created."""

    host: str
    port: int
    user: str
    dbname: str
    bin_dir: Path
    data_dir: Path

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    @property
    def dsn(self) -> str:
        """libpq keyword form (what DuckDB's postgres and ducklake extensions take)."""
        return self.dsn_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn_for(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def create_database(self, dbname: str) -> str:
        """Create another database (e.g. one for Dagster's storage, one for a DuckLake catalog); its URL."""
        subprocess.run(
            [str(self.bin_dir / "createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user, dbname],
            check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"},
        )  # fmt: skip
        return self.url_for(dbname)


def _postgres_ready(bin_dir: Path, port: int, user: str) -> bool:
    answer = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "postgres"],
        check=False, capture_output=True, env={"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "2"},
    )  # fmt: skip
    return answer.returncode == 0


@contextmanager
def postgres_server(dbname: str = "podigest", user: str = "podigest") -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL on 127.0.0.1 (fsync off: test data only) with database `dbname`."""
    ensure_service_packages("postgresql")
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None
    owner = service_user()
    with _owned_temp_dir("podigest-pg-", owner) as root:
        run_as = _as_user(owner, root)
        data, log = root / "data", root / "postgres.log"
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-sync"],
            check=True, capture_output=True, cwd=root, **run_as,
        )  # fmt: skip

        def command(port: int) -> list[str]:
            return [
                str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(root),
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ]  # fmt: skip

        def ready(port: int) -> bool:
            return _postgres_ready(bin_dir, port, user)

        process, port = _launch(command, ready, "postgres", log, root, run_as)
        try:
            server = PostgresServer("127.0.0.1", port, user, dbname, bin_dir, data)
            server.create_database(dbname)
            yield server
        finally:
            _stop(process, signal.SIGINT)  # SIGINT = fast shutdown: ends open sessions, then exits


# --- Redis ----------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A running redis-server. `restart()` stops it and starts it again on the same port with the same
    folder: with `persist`, what it held comes back (an append-only file, fsynced every write, and a
    snapshot on shutdown); without, it comes back empty, as a Redis without persistence does."""

    host: str
    port: int
    data_dir: Path
    persist: bool = False
    _process: subprocess.Popen | None = field(default=None, repr=False)
    _command: list[str] = field(default_factory=list, repr=False)
    _run_as: dict = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM: a persisting one writes its data first; SIGKILL: a crash)."""
        if self._process is not None:
            _stop(self._process, sig)

    def start(self) -> None:
        """Start it again on its port (after `stop()`); returns once it answers PING."""
        log = self.data_dir / "redis.log"
        with open(log, "ab") as log_file:
            self._process = subprocess.Popen(
                self._command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.data_dir, **self._run_as,
            )  # fmt: skip
        _wait_until(functools.partial(_redis_ready, self.port), self._process, "redis-server", log)

    def restart(self, down_s: float = 0.0, sig: int = signal.SIGTERM, keep_data: bool = True) -> None:
        """stop(sig), `down_s` seconds unreachable, start(); `keep_data=False` removes what it wrote first
        (a Redis without persistence, or one whose disk was lost)."""
        self.stop(sig)
        if not keep_data:
            shutil.rmtree(self.data_dir / "appendonlydir", ignore_errors=True)
            (self.data_dir / "dump.rdb").unlink(missing_ok=True)
        time.sleep(down_s)
        self.start()


def _redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(persist: bool = False) -> Iterator[RedisServer]:
    """A throwaway redis-server on 127.0.0.1; nothing persisted unless `persist` (see RedisServer)."""
    ensure_service_packages("redis-server")
    binary = redis_binary()
    assert binary is not None
    owner = service_user()
    with _owned_temp_dir("podigest-redis-", owner) as root:
        keep = ["--save", "3600 1", "--appendonly", "yes", "--appendfsync", "always"]
        keep = keep if persist else ["--save", "", "--appendonly", "no"]

        def command(port: int) -> list[str]:
            return [
                str(binary), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root), *keep,
                "--daemonize", "no", "--protected-mode", "yes", "--logfile", "",
            ]  # fmt: skip

        run_as = _as_user(owner, root)
        process, port = _launch(command, _redis_ready, "redis-server", root / "redis.log", root, run_as)
        server = RedisServer("127.0.0.1", port, root, persist, process, command(port), run_as)
        try:
            yield server
        finally:
            server.stop()
