"""A real Neo4j 5.26 Community server on loopback, without Docker.

The jars come from Maven Central through Maven (`alliance/neo4j/pom.xml`), into Maven's
own cache; the checksum of every jar is pinned in `alliance/neo4j/neo4j.lock`. The server
is started with its real entry point, `org.neo4j.server.CommunityEntryPoint`, and a
generated `neo4j.conf`; it runs in its own session, so it outlives the command that
started it. Everything it writes lives under one folder (`ALLIANCE_HOME/neo4j`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from core.local_server import ServerError, ServerState, local_password, password_file

NEO4J_VERSION = "5.26.30"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
MIN_JAVA, MAX_JAVA = 17, 21
PACKAGE_DIR = Path(__file__).parent / "neo4j"
POM = PACKAGE_DIR / "pom.xml"
LOCK = PACKAGE_DIR / "neo4j.lock"

JVM_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dfile.encoding=UTF-8",
    "-XX:+UseG1GC",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+DisableExplicitGC",
    "-Djdk.tls.ephemeralDHKeySize=2048",
)


@dataclass(frozen=True)
class Memory:
    """Memory for the server. The default fits a 2-core, 24 GiB machine that also runs
    the API, the loaders and the tests: Neo4j gets about a fifth of it."""

    heap_initial: str = "512m"
    heap_max: str = "2g"
    pagecache: str = "2g"
    transaction_total_max: str = "1g"
    transaction_max: str = "512m"


SMALL_MEMORY = Memory(heap_initial="256m", heap_max="1g", pagecache="512m",
                      transaction_total_max="512m", transaction_max="256m")

MIB = 1 << 20
NEO4J_SHARE = 0.5
"""Of the machine's memory, what Neo4j may take (heap and page cache): the rest is for
the operating system's file cache, the API, the loaders and whatever else runs here."""
PAGECACHE_GROWTH = 1.2
"""The page cache holds the whole store and a fifth more, for the store's growth."""
MIN_HEAP, MAX_HEAP = 1024 * MIB, 8192 * MIB
MIN_PAGECACHE = 512 * MIB


@dataclass(frozen=True)
class Sizing:
    """The memory `alliance db start` gives the server, and what it was sized from."""

    memory: Memory
    machine_bytes: int
    store_bytes: int
    overridden: tuple[str, ...] = ()

    def describe(self) -> str:
        told = f" ({', '.join(self.overridden)} as set)" if self.overridden else ""
        return (f"heap {self.memory.heap_max}, page cache {self.memory.pagecache}{told}; "
                f"machine {self.machine_bytes / (1 << 30):.1f} GiB, store "
                f"{self.store_bytes / (1 << 30):.2f} GiB")


def _size_text(nbytes: int) -> str:
    """Bytes as a Neo4j / JVM size, in whole MiB (`1536m`)."""
    return f"{max(1, nbytes // MIB)}m"


def size_bytes(text: str) -> int:
    """A size such as `512m`, `2g` or `1073741824` in bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise ServerError(f"{text!r} is not a memory size (such as 512m or 4g)")
    power = " kmgt".index(match.group(2) or " ")
    return int(match.group(1)) * (1024 ** power)


def size_memory(machine_bytes: int, store_bytes: int, *, heap: str | None = None,
                pagecache: str | None = None) -> Sizing:
    """Heap and page cache for a store of `store_bytes` on a machine of `machine_bytes`.

    Neo4j gets NEO4J_SHARE of the machine. The page cache holds the store and its
    growth (PAGECACHE_GROWTH) when that fits, so a hop is not a disk read; the heap
    (transactions, query state) grows with the store from 1 GiB up to 8 GiB or a third
    of Neo4j's share. `heap` and `pagecache` (ALLIANCE_NEO4J_HEAP / _PAGECACHE) win."""
    budget = int(machine_bytes * NEO4J_SHARE)
    heap_bytes = min(MAX_HEAP, max(MIN_HEAP, budget // 3), MIN_HEAP + store_bytes // 4)
    wanted = int(store_bytes * PAGECACHE_GROWTH) + 256 * MIB
    cache_bytes = max(MIN_PAGECACHE, min(wanted, budget - heap_bytes))
    if heap:
        heap_bytes = size_bytes(heap)
    if pagecache:
        cache_bytes = size_bytes(pagecache)
    memory = Memory(heap_initial=_size_text(min(heap_bytes, 512 * MIB)),
                    heap_max=_size_text(heap_bytes), pagecache=_size_text(cache_bytes),
                    transaction_total_max=_size_text(heap_bytes // 2),
                    transaction_max=_size_text(heap_bytes // 4))
    told = tuple(name for name, value in (("heap", heap), ("page cache", pagecache)) if value)
    return Sizing(memory, machine_bytes, store_bytes, told)


def store_size(data: Path) -> int:
    """Bytes of the store files under a data folder (what the page cache holds; the
    transaction logs are not cached)."""
    total = 0
    for sub in ("databases",):
        for root, _, files in os.walk(data / sub):
            for name in files:
                try:
                    total += (Path(root) / name).stat().st_size
                except OSError:
                    continue
    return total


def machine_memory() -> int:
    return int(psutil.virtual_memory().total)


@dataclass(frozen=True)
class ServerConfig:
    home: Path
    port: int = 7687
    data_dir: Path | None = None
    auth: bool = True
    memory: Memory = field(default_factory=Memory)
    transaction_timeout: str = "15m"

    @property
    def data(self) -> Path:
        return (self.data_dir or self.home / "data").expanduser().resolve()

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"


@dataclass
class Status:
    state: str  # running | stopped | stale
    uri: str | None
    pid: int | None
    version: str
    data_dir: str | None
    home: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# --- Java and the jars ------------------------------------------------------------


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "alliance" / f"neo4j-{NEO4J_VERSION}"


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise ServerError(
            f"Java is not installed; Neo4j {NEO4J_VERSION} needs Java {MIN_JAVA} or "
            f"{MAX_JAVA} (on Debian: apt-get install openjdk-17-jre-headless)."
        )
    return found


def java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise ServerError(f"could not tell the version of Java at {java}; is it a JDK or JRE?")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> str:
    java = java_executable()
    major = java_major(java)
    if not MIN_JAVA <= major <= MAX_JAVA:
        raise ServerError(
            f"Java {major} at {java} cannot run Neo4j {NEO4J_VERSION}, which needs Java "
            f"{MIN_JAVA} or {MAX_JAVA}; install one and point JAVA_HOME at it."
        )
    return java


def jar_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_lock(lock: Path = LOCK) -> dict[str, str]:
    """`jar file name -> sha256` from the committed lock file."""
    pinned: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, digest = line.split()
            pinned[name] = digest
    return pinned


def resolve_classpath() -> list[Path]:
    """Run Maven on the committed pom; returns the jars of the server's class path."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServerError(
            "Maven (mvn) is needed once to fetch the Neo4j jars from Maven Central "
            "(on Debian: apt-get install maven)."
        )
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    out_file = target / "classpath.resolved"
    cmd = [mvn, "-B", "-q", "-C", "-f", str(POM), "dependency:build-classpath",
           f"-Dmdep.outputFile={out_file}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out_file.exists():
        reason = _maven_reason(done.stdout + done.stderr)
        raise ServerError(
            f"downloading Neo4j {NEO4J_VERSION} from Maven Central failed ({reason}); "
            "check the network or Maven's settings and run the command again."
        )
    return [Path(p) for p in out_file.read_text().strip().split(os.pathsep) if p]


def _maven_reason(output: str) -> str:
    for line in output.splitlines():
        if "[ERROR]" in line:
            return line.replace("[ERROR]", "").strip()[:300]
    return "Maven gave no reason"


def verify_jars(jars: list[Path], pinned: dict[str, str]) -> None:
    names = {jar.name for jar in jars}
    missing = sorted(set(pinned) - names)
    extra = sorted(names - set(pinned))
    if missing or extra:
        raise ServerError(
            f"the resolved Neo4j class path does not match alliance/neo4j/neo4j.lock "
            f"(missing {missing[:3]}, unexpected {extra[:3]}); run `alliance db lock` "
            "if the pom was changed on purpose."
        )
    for jar in jars:
        if jar_digest(jar) != pinned[jar.name]:
            raise ServerError(
                f"{jar} does not match its pinned checksum; delete it from Maven's cache "
                "and run the command again."
            )


def ensure_jars() -> list[Path]:
    """The checked class path, fetched once per machine and cached outside the repo (the
    cached list is named by the lock file's digest: a new lock resolves again)."""
    lock_digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    stamp = cache_dir() / f"classpath.{lock_digest}.verified"
    if stamp.exists():
        jars = [Path(p) for p in stamp.read_text().split(os.pathsep) if p]
        if jars and all(jar.exists() for jar in jars):
            return jars
    jars = resolve_classpath()
    verify_jars(jars, read_lock())
    stamp.write_text(os.pathsep.join(str(j) for j in jars))
    return jars


def write_lock(lock: Path = LOCK) -> int:
    """Pin the checksums of the jars Maven resolves now (after changing the pom)."""
    jars = resolve_classpath()
    lines = [f"# Neo4j {NEO4J_VERSION} class path: jar sha256 (written by `alliance db lock`)"]
    lines += [f"{jar.name} {jar_digest(jar)}" for jar in sorted(jars, key=lambda j: j.name)]
    lock.write_text("\n".join(lines) + "\n")
    return len(jars)


# --- Configuration ------------------------------------------------------------------


def render_conf(config: ServerConfig) -> str:
    home, mem = config.home, config.memory
    settings = {
        "server.directories.data": config.data,
        "server.directories.logs": home / "logs",
        "server.directories.run": home / "run",
        "server.directories.plugins": home / "plugins",
        "server.directories.import": home / "import",
        "server.default_listen_address": "127.0.0.1",
        "server.bolt.listen_address": f"127.0.0.1:{config.port}",
        "server.bolt.advertised_address": f"127.0.0.1:{config.port}",
        "server.http.enabled": "false",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": str(config.auth).lower(),
        "dbms.usage_report.enabled": "false",
        "server.memory.pagecache.size": mem.pagecache,
        "dbms.memory.transaction.total.max": mem.transaction_total_max,
        "db.memory.transaction.max": mem.transaction_max,
        "db.transaction.timeout": config.transaction_timeout,
        "db.tx_log.rotation.retention_policy": "2 days 1G",
        "server.logs.gc.enabled": "false",
        # No keep-alive messages during a request on loopback: with them the server asks
        # every client to time each socket read (the `connection.recv_timeout_seconds`
        # hint), which costs the Python driver a timer and a task per read.
        "server.bolt.connection_keep_alive_for_requests": "OFF",
    }
    header = "# Generated by `alliance db start`; edits are overwritten at the next start.\n"
    return header + "".join(f"{key}={value}\n" for key, value in settings.items())


def java_command(java: str, jars: list[Path], config: ServerConfig) -> list[str]:
    mem = config.memory
    return [
        java, f"-Xms{mem.heap_initial}", f"-Xmx{mem.heap_max}", *JVM_FLAGS,
        "-cp", os.pathsep.join(str(j) for j in jars), ENTRY_POINT,
        f"--home-dir={config.home}", f"--config-dir={config.home / 'conf'}", "--console-mode",
    ]


# --- The offline importer ---------------------------------------------------------

ADMIN_TOOL = "org.neo4j.cli.AdminTool"
"""`neo4j-admin`; its `database import full` comes from org.neo4j:neo4j-import-tool,
pinned in alliance/neo4j/pom.xml and neo4j.lock like the server's own jars."""
MAX_IMPORT_HEAP = 4096 * MIB


def import_memory(machine_bytes: int) -> tuple[str, str]:
    """The importer's heap and off-heap memory. It runs while the server is stopped, so it
    takes Neo4j's whole share of the machine: a quarter as heap (1-4 GiB), the rest off
    the heap, where it keeps its caches of ids and relationships (too little and it
    spills them to disk)."""
    budget = int(machine_bytes * NEO4J_SHARE)
    heap = min(MAX_IMPORT_HEAP, max(MIN_HEAP, budget // 4))
    return _size_text(heap), _size_text(max(MIN_PAGECACHE, budget - heap))


def import_command(java: str, jars: list[Path], config: ServerConfig, database: str,
                   arguments: list[str], machine_bytes: int | None = None) -> list[str]:
    heap, off_heap = import_memory(machine_bytes or machine_memory())
    return [
        java, f"-Xmx{heap}", *JVM_FLAGS, "-cp", os.pathsep.join(str(j) for j in jars),
        ADMIN_TOOL, "database", "import", "full", "--overwrite-destination=true",
        f"--max-off-heap-memory={off_heap}", *arguments, database,
    ]


def import_full(config: ServerConfig, database: str, arguments: list[str]) -> None:
    """Build `database` from CSV files with Neo4j's offline importer. The server must be
    stopped (it is checked): the importer writes the store files itself. Its output goes
    to logs/import.log; it takes Neo4j's share of the machine's memory (`import_memory`)."""
    current = ServerState.load(config.home)
    if current and _is_our_server(current.pid):
        raise ServerError("the local Neo4j is running; the importer needs it stopped")
    java = check_java()
    jars = ensure_jars()
    for sub in ("conf", "logs", "run", "plugins", "import"):
        (config.home / sub).mkdir(parents=True, exist_ok=True)
    config.data.mkdir(parents=True, exist_ok=True)
    (config.home / "conf" / "neo4j.conf").write_text(render_conf(config))
    env = {**os.environ, "NEO4J_HOME": str(config.home), "NEO4J_CONF": str(config.home / "conf")}
    log = config.home / "logs" / "import.log"
    with log.open("wb") as out:
        done = subprocess.run(import_command(java, jars, config, database, arguments),
                              stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=env, check=False)
    if done.returncode != 0:
        raise ServerError(f"Neo4j's importer failed ({_import_reason(log)}); "
                          f"its whole output is in {log}.")


def _import_reason(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    wanted = [line for line in lines if "rror" in line or "xception" in line]
    return ((wanted or lines or ["no output"])[-1])[:400]


# --- Process control ----------------------------------------------------------------


def _is_our_server(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.is_running() and ENTRY_POINT in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(home: Path) -> Status:
    state = ServerState.load(home)
    if state is None:
        return Status("stopped", None, None, NEO4J_VERSION, None, str(home))
    running = _is_our_server(state.pid)
    return Status("running" if running else "stale", state.uri, state.pid, state.version,
                  state.data_dir, str(home))


def start(config: ServerConfig, *, timeout: float = 180.0) -> tuple[ServerState, bool]:
    """Start the server unless it runs already; returns its state and whether it started."""
    home = config.home
    current = ServerState.load(home)
    if current and _is_our_server(current.pid):
        return current, False
    if not port_is_free(config.port):
        raise ServerError(
            f"port {config.port} on 127.0.0.1 is taken by another program; "
            "stop it or start on another port with --port."
        )
    java = check_java()
    jars = ensure_jars()
    for sub in ("conf", "logs", "run", "plugins", "import"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    config.data.mkdir(parents=True, exist_ok=True)
    (home / "conf" / "neo4j.conf").write_text(render_conf(config))
    proc = _spawn(java_command(java, jars, config), home / "logs" / "console.log")
    state = ServerState(proc.pid, config.port, config.uri, str(config.data), NEO4J_VERSION,
                        config.auth, time.time())
    state.save(home)
    _wait_until_ready(proc, config, timeout)
    return state, True


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )


def _wait_until_ready(proc: subprocess.Popen[bytes], config: ServerConfig, timeout: float) -> None:
    def alive() -> bool:
        return proc.poll() is None

    try:
        wait_for_bolt(config.uri, alive=alive, timeout=timeout)
    except ServerError:
        if proc.poll() is None:
            proc.terminate()
        raise ServerError(
            f"Neo4j did not start: {last_error(config.home)}; see `alliance db logs`."
        ) from None
    if config.auth:
        _set_password(config)


def wait_for_bolt(
    uri: str,
    *,
    auth: tuple[str, str] | None = None,
    alive: Callable[[], bool] = lambda: True,
    timeout: float = 180.0,
) -> None:
    """Poll until the server answers on Bolt; an auth refusal also means it is up."""
    deadline = time.monotonic() + timeout
    with GraphDatabase.driver(uri, auth=auth, connection_timeout=2.0) as driver:
        while time.monotonic() < deadline:
            if not alive():
                raise ServerError("the Neo4j process exited during start-up")
            try:
                driver.verify_connectivity()
                return
            except AuthError:
                return
            except (ServiceUnavailable, OSError):
                time.sleep(0.5)
    raise ServerError(f"Neo4j did not answer on {uri} within {timeout:.0f} s")


def _set_password(config: ServerConfig) -> None:
    """On a new store, replace the initial `neo4j` password with the generated one."""
    password = local_password(config.home)
    with GraphDatabase.driver(config.uri, auth=("neo4j", password)) as driver:
        if driver.verify_authentication():
            return
    with GraphDatabase.driver(config.uri, auth=("neo4j", "neo4j")) as driver:
        try:
            driver.execute_query(
                "ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO $password",
                password=password, database_="system",
            )
        except AuthError:
            raise ServerError(
                f"the server in {config.data} refuses the password kept in "
                f"{password_file(config.home)}; put the right one there."
            ) from None


def last_error(home: Path) -> str:
    log = home / "logs" / "console.log"
    if not log.exists():
        return "it wrote no log"
    lines = log.read_text(errors="replace").splitlines()[-200:]
    errors = [line for line in lines if " ERROR " in line or "Exception" in line]
    return (errors[0] if errors else (lines[-1] if lines else "no output")).strip()[:400]


def stop(home: Path, *, timeout: float = 90.0) -> str:
    """Stop the server cleanly (SIGTERM lets Neo4j flush and close the store)."""
    state = ServerState.load(home)
    if state is None:
        return "stopped"
    if not _is_our_server(state.pid):
        (home / "server.json").unlink(missing_ok=True)
        return "stale"
    proc = psutil.Process(state.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        (home / "server.json").unlink(missing_ok=True)
        return "killed"
    (home / "server.json").unlink(missing_ok=True)
    return "stopped"


def log_tail(home: Path, lines: int = 50, *, debug: bool = False) -> list[str]:
    path = home / "logs" / ("debug.log" if debug else "console.log")
    if not path.exists():
        return []
    return path.read_text(errors="replace").splitlines()[-lines:]
