from .annotations import Annotation, AnnotationVersion, Span
from .projects import Article, Assignment, Label, Membership, Project, Role, text_sha256

__all__ = [
    "Annotation",
    "AnnotationVersion",
    "Article",
    "Assignment",
    "Label",
    "Membership",
    "Project",
    "Role",
    "Span",
    "text_sha256",
]
