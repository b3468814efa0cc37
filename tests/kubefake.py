"""A fake Kubernetes API server for tests: real sockets, the REST API's real JSON shapes.

No cluster can run here, so this speaks just enough of the API server's protocol for the
official `kubernetes` client to list and get what the Kubernetes plugin reads: `/version`,
core (`/api/v1`) and group (`/apis/{group}/{version}`) resources, namespaced and across all
namespaces, custom resources, and pod logs. Lists carry `kind: PodList` and items without
their own apiVersion/kind, as the real server sends them; `labelSelector` is parsed with the
real grammar; bearer tokens, per-resource 403s, 404s and slow answers behave as they do on a
real API server (Status objects with `reason`, `code` and `details`).

    with kube_cluster(token="t0ken") as cluster:
        add_app(cluster, "checkout", namespace="shop")      # deployment, pods, service, HPA
        cluster.add(crash_loop_pod("checkout-7d9c-x2", namespace="shop", app_id="checkout"))
        cluster.forbid("configmaps")
        cluster.delay = 3.0                                 # a slow cluster

Objects are plain dicts and can be added, changed or removed while the server runs (the
browser tests do). `dead_url()` gives a URL nobody answers; `write_kubeconfig` a kubeconfig
for the client's own loader. `kube_cluster(tls=True)` serves HTTPS with a fresh self-signed
certificate for 127.0.0.1 (`ca_data`, `ca_file`), for CA and in-cluster configurations.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import ipaddress
import json
import re
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

ID_LABEL = "backstage.io/kubernetes-id"

# kind -> (API prefix, plural) for the built-in types the plugin reads.
BUILTIN_TYPES: dict[str, tuple[str, str]] = {
    "Pod": ("api/v1", "pods"),
    "Service": ("api/v1", "services"),
    "ConfigMap": ("api/v1", "configmaps"),
    "Deployment": ("apis/apps/v1", "deployments"),
    "ReplicaSet": ("apis/apps/v1", "replicasets"),
    "StatefulSet": ("apis/apps/v1", "statefulsets"),
    "DaemonSet": ("apis/apps/v1", "daemonsets"),
    "Job": ("apis/batch/v1", "jobs"),
    "CronJob": ("apis/batch/v1", "cronjobs"),
    "Ingress": ("apis/networking.k8s.io/v1", "ingresses"),
    "HorizontalPodAutoscaler": ("apis/autoscaling/v2", "horizontalpodautoscalers"),
}
API_VERSIONS = {
    prefix: prefix.removeprefix("apis/").removeprefix("api/")
    for prefix, _ in BUILTIN_TYPES.values()
}


# --- label selectors (k8s.io/apimachinery/pkg/labels) ----------------------------------------


class SelectorError(ValueError):
    """A label selector the API server would refuse (it answers 400 BadRequest)."""


_KEY = r"(?:[a-zA-Z0-9.-]+/)?[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?"
_VALUE = r"(?:[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?)?"
_SET = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>[^()]*)\)\s*$")
_EQ = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(?P<not>!?)\s*(?P<key>{_KEY})\s*$")


def _split_requirements(selector: str) -> list[str]:
    """Split on the commas between requirements, not those inside `in (a,b)`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_selector(selector: str) -> list[tuple[str, str, frozenset[str]]]:
    """Return the requirements of a label selector as (key, operator, values).

    Operators: "=", "!=", "in", "notin", "exists", "!exists". Raise SelectorError.
    """
    requirements: list[tuple[str, str, frozenset[str]]] = []
    if not selector.strip():
        return requirements
    for part in _split_requirements(selector):
        if match := _SET.match(part):
            values = frozenset(v.strip() for v in match["values"].split(",") if v.strip())
            if not all(re.fullmatch(_VALUE, v) for v in values):
                raise SelectorError(f"unable to parse requirement: invalid value in {part!r}")
            requirements.append((match["key"], match["op"], values))
        elif match := _EQ.match(part):
            op = "!=" if match["op"] == "!=" else "="
            requirements.append((match["key"], op, frozenset({match["value"]})))
        elif match := _EXISTS.match(part):
            requirements.append(
                (match["key"], "!exists" if match["not"] else "exists", frozenset())
            )
        else:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
    return requirements


def selector_matches(
    requirements: Iterable[tuple[str, str, frozenset[str]]], labels: Mapping[str, str]
) -> bool:
    """Return whether labels satisfy every requirement (the API server's semantics)."""
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        if op == "=" and value not in values:
            return False
        if op == "!=" and present and value in values:
            return False
        if op == "in" and (not present or value not in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


# --- the server ---------------------------------------------------------------------------


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict:
    """Return a metav1.Status failure as the API server sends it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


@dataclass
class RequestRecord:
    """One request the fake answered (or refused)."""

    path: str
    query: dict[str, list[str]]
    authorization: str


@dataclass
class FakeCluster:
    """The state of one fake API server; tests change it freely while it runs."""

    name: str = "fake"
    token: str | None = "fake-token"  # None: no authentication required
    delay: float = 0.0  # seconds every answer waits (a slow cluster)
    user: str = "system:serviceaccount:backstage:reader"
    git_version: str = "v1.31.2"
    base_url: str = ""
    ca_data: str = ""  # base64 PEM of the server's certificate, when served over TLS
    ca_file: str = ""
    requests: list[RequestRecord] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)  # plurals that answer 403
    custom_types: dict[str, str] = field(default_factory=dict)  # "group/version/plural" -> kind
    _objects: dict[str, dict[tuple[str, str], dict]] = field(default_factory=dict)
    _logs: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _resource_version: int = 1000

    # -- objects --------------------------------------------------------------------------

    def _type_key(self, obj: Mapping[str, Any], plural: str | None) -> str:
        kind = obj["kind"]
        if kind in BUILTIN_TYPES and plural is None:
            prefix, builtin_plural = BUILTIN_TYPES[kind]
            return f"{prefix}/{builtin_plural}"
        group_version = obj["apiVersion"]
        plural = plural or f"{kind.lower()}s"
        self.custom_types[f"{group_version}/{plural}"] = kind
        return f"apis/{group_version}/{plural}"

    def add(self, *objects: dict, plural: str | None = None) -> None:
        """Add (or replace) objects; custom resources are keyed by apiVersion and `plural`."""
        with self._lock:
            for obj in objects:
                self._resource_version += 1
                obj.setdefault("metadata", {})["resourceVersion"] = str(self._resource_version)
                key = self._type_key(obj, plural)
                meta = obj["metadata"]
                self._objects.setdefault(key, {})[(meta.get("namespace", ""), meta["name"])] = obj

    def remove(self, kind: str, name: str, namespace: str = "default") -> None:
        """Delete one object (of a built-in kind)."""
        prefix, plural = BUILTIN_TYPES[kind]
        with self._lock:
            self._objects.get(f"{prefix}/{plural}", {}).pop((namespace, name), None)

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        """Return the stored object (a live dict: change it to change the cluster)."""
        prefix, plural = BUILTIN_TYPES[kind]
        return self._objects[f"{prefix}/{plural}"][(namespace, name)]

    def clear(self) -> None:
        """Remove every object, log, 403 and recorded request."""
        with self._lock:
            self._objects.clear()
            self._logs.clear()
            self.forbidden.clear()
            self.custom_types.clear()
            self.requests.clear()

    def add_custom_resource_type(self, group: str, version: str, plural: str, kind: str) -> None:
        """Make a custom resource type exist (an installed CRD) with no objects yet."""
        with self._lock:
            self.custom_types[f"{group}/{version}/{plural}"] = kind
            self._objects.setdefault(f"apis/{group}/{version}/{plural}", {})

    def set_log(self, namespace: str, pod: str, text: str, container: str = "") -> None:
        """Set what `kubectl logs` would print for a pod's container."""
        with self._lock:
            self._logs[(namespace, pod, container)] = text

    def forbid(self, *plurals: str) -> None:
        """Make listing and reading these resources answer 403 Forbidden."""
        self.forbidden.update(plurals)

    def hits(self, fragment: str = "") -> int:
        """Return how many requests had `fragment` in their path."""
        with self._lock:
            return sum(1 for record in self.requests if fragment in record.path)

    # -- answering ------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, authorization: str) -> tuple[int, str, bytes]:
        """Return (status, content type, body) for one request."""
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        with self._lock:
            self.requests.append(RequestRecord(parts.path, query, authorization))
        if self.delay:
            time.sleep(self.delay)
        scheme, _, presented = authorization.partition(" ")
        # The API server takes the scheme in any case (the in-cluster loader sends "bearer").
        if self.token is not None and (scheme.lower() != "bearer" or presented != self.token):
            return _json(401, status(401, "Unauthorized", "Unauthorized"))
        if method != "GET":
            return _json(
                405,
                status(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                ),
            )
        path = parts.path.rstrip("/")
        if path == "/version":
            return _json(200, self._version())
        with self._lock:
            return self._resource(path, query)

    def _version(self) -> dict[str, str]:
        major, minor = self.git_version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": self.git_version,
            "gitCommit": hashlib.sha1(self.git_version.encode()).hexdigest(),
            "gitTreeState": "clean",
            "buildDate": "2024-10-22T20:28:14Z",
            "goVersion": "go1.22.8",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _resource(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        match = re.fullmatch(
            r"/(?P<prefix>api/v1|apis/[^/]+/[^/]+)"
            r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?P<log>/log)?)?",
            path,
        )
        if not match:
            return _not_found()
        prefix, namespace, plural, name = (
            match["prefix"],
            match["ns"],
            match["plural"],
            match["name"],
        )
        type_key = f"{prefix}/{plural}"
        builtin = {f"{p}/{pl}": kind for kind, (p, pl) in BUILTIN_TYPES.items()}
        custom = {f"apis/{key}": kind for key, kind in self.custom_types.items()}
        kind = builtin.get(type_key) or custom.get(type_key)
        if kind is None:
            return _not_found()
        group = "" if prefix == "api/v1" else prefix.split("/")[1]
        if plural in self.forbidden:
            verb = "get" if name else "list"
            where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            return _json(
                403,
                status(
                    403,
                    "Forbidden",
                    f'{plural} is forbidden: User "{self.user}" cannot {verb} resource '
                    f'"{plural}" in API group "{group}" {where}',
                    {"group": group, "kind": plural, **({"name": name} if name else {})},
                ),
            )
        stored = self._objects.get(type_key, {})
        if name is None:
            return self._list(prefix, kind, stored, namespace, query)
        obj = stored.get((namespace or "", name))
        if obj is None:
            return _json(
                404,
                status(
                    404,
                    "NotFound",
                    f'{plural}{"." + group if group else ""} "{name}" not found',
                    {"name": name, "group": group, "kind": plural},
                ),
            )
        if match["log"]:
            if kind != "Pod":
                return _not_found()
            return self._log(namespace or "", name, obj, query)
        return _json(200, copy.deepcopy(obj))

    def _list(
        self,
        prefix: str,
        kind: str,
        stored: dict[tuple[str, str], dict],
        namespace: str | None,
        query: dict[str, list[str]],
    ) -> tuple[int, str, bytes]:
        try:
            requirements = parse_selector(query.get("labelSelector", [""])[0])
        except SelectorError as exc:
            return _json(400, status(400, "BadRequest", str(exc)))
        items = []
        for (item_namespace, _), obj in sorted(stored.items()):
            if namespace is not None and item_namespace != namespace:
                continue
            if not selector_matches(requirements, obj["metadata"].get("labels") or {}):
                continue
            item = copy.deepcopy(obj)
            # The real server leaves apiVersion and kind out of list items.
            item.pop("apiVersion", None)
            item.pop("kind", None)
            items.append(item)
        api_version = prefix.removeprefix("apis/").removeprefix("api/")
        return _json(
            200,
            {
                "kind": f"{kind}List",
                "apiVersion": api_version,
                "metadata": {"resourceVersion": str(self._resource_version)},
                "items": items,
            },
        )

    def _log(
        self, namespace: str, name: str, pod: dict, query: dict[str, list[str]]
    ) -> tuple[int, str, bytes]:
        containers = [c["name"] for c in pod.get("spec", {}).get("containers", [])]
        container = query.get("container", [""])[0]
        if not container:
            if len(containers) > 1:
                return _json(
                    400,
                    status(
                        400,
                        "BadRequest",
                        f"a container name must be specified for pod {name}, choose one of: "
                        f"[{' '.join(containers)}]",
                    ),
                )
            container = containers[0] if containers else ""
        elif container not in containers:
            return _json(
                400, status(400, "BadRequest", f"container {container} is not valid for pod {name}")
            )
        text = self._logs.get(
            (namespace, name, container), self._logs.get((namespace, name, ""), "")
        )
        tail = query.get("tailLines", [""])[0]
        if tail:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) > 0 else ""
        data = text.encode()
        limit = query.get("limitBytes", [""])[0]
        if limit:
            data = data[: int(limit)]
        return 200, "text/plain", data


def _json(code: int, body: Any) -> tuple[int, str, bytes]:
    return code, "application/json", json.dumps(body).encode()


def _not_found() -> tuple[int, str, bytes]:
    return _json(
        404,
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]},
        ),
    )


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1 and localhost and its key; return both paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "apiserver.crt", folder / "apiserver.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A client lists a dozen object types at once; the default backlog of 5 drops the
    # rest of the connections, which then wait a second for the SYN to be retried.
    request_queue_size = 128


@contextmanager
def kube_cluster(
    name: str = "fake", *, token: str | None = "fake-token", tls: bool = False
) -> Iterator[FakeCluster]:
    """Run a fake API server on 127.0.0.1 (a free port) for the duration of the block."""
    cluster = FakeCluster(name=name, token=token)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            code, content_type, body = cluster.answer(
                self.command, self.path, self.headers.get("Authorization", "")
            )
            try:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Audit-Id", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client gave up first (timeout tests)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    scheme = "http"
    with tempfile.TemporaryDirectory(prefix="kubefake-") as folder:
        if tls:
            cert_path, key_path = _self_signed(Path(folder))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_path, key_path)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            cluster.ca_file = str(cert_path)
            cluster.ca_data = base64.b64encode(cert_path.read_bytes()).decode()
            scheme = "https"
        cluster.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield cluster
        finally:
            server.shutdown()
            server.server_close()


@contextmanager
def dead_url() -> Iterator[str]:
    """Yield an http URL whose port refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # held so no other test's server takes the port
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def write_kubeconfig(
    path: Path, clusters: Iterable[FakeCluster], current: str | None = None
) -> Path:
    """Write a kubeconfig with one context per fake cluster (named after it); return path."""
    clusters = list(clusters)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": current or (clusters[0].name if clusters else ""),
        "clusters": [
            {
                "name": cluster.name,
                "cluster": {
                    "server": cluster.base_url,
                    **({"certificate-authority-data": cluster.ca_data} if cluster.ca_data else {}),
                },
            }
            for cluster in clusters
        ],
        "users": [
            {"name": f"{cluster.name}-reader", "user": {"token": cluster.token or ""}}
            for cluster in clusters
        ],
        "contexts": [
            {
                "name": cluster.name,
                "context": {
                    "cluster": cluster.name,
                    "user": f"{cluster.name}-reader",
                    "namespace": "default",
                },
            }
            for cluster in clusters
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


# --- realistic objects ----------------------------------------------------------------------


def timestamp(ago: dt.timedelta = dt.timedelta()) -> str:
    """Return an RFC 3339 time `ago` before now, as the API server writes times."""
    return (dt.datetime.now(dt.UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(
    name: str, namespace: str, labels: dict[str, str] | None, age: dt.timedelta, **extra: Any
) -> dict:
    return {
        "name": name,
        "namespace": namespace,
        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}/{extra.get('kind', '')}")),
        "creationTimestamp": timestamp(age),
        "labels": dict(labels or {}),
        **{k: v for k, v in extra.items() if k != "kind"},
    }


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{image.split(':')[0]}@sha256:{digest}"


def _owner(obj: dict, controller: bool = True) -> dict:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def _resources(requests: dict[str, str] | None, limits: dict[str, str] | None) -> dict:
    return {
        **({"requests": requests} if requests else {}),
        **({"limits": limits} if limits else {}),
    }


def _template(labels: dict[str, str], containers: list[dict]) -> dict:
    return {"metadata": {"labels": labels}, "spec": {"containers": containers}}


def container(
    name: str,
    image: str,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    port: int | None = 8080,
) -> dict:
    """Return a container spec."""
    spec: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": _resources(requests, limits),
    }
    if port:
        spec["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    return spec


def app_labels(app_id: str, **extra: str) -> dict[str, str]:
    """Return the labels Backstage's Kubernetes plugin finds an entity's objects by."""
    return {ID_LABEL: app_id, "app.kubernetes.io/name": app_id, **extra}


def deployment(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    image: str = "ghcr.io/northwind/app:1.0.0",
    replicas: int = 2,
    ready: int | None = None,
    updated: int | None = None,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    conditions: list[dict] | None = None,
    age: dt.timedelta = dt.timedelta(days=3),
) -> dict:
    """Return an apps/v1 Deployment; `ready` < `replicas` makes it unavailable."""
    labels = labels or app_labels(name)
    ready = replicas if ready is None else ready
    updated = replicas if updated is None else updated
    if conditions is None:
        conditions = [
            condition(
                "Available",
                "True" if ready >= replicas else "False",
                "MinimumReplicasAvailable" if ready >= replicas else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if ready >= replicas
                else "Deployment does not have minimum availability.",
            ),
            condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}-7d9c6b5f4" has successfully progressed.',
            ),
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(
            name,
            namespace,
            labels,
            age,
            generation=3,
            annotations={"deployment.kubernetes.io/revision": "3"},
            kind="Deployment",
        ),
        "spec": {
            "replicas": replicas,
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/name": labels.get("app.kubernetes.io/name", name)
                }
            },
            "template": _template(
                labels, [container(name.split("-")[0] or name, image, requests, limits)]
            ),
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": 3,
            "replicas": max(replicas, updated),
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            **({"unavailableReplicas": replicas - ready} if ready < replicas else {}),
            "conditions": conditions,
        },
    }


def condition(
    type_: str, status_: str, reason: str, message: str, ago: dt.timedelta = dt.timedelta(hours=1)
) -> dict:
    """Return a status condition (deployments, pods, jobs share the shape)."""
    return {
        "type": type_,
        "status": status_,
        "reason": reason,
        "message": message,
        "lastUpdateTime": timestamp(ago),
        "lastTransitionTime": timestamp(ago),
    }


def replica_set(owner: dict, suffix: str = "7d9c6b5f4") -> dict:
    """Return the current ReplicaSet of a Deployment."""
    spec, state = owner["spec"], owner["status"]
    labels = {**owner["metadata"]["labels"], "pod-template-hash": suffix}
    meta = _meta(
        f"{owner['metadata']['name']}-{suffix}",
        owner["metadata"]["namespace"],
        labels,
        dt.timedelta(days=1),
        ownerReferences=[_owner(owner)],
        kind="ReplicaSet",
        annotations={"deployment.kubernetes.io/revision": "3"},
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta,
        "spec": {
            "replicas": spec["replicas"],
            "selector": {
                "matchLabels": {**spec["selector"]["matchLabels"], "pod-template-hash": suffix}
            },
            "template": spec["template"],
        },
        "status": {
            "replicas": spec["replicas"],
            "fullyLabeledReplicas": spec["replicas"],
            "readyReplicas": state.get("readyReplicas", 0),
            "availableReplicas": state.get("availableReplicas", 0),
            "observedGeneration": 1,
        },
    }


def pod(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    owner: dict | None = None,
    image: str = "ghcr.io/northwind/app:1.0.0",
    containers: list[dict] | None = None,
    phase: str = "Running",
    ready: bool = True,
    restarts: int = 0,
    state: dict | None = None,
    last_state: dict | None = None,
    conditions: list[dict] | None = None,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    node: str | None = "node-a1",
    age: dt.timedelta = dt.timedelta(hours=5),
) -> dict:
    """Return a v1 Pod whose containers all share `state`, `ready` and `restarts`."""
    if owner is not None and labels is None:
        labels = dict(owner["spec"]["template"]["metadata"]["labels"])
        labels.update(owner["spec"].get("selector", {}).get("matchLabels", {}))
    labels = labels or {}
    containers = containers or [container(name.split("-")[0] or "app", image, requests, limits)]
    started = timestamp(age)
    state = state or (
        {"running": {"startedAt": started}}
        if phase == "Running"
        else {"waiting": {"reason": "ContainerCreating"}}
    )
    scheduled = node is not None
    if conditions is None:
        conditions = [
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": started,
            },
            {
                "type": "Initialized",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": started,
            },
            {
                "type": "ContainersReady",
                "status": str(ready),
                "lastProbeTime": None,
                "lastTransitionTime": started,
                **(
                    {}
                    if ready
                    else {
                        "reason": "ContainersNotReady",
                        "message": f"containers with unready status: [{containers[0]['name']}]",
                    }
                ),
            },
            {
                "type": "Ready",
                "status": str(ready),
                "lastProbeTime": None,
                "lastTransitionTime": started,
                **(
                    {}
                    if ready
                    else {
                        "reason": "ContainersNotReady",
                        "message": f"containers with unready status: [{containers[0]['name']}]",
                    }
                ),
            },
        ]
    status_: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "qosClass": "Burstable",
    }
    if scheduled:
        status_.update(
            hostIP="10.0.0.11",
            podIP=f"10.244.1.{sum(name.encode()) % 250 + 2}",
            startTime=started,
            containerStatuses=[
                {
                    "name": spec["name"],
                    "image": spec["image"],
                    "imageID": _image_id(spec["image"]),
                    "containerID": f"containerd://{hashlib.sha256(name.encode()).hexdigest()}",
                    "ready": ready,
                    "started": ready,
                    "restartCount": restarts,
                    "state": state,
                    "lastState": last_state or {},
                }
                for spec in containers
            ],
        )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            name,
            namespace,
            labels,
            age,
            kind="Pod",
            ownerReferences=[_owner(owner)] if owner else [],
        ),
        "spec": {
            "containers": containers,
            "restartPolicy": "Always",
            "serviceAccountName": "default",
            **({"nodeName": node} if node else {}),
        },
        "status": status_,
    }


def crash_loop_pod(name: str, namespace: str = "default", **options: Any) -> dict:
    """Return a pod whose container keeps crashing (CrashLoopBackOff, exit code 1)."""
    finished = timestamp(dt.timedelta(minutes=2))
    return pod(
        name,
        namespace,
        ready=False,
        restarts=options.pop("restarts", 14),
        state={
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 5m0s restarting failed container={name.split('-')[0]} "
                f"pod={name}_{namespace}",
            }
        },
        last_state={
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": timestamp(dt.timedelta(minutes=3)),
                "finishedAt": finished,
            }
        },
        **options,
    )


def image_pull_pod(
    name: str,
    namespace: str = "default",
    *,
    image: str = "ghcr.io/northwind/app:9.9.9-typo",
    **options: Any,
) -> dict:
    """Return a pod whose image cannot be pulled (ImagePullBackOff)."""
    return pod(
        name,
        namespace,
        image=image,
        phase="Pending",
        ready=False,
        state={
            "waiting": {
                "reason": "ImagePullBackOff",
                "message": f'Back-off pulling image "{image}"',
            }
        },
        **options,
    )


def oom_killed_pod(name: str, namespace: str = "default", **options: Any) -> dict:
    """Return a running pod whose container was last killed for running out of memory."""
    return pod(
        name,
        namespace,
        restarts=options.pop("restarts", 3),
        last_state={
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "startedAt": timestamp(dt.timedelta(minutes=40)),
                "finishedAt": timestamp(dt.timedelta(minutes=30)),
            }
        },
        **options,
    )


def unschedulable_pod(name: str, namespace: str = "default", **options: Any) -> dict:
    """Return a pending pod no node can take (PodScheduled False, reason Unschedulable)."""
    message = (
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are "
        "available: 3 No preemption victims found for incoming pod."
    )
    return pod(
        name,
        namespace,
        phase="Pending",
        ready=False,
        node=None,
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": timestamp(dt.timedelta(minutes=12)),
            }
        ],
        **options,
    )


def not_ready_pod(name: str, namespace: str = "default", **options: Any) -> dict:
    """Return a pod whose container cannot start: a config map it needs is missing."""
    return pod(
        name,
        namespace,
        phase="Pending",
        ready=False,
        state={
            "waiting": {
                "reason": "CreateContainerConfigError",
                "message": 'configmap "checkout-config" not found',
            }
        },
        **options,
    )


def service(
    name: str, namespace: str = "default", *, labels: dict[str, str] | None = None, port: int = 80
) -> dict:
    """Return a ClusterIP Service."""
    labels = labels or app_labels(name)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace, labels, dt.timedelta(days=30), kind="Service"),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": f"10.96.{sum(name.encode()) % 250}.{len(name)}",
            "clusterIPs": [f"10.96.{sum(name.encode()) % 250}.{len(name)}"],
            "selector": {"app.kubernetes.io/name": labels.get("app.kubernetes.io/name", name)},
            "ports": [{"name": "http", "protocol": "TCP", "port": port, "targetPort": 8080}],
            "sessionAffinity": "None",
        },
        "status": {"loadBalancer": {}},
    }


def config_map(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> dict:
    """Return a ConfigMap."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(
            name, namespace, labels or app_labels(name), dt.timedelta(days=10), kind="ConfigMap"
        ),
        "data": data or {"LOG_LEVEL": "info"},
    }


def ingress(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    host: str = "shop.northwind.example",
) -> dict:
    """Return a networking.k8s.io/v1 Ingress routing / of `host` to the service `name`."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(
            name, namespace, labels or app_labels(name), dt.timedelta(days=30), kind="Ingress"
        ),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
    }


def hpa(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    min_replicas: int = 2,
    max_replicas: int = 6,
    current: int = 2,
    cpu: int = 45,
) -> dict:
    """Return an autoscaling/v2 HorizontalPodAutoscaler; current == max is "at its maximum"."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(
            name, namespace, labels or app_labels(name), dt.timedelta(days=3), kind="HPA"
        ),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
        "status": {
            "currentReplicas": current,
            "desiredReplicas": current,
            "lastScaleTime": timestamp(dt.timedelta(minutes=25)),
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": cpu, "averageValue": "180m"},
                    },
                }
            ],
            "conditions": [
                condition(
                    "ScalingLimited",
                    "True" if current >= max_replicas else "False",
                    "TooManyReplicas" if current >= max_replicas else "DesiredWithinRange",
                    "the desired replica count is more than the maximum replica count"
                    if current >= max_replicas
                    else "the desired count is within the acceptable range",
                )
            ],
        },
    }


def stateful_set(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    image: str = "postgres:16.4",
    replicas: int = 3,
    ready: int | None = None,
) -> dict:
    """Return an apps/v1 StatefulSet."""
    labels = labels or app_labels(name)
    ready = replicas if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(
            name, namespace, labels, dt.timedelta(days=60), generation=1, kind="StatefulSet"
        ),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/name": labels.get("app.kubernetes.io/name", name)
                }
            },
            "template": _template(
                labels,
                [container(name, image, {"cpu": "500m", "memory": "1Gi"}, {"memory": "2Gi"}, 5432)],
            ),
            "updateStrategy": {"type": "RollingUpdate"},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "readyReplicas": ready,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": ready,
            "currentRevision": f"{name}-5c8d7f",
            "updateRevision": f"{name}-5c8d7f",
        },
    }


def daemon_set(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    image: str = "fluent/fluent-bit:3.1.9",
    desired: int = 3,
    ready: int | None = None,
) -> dict:
    """Return an apps/v1 DaemonSet."""
    labels = labels or app_labels(name)
    ready = desired if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(
            name, namespace, labels, dt.timedelta(days=90), generation=2, kind="DaemonSet"
        ),
        "spec": {
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/name": labels.get("app.kubernetes.io/name", name)
                }
            },
            "template": _template(
                labels,
                [
                    container(
                        name, image, {"cpu": "50m", "memory": "64Mi"}, {"memory": "128Mi"}, None
                    )
                ],
            ),
            "updateStrategy": {"type": "RollingUpdate"},
        },
        "status": {
            "currentNumberScheduled": desired,
            "desiredNumberScheduled": desired,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": desired,
            "observedGeneration": 2,
        },
    }


def job(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    image: str = "ghcr.io/northwind/migrate:1.0.0",
    succeeded: int = 1,
    failed: int = 0,
) -> dict:
    """Return a batch/v1 Job (complete when `succeeded` reaches its one completion)."""
    labels = labels or app_labels(name)
    template = _template(labels, [container(name, image, port=None)])
    template["spec"]["restartPolicy"] = "Never"
    conditions = (
        [
            condition(
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
        ]
        if succeeded
        else [
            condition(
                "Failed",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            )
        ]
        if failed
        else []
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, namespace, labels, dt.timedelta(hours=2), kind="Job"),
        "spec": {"completions": 1, "parallelism": 1, "backoffLimit": 6, "template": template},
        "status": {
            "startTime": timestamp(dt.timedelta(hours=2)),
            **(
                {"completionTime": timestamp(dt.timedelta(hours=1, minutes=58))}
                if succeeded
                else {}
            ),
            "succeeded": succeeded,
            "failed": failed,
            "conditions": conditions,
        },
    }


def cron_job(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    schedule: str = "0 3 * * *",
    image: str = "ghcr.io/northwind/report:2.1.0",
) -> dict:
    """Return a batch/v1 CronJob."""
    labels = labels or app_labels(name)
    template = _template(labels, [container(name, image, port=None)])
    template["spec"]["restartPolicy"] = "OnFailure"
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(name, namespace, labels, dt.timedelta(days=20), kind="CronJob"),
        "spec": {
            "schedule": schedule,
            "suspend": False,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": template}},
        },
        "status": {
            "lastScheduleTime": timestamp(dt.timedelta(hours=9)),
            "lastSuccessfulTime": timestamp(dt.timedelta(hours=9)),
        },
    }


def custom_object(
    api_version: str,
    kind: str,
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    spec: dict | None = None,
    status_: dict | None = None,
) -> dict:
    """Return a custom resource object (an Argo Rollout, say)."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _meta(
            name, namespace, labels or app_labels(name), dt.timedelta(days=1), kind=kind
        ),
        "spec": spec or {},
        "status": status_ or {},
    }


def add_app(
    cluster: FakeCluster,
    app_id: str,
    namespace: str = "default",
    *,
    image: str = "ghcr.io/northwind/app:1.0.0",
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Add a healthy app: a Deployment, its ReplicaSet and pods, a Service, an HPA and a
    ConfigMap, labelled for `app_id`. Return them by kind (pods as a list)."""
    labels = labels or app_labels(app_id)
    requests = requests or {"cpu": "250m", "memory": "256Mi"}
    limits = limits or {"memory": "512Mi"}
    made_deployment = deployment(
        app_id,
        namespace,
        labels=labels,
        image=image,
        replicas=replicas,
        requests=requests,
        limits=limits,
    )
    made_rs = replica_set(made_deployment)
    pods = [
        pod(
            f"{made_rs['metadata']['name']}-{suffix}",
            namespace,
            owner=made_rs,
            image=image,
            requests=requests,
            limits=limits,
            containers=copy.deepcopy(made_deployment["spec"]["template"]["spec"]["containers"]),
        )
        for suffix in ("x2k9p", "q8w4z", "m3n7b", "t5r1c", "h6j2v", "d9f3g")[:replicas]
    ]
    made = {
        "Deployment": made_deployment,
        "ReplicaSet": made_rs,
        "Pod": pods,
        "Service": service(app_id, namespace, labels=labels),
        "HorizontalPodAutoscaler": hpa(
            app_id,
            namespace,
            labels=labels,
            min_replicas=replicas,
            max_replicas=replicas * 3,
            current=replicas,
        ),
        "ConfigMap": config_map(f"{app_id}-config", namespace, labels=labels),
    }
    cluster.add(
        made_deployment,
        made_rs,
        *pods,
        made["Service"],
        made["HorizontalPodAutoscaler"],
        made["ConfigMap"],
    )
    return made


# --- the browser tests' clusters ---------------------------------------------------------------


@contextmanager
def session_clusters() -> Iterator[dict[str, Any]]:
    """Run prod and staging fake clusters and hold a dead URL (the browser tests' session)."""
    with (
        kube_cluster("prod", token="prod-token") as prod,
        kube_cluster("staging", token="staging-token") as staging,
        dead_url() as dead,
    ):
        yield {"prod": prod, "staging": staging, "dead": dead}


def portal_plugins_config(clusters: Mapping[str, Any]) -> str:
    """Return PORTAL_PLUGINS_CONFIG (JSON) pointing the Kubernetes plugin at the clusters:
    short timeout, cache and refresh so the browser tests see changes within seconds."""
    fakes = [clusters["prod"], clusters["staging"]]
    entries = [
        {
            "name": fake.name,
            "url": fake.base_url,
            "authProvider": "serviceAccount",
            "serviceAccountToken": fake.token,
            "dashboardUrl": f"https://dashboard.{fake.name}.northwind.example/",
        }
        for fake in fakes
    ]
    entries.append({"name": "dead", "url": clusters["dead"]})
    settings = {"clusters": entries, "timeoutSeconds": 2, "cacheSeconds": 1, "refreshSeconds": 2}
    return json.dumps({"plugins.kubernetes": settings})
