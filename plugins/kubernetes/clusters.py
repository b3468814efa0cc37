"""The clusters an admin configured, and a client for each.

Settings mirror Backstage's `kubernetes` app-config where it has a key (`clusters[].name`,
`url`, `authProvider`, `serviceAccountToken`, `skipTLSVerify`, `caData`, `caFile`,
`dashboardUrl`, `customResources`) and add our own (`timeoutSeconds`, `cacheSeconds`,
`logLines`, `refreshSeconds`, `kubeconfig`/`context`). They are read at call time, so a
change to PORTAL_PLUGINS_CONFIG (or a test's override) applies to the next request.

Every cluster gets its own `kubernetes.client.Configuration` and `ApiClient`; nothing here
touches the client's global default configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from portal.plugins import plugin_settings

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, Configuration

PLUGIN = "plugins.kubernetes"
AUTH_PROVIDERS = ("serviceAccount", "kubeconfig", "inCluster")
# Where Kubernetes mounts a pod's service account (the client's own defaults); tests point
# these at temporary files.
IN_CLUSTER_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
IN_CLUSTER_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

DEFAULT_SETTINGS: dict[str, Any] = {
    "clusters": [],
    "customResources": [],
    "timeoutSeconds": 5,
    "cacheSeconds": 10,
    "logLines": 200,
    "refreshSeconds": 10,  # Backstage's UI polls every 10 s too
}

_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"}
_HTTP_URL = {"type": "string", "pattern": r"^https?://[^\s/?#]+[^\s]*$"}
_CUSTOM_RESOURCE = {
    "type": "object",
    "properties": {
        "group": {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"},
        "apiVersion": {"type": "string", "pattern": r"^v[0-9]+((alpha|beta)[0-9]+)?$"},
        "plural": {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"},
    },
    "required": ["group", "apiVersion", "plural"],
    "additionalProperties": False,
}
SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "clusters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": _NAME,
                    "url": _HTTP_URL,
                    "authProvider": {"enum": list(AUTH_PROVIDERS)},
                    "serviceAccountToken": {"type": "string", "minLength": 1},
                    "skipTLSVerify": {"type": "boolean"},
                    "caData": {"type": "string", "minLength": 1},
                    "caFile": {"type": "string", "minLength": 1},
                    "dashboardUrl": _HTTP_URL,
                    "kubeconfig": {"type": "string", "minLength": 1},
                    "context": {"type": "string", "minLength": 1},
                    "customResources": {"type": "array", "items": _CUSTOM_RESOURCE},
                },
                "required": ["name"],
                "additionalProperties": False,
                # A service-account cluster (the default) needs its URL; kubeconfig and
                # in-cluster ones find it themselves.
                "if": {
                    "properties": {"authProvider": {"enum": ["kubeconfig", "inCluster"]}},
                    "required": ["authProvider"],
                },
                "else": {"required": ["url"]},
            },
        },
        "customResources": {"type": "array", "items": _CUSTOM_RESOURCE},
        "kubeconfig": {"type": "string", "minLength": 1},
        "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
        "cacheSeconds": {"type": "number", "minimum": 0, "maximum": 3600},
        "logLines": {"type": "integer", "minimum": 1, "maximum": 10000},
        "refreshSeconds": {"type": "integer", "minimum": 2, "maximum": 3600},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class CustomResource:
    """A custom resource type to list beside the built-in ones (CustomObjectsApi)."""

    group: str
    api_version: str
    plural: str

    @property
    def type_name(self) -> str:
        return f"{self.plural}.{self.group}"


@dataclass(frozen=True)
class Cluster:
    """One configured cluster. `service_account_token` never leaves the server."""

    name: str
    url: str = ""
    auth_provider: str = "serviceAccount"
    service_account_token: str = field(default="", repr=False)
    skip_tls_verify: bool = False
    ca_data: str = field(default="", repr=False)
    ca_file: str = ""
    dashboard_url: str = ""
    kubeconfig: str = ""
    context: str = ""
    custom_resources: tuple[CustomResource, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Return a digest of everything that shapes this cluster's client (and its cache)."""
        raw = json.dumps(
            [self.__dict__[k] for k in sorted(self.__dict__) if k != "custom_resources"]
            + [[c.__dict__ for c in self.custom_resources]],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def public(self) -> dict[str, Any]:
        """Return what anyone may see of the cluster (no token, no CA data)."""
        return {
            "name": self.name,
            "url": self.url,
            "authProvider": self.auth_provider,
            "dashboardUrl": self.dashboard_url,
            "skipTLSVerify": self.skip_tls_verify,
            "customResources": [
                {"group": c.group, "apiVersion": c.api_version, "plural": c.plural}
                for c in self.custom_resources
            ],
        }


@dataclass(frozen=True)
class KubernetesSettings:
    """The plugin's settings, merged over the defaults and typed."""

    clusters: tuple[Cluster, ...]
    timeout: float
    cache_seconds: float
    log_lines: int
    refresh_seconds: int

    def cluster(self, name: str) -> Cluster | None:
        """Return the configured cluster of that name, if any."""
        return next((cluster for cluster in self.clusters if cluster.name == name), None)


def _custom_resources(entries: list[dict[str, str]]) -> tuple[CustomResource, ...]:
    return tuple(CustomResource(e["group"], e["apiVersion"], e["plural"]) for e in entries)


def current_settings() -> KubernetesSettings:
    """Return the plugin's settings as configured now.

    Start-up already checked them against SETTINGS_SCHEMA; what a schema cannot say (two
    clusters of one name) raises ImproperlyConfigured naming the setting.
    """
    values = {**DEFAULT_SETTINGS, **plugin_settings(PLUGIN)}
    shared = _custom_resources(values.get("customResources") or [])
    default_kubeconfig = values.get("kubeconfig", "")
    clusters = []
    for index, entry in enumerate(values.get("clusters") or []):
        if any(cluster.name == entry["name"] for cluster in clusters):
            raise ImproperlyConfigured(
                f"Plugin {PLUGIN!r}: setting 'clusters[{index}].name' is invalid: "
                f"{entry['name']!r} names two clusters"
            )
        own = _custom_resources(entry.get("customResources") or [])
        clusters.append(
            Cluster(
                name=entry["name"],
                url=(entry.get("url") or "").rstrip("/"),
                auth_provider=entry.get("authProvider", "serviceAccount"),
                service_account_token=entry.get("serviceAccountToken", ""),
                skip_tls_verify=bool(entry.get("skipTLSVerify", False)),
                ca_data=entry.get("caData", ""),
                ca_file=entry.get("caFile", ""),
                dashboard_url=entry.get("dashboardUrl", ""),
                kubeconfig=entry.get("kubeconfig", default_kubeconfig),
                context=entry.get("context", ""),
                custom_resources=shared + tuple(c for c in own if c not in shared),
            )
        )
    return KubernetesSettings(
        clusters=tuple(clusters),
        timeout=float(values["timeoutSeconds"]),
        cache_seconds=float(values["cacheSeconds"]),
        log_lines=int(values["logLines"]),
        refresh_seconds=int(values["refreshSeconds"]),
    )


class ClusterConfigError(Exception):
    """A cluster's client cannot be built (a missing kubeconfig, context or token file)."""


def _pem(ca_data: str) -> str:
    # Backstage's caData is base64 of the PEM, as a kubeconfig's certificate-authority-data;
    # a PEM pasted as-is works too.
    if ca_data.lstrip().startswith("-----BEGIN"):
        return ca_data
    try:
        return base64.b64decode(ca_data, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ClusterConfigError("caData is neither a PEM certificate nor base64 of one") from exc


def build_configuration(cluster: Cluster, environ: dict[str, str] | None = None) -> Configuration:
    """Return a fresh client Configuration for one cluster (never the global default).

    1. The auth provider sets the host and credentials: a service-account token, a
       kubeconfig context (through the client's own loader), or the pod's mounted service
       account (the client's InClusterConfigLoader, reading KUBERNETES_SERVICE_HOST/PORT).
    2. TLS: skipTLSVerify, caData (base64 PEM), caFile.
    3. No retries: a page waits on a deadline, and a retry would spend it on a cluster
       that already failed once.
    Raise ClusterConfigError when the configuration cannot be built.
    """
    from kubernetes import client
    from kubernetes.config import ConfigException, incluster_config, kube_config

    configuration = client.Configuration()
    try:
        if cluster.auth_provider == "inCluster":
            incluster_config.InClusterConfigLoader(
                token_filename=IN_CLUSTER_TOKEN_FILE,
                cert_filename=IN_CLUSTER_CA_FILE,
                environ=os.environ if environ is None else environ,
            ).load_and_set(configuration)
        elif cluster.auth_provider == "kubeconfig":
            path = os.path.expanduser(
                cluster.kubeconfig or kube_config.KUBE_CONFIG_DEFAULT_LOCATION
            )
            if not Path(path).is_file():
                raise ClusterConfigError(f"kubeconfig file {path} does not exist")
            kube_config.load_kube_config(
                config_file=path,
                context=cluster.context or None,
                client_configuration=configuration,
                persist_config=False,
            )
            if cluster.url:
                configuration.host = cluster.url
        else:
            configuration.host = cluster.url
            if cluster.service_account_token:
                configuration.api_key = {"BearerToken": cluster.service_account_token}
                configuration.api_key_prefix = {"BearerToken": "Bearer"}
    except ConfigException as exc:
        raise ClusterConfigError(f"{cluster.auth_provider} configuration: {exc}") from exc
    except (OSError, ValueError) as exc:  # unreadable or malformed kubeconfig
        raise ClusterConfigError(f"{cluster.auth_provider} configuration: {exc}") from exc
    if cluster.skip_tls_verify:
        configuration.verify_ssl = False
    if cluster.ca_data:
        configuration.ca_cert_data = _pem(cluster.ca_data)
    if cluster.ca_file:
        if not Path(cluster.ca_file).is_file():
            raise ClusterConfigError(f"caFile {cluster.ca_file} does not exist")
        configuration.ssl_ca_cert = cluster.ca_file
    configuration.retries = False
    # Every object type is listed at once: one pooled connection each.
    configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize, 24)
    return configuration


_clients_lock = threading.Lock()
_clients: dict[str, ApiClient] = {}
MAX_CLIENTS = 64


def api_client(cluster: Cluster) -> ApiClient:
    """Return the cluster's ApiClient, built once per configuration (its connection pool is
    shared by the threads that call the cluster). Raise ClusterConfigError."""
    from kubernetes.client import ApiClient

    key = cluster.fingerprint
    if cluster.auth_provider == "kubeconfig":
        # An edited kubeconfig (a new token, another server) makes a new client.
        path = Path(os.path.expanduser(cluster.kubeconfig or "~/.kube/config"))
        key += f":{path.stat().st_mtime_ns if path.is_file() else 0}"
    with _clients_lock:
        found = _clients.get(key)
    if found is not None:
        return found
    made = ApiClient(build_configuration(cluster))
    with _clients_lock:
        if len(_clients) >= MAX_CLIENTS:  # settings changed many times: start over
            _clients.clear()
        return _clients.setdefault(key, made)
