"""The plugin's JSON API at /api/kubernetes/ (Backstage's shapes where it has them).

Reads follow the portal's rule (open unless GREENROOM_API_READS_REQUIRE_AUTH); pod logs
always need a signed-in person or a service token, since logs can carry secrets. Errors
are DRF exceptions, which portal/api/errors.py turns into Backstage's envelope.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from plugins.kubernetes.clusters import current_settings
from plugins.kubernetes.fetch import ClusterCallError, read_pod_log
from plugins.kubernetes.selection import DNS_LABEL, DNS_SUBDOMAIN
from plugins.kubernetes.views import entity_report


class UpstreamError(APIException):
    """A cluster failed to answer or refused (the portal itself is fine)."""

    status_code = 502
    default_detail = "the cluster did not answer"
    default_code = "bad_gateway"


def _no_nul(*values: str) -> None:
    if any("\x00" in value for value in values):
        raise ValidationError("the request contains a NUL character (\\u0000)")


class ClusterListView(APIView):
    """GET /api/kubernetes/clusters: the configured clusters, without credentials."""

    operation_ids = {"get": "kubernetesListClusters"}

    def get(self, request: Request) -> Response:
        settings = current_settings()
        return Response({"items": [cluster.public() for cluster in settings.clusters]})


class EntityObjectsView(APIView):
    """GET /api/kubernetes/entities/{namespace}/{kind}/{name}: an entity's objects per
    cluster (Backstage's ObjectsByEntityResponse items) and the problems detected."""

    operation_ids = {"get": "kubernetesGetEntityObjects"}

    def get(self, request: Request, namespace: str, kind: str, name: str) -> Response:
        from catalog.models import Entity

        _no_nul(namespace, kind, name)
        ref = f"{kind.lower()}:{namespace.lower()}/{name.lower()}"
        entity = Entity.objects.defer("search").filter(ref=ref).first()
        if entity is None:
            raise NotFound(f"No entity named {kind}:{namespace}/{name}")
        report = entity_report(entity)
        body: dict[str, Any] = {
            "entityRef": entity.display_ref,
            "items": report["results"],
            "detectedErrors": report["problems"],
            "failures": report["failures"],
        }
        if "selection_error" in report:
            body["message"] = report["selection_error"]
        return Response(body)


class PodLogsView(APIView):
    """GET /api/kubernetes/clusters/{cluster}/namespaces/{namespace}/pods/{pod}/logs: the
    last lines of a container's log, from a configured cluster (never a URL from the
    request)."""

    permission_classes = [IsAuthenticated]
    operation_ids = {"get": "kubernetesGetPodLogs"}

    @extend_schema(
        parameters=[
            OpenApiParameter("container", str, description="the container (pods with several)"),
            OpenApiParameter("lines", int, description="how many lines from the end (1-10000)"),
        ]
    )
    def get(self, request: Request, cluster: str, namespace: str, pod: str) -> Response:
        _no_nul(cluster, namespace, pod, *request.query_params.values())
        settings = current_settings()
        chosen = settings.cluster(cluster)
        if chosen is None:
            raise NotFound(f"No cluster named {cluster!r} is configured")
        container = request.query_params.get("container", "")
        if not DNS_LABEL.match(namespace):
            raise ValidationError(f"{namespace!r} is not a namespace name")
        if not DNS_SUBDOMAIN.match(pod):
            raise ValidationError(f"{pod!r} is not a pod name")
        if container and not DNS_LABEL.match(container):
            raise ValidationError(f"{container!r} is not a container name")
        lines = settings.log_lines
        if "lines" in request.query_params:
            try:
                lines = int(request.query_params["lines"])
            except ValueError:
                raise ValidationError("lines must be a whole number") from None
            if not 1 <= lines <= 10_000:
                raise ValidationError("lines must be between 1 and 10000")
        try:
            text = read_pod_log(chosen, namespace, pod, container, lines, settings.timeout)
        except ClusterCallError as exc:
            if exc.status == 404:
                raise NotFound(str(exc)) from exc
            if exc.status == 400:
                raise ValidationError(str(exc)) from exc
            raise UpstreamError(str(exc)) from exc
        return Response(
            {
                "cluster": chosen.name,
                "namespace": namespace,
                "pod": pod,
                "container": container,
                "lines": lines,
                "text": text,
            }
        )
