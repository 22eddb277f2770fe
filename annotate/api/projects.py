"""Projects, their labels and members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import CharField, Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Article, Label, Membership, Project, Role
from ..services.assignment import assign_articles
from ..services.projects import add_label
from ..services.schema import replace_schema
from ..services.workflow import hand_over_orphans, remove_member
from .pagination import check_params
from .permissions import IN_PROJECT, IsManager, IsReviewer, ManagerToWrite
from .serializers.projects import (
    AttributeSerializer,
    LabelSerializer,
    MemberSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    check_label_set,
)


def projects_for(user):
    """The caller's projects with their role and article count, in a constant number of
    queries."""
    role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    articles = (
        Article.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    caller_role = Value(Role.MANAGER.value, output_field=CharField())
    if not user.is_superuser:
        caller_role = Subquery(role)
    return (
        Project.objects.visible_to(user)
        .annotate(
            caller_role=caller_role,
            article_count=Coalesce(Subquery(articles), Value(0), output_field=IntegerField()),
        )
        .prefetch_related(
            "labels__attributes", "relation_types__from_labels", "relation_types__to_labels"
        )
        .order_by("name", "pk")
    )


def may_create_projects(user) -> bool:
    return user.is_superuser or Membership.objects.filter(user=user, role=Role.MANAGER).exists()


class ProjectList(ListModelMixin, GenericAPIView):
    """Projects the caller belongs to; managers (of any project) and admins create more."""

    permission_classes = [IsAuthenticated]
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return projects_for(self.request.user)

    @extend_schema(summary="List your projects")
    def get(self, request: Request) -> Response:
        check_params(request, frozenset())
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create a project with its labels",
        description="Managers of any project and admins. The creator becomes its manager.",
        responses={201: ProjectSerializer},
    )
    def post(self, request: Request) -> Response:
        if not may_create_projects(request.user):
            raise PermissionDenied("Only managers and admins can create projects.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.save()
        project = projects_for(request.user).get(pk=project.pk)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetail(GenericAPIView):
    permission_classes = [*IN_PROJECT, ManagerToWrite]
    serializer_class = ProjectSerializer

    @extend_schema(summary="A project, its labels and your role")
    def get(self, request: Request, slug: str) -> Response:
        project = projects_for(request.user).get(pk=self.project.pk)
        return Response(self.get_serializer(project).data)

    @extend_schema(
        summary="Change a project's settings (managers)",
        request=ProjectUpdateSerializer,
        responses={200: ProjectSerializer},
    )
    def patch(self, request: Request, slug: str) -> Response:
        serializer = ProjectUpdateSerializer(self.project, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.get(request, slug)


class LabelList(ListModelMixin, GenericAPIView):
    """The project's labels; managers add labels (keys and hotkeys unique in the project).
    Labels are not deleted or re-keyed here: spans refer to them."""

    permission_classes = [*IN_PROJECT, ManagerToWrite]
    serializer_class = LabelSerializer

    def get_queryset(self):
        return (
            Label.objects.filter(project=self.project)
            .prefetch_related("attributes")
            .order_by("order", "key")
        )

    @extend_schema(summary="List the project's labels")
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, frozenset())
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Add a label (managers)", responses={201: LabelSerializer})
    def post(self, request: Request, slug: str) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        attributes = fields.pop("attributes", None)
        with transaction.atomic():
            label = add_label(
                project=self.project,
                fields=fields,
                check=lambda existing: check_label_set([fields], existing),
            )
            if attributes:
                specs = [AttributeSerializer.spec(item) for item in attributes]
                replace_schema(project=self.project, attributes={label.key: specs})
        return Response(self.get_serializer(label).data, status=status.HTTP_201_CREATED)


MEMBER_RESPONSE = inline_serializer(
    "MemberResult",
    {
        "username": serializers.CharField(),
        "role": serializers.ChoiceField(choices=Role.choices),
        "created_at": serializers.DateTimeField(),
        "assigned": serializers.IntegerField(help_text="Articles newly assigned to editors."),
    },
)


class MemberList(ListModelMixin, GenericAPIView):
    """Who is in the project (reviewers and managers see it); managers add members or
    change a member's role by username."""

    permission_classes = [*IN_PROJECT, IsReviewer, ManagerToWrite]
    serializer_class = MemberSerializer

    def get_queryset(self):
        return (
            Membership.objects.filter(project=self.project)
            .select_related("user")
            .order_by("user__username")
        )

    @extend_schema(summary="List the members")
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, frozenset())
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Add a member or change their role (managers)",
        description="201 for a new member, 200 for a role change. Adding an editor hands "
        "them articles that still need editors (up to the project's overlap).",
        responses={201: MEMBER_RESPONSE, 200: MEMBER_RESPONSE},
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, role = serializer.validated_data["username"], serializer.validated_data["role"]
        with transaction.atomic():
            membership, created = Membership.objects.select_for_update().get_or_create(
                project=self.project, user=user, defaults={"role": role}
            )
            if not created and membership.role != role:
                _keep_a_manager(self.project, leaving=membership)
                membership.role = role
                membership.save(update_fields=["role"])
                # No longer an editor: their unsubmitted articles go to the others.
                hand_over_orphans(self.project, by=request.user)
            assigned = assign_articles(self.project) if role == Role.EDITOR else 0
        data = {**self.get_serializer(membership).data, "assigned": assigned}
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MemberDetail(GenericAPIView):
    permission_classes = [*IN_PROJECT, IsManager]
    serializer_class = MemberSerializer

    @extend_schema(
        summary="Remove a member (managers)",
        description="Their annotations and history stay; articles they have not submitted "
        "go to the other editors (least loaded first). The last manager cannot leave.",
        responses={204: OpenApiResponse(description="Removed.")},
    )
    def delete(self, request: Request, slug: str, username: str) -> Response:
        user = get_user_model().objects.filter(username=username).first()
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update()
                .filter(project=self.project, user=user)
                .first()
            )
            if membership is None:
                raise ValidationError({"username": [f"{username!r} is not a member."]})
            _keep_a_manager(self.project, leaving=membership)
            remove_member(self.project, membership.user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _keep_a_manager(project: Project, *, leaving: Membership) -> None:
    if leaving.role != Role.MANAGER:
        return
    others = Membership.objects.filter(project=project, role=Role.MANAGER).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError(
            {"role": ["A project needs a manager: make someone else manager first."]}
        )
