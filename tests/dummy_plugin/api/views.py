from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.dummy_plugin.models import DummyNote


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = DummyNote
        fields = ["id", "entity_ref", "text"]


class NotesView(APIView):
    """GET lists notes (reads follow the portal's API rule); POST needs a principal."""

    def get(self, request: Request) -> Response:
        return Response({"items": NoteSerializer(DummyNote.objects.order_by("pk"), many=True).data})

    def post(self, request: Request) -> Response:
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=201)
