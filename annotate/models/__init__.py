from .agreement import (  # noqa: F401 - exported
    AgreementTotal,
    AgreementUnit,
    ArticleAgreement,
    ArticleFactAgreement,
    FactAgreementTotal,
)
from .annotations import Annotation, AnnotationVersion, Span
from .assistance import (  # noqa: F401 - exported
    GoldPhrase,
    ModelVersion,
    PredictedRelation,
    PredictedSpan,
)
from .facts import AttributeDefinition, Relation, RelationType, fact_schema
from .jobs import Job  # noqa: F401 - exported
from .projects import (
    COLOR_RE,
    LABEL_KEY_RE,
    Article,
    Assignment,
    Label,
    Membership,
    Project,
    Role,
    text_sha256,
)
from .releases import RELEASE_NAME_RE, Release  # noqa: F401 - exported
from .throttle import ThrottleCounter  # noqa: F401 - exported
from .workflow import Comment, Flag, Handover  # noqa: F401 - exported

__all__ = [
    "COLOR_RE",
    "LABEL_KEY_RE",
    "Annotation",
    "AnnotationVersion",
    "Article",
    "Assignment",
    "AttributeDefinition",
    "Label",
    "Membership",
    "Project",
    "Relation",
    "RelationType",
    "Role",
    "Span",
    "fact_schema",
    "text_sha256",
]
