"""Jira Cloud and Data Center connector: settings, transport, paging, fields, normalization, client.

Never imports ``rollup``. The public API is :class:`JiraConnector`; see docs/architecture.md.
"""

from .client import FetchedBatch, JiraConnector, ServerInfo, WorklogPage
from .errors import (
    JiraAuthError,
    JiraConfigError,
    JiraError,
    JiraFieldError,
    JiraHTTPError,
    JiraNotFoundError,
    JiraPaginationError,
    JiraServerError,
)
from .fields import ROLE_NAMES, SYSTEM_FIELDS, FieldMap
from .normalize import StatusMap, adf_to_text, normalize_histories, normalize_issue, normalize_worklog, parse_datetime
from .paginators import OffsetPaginator, TokenPaginator
from .rows import STATUS_CATEGORIES, FieldRow, IssueRef, IssueRow, ProjectRef, SprintRow, TransitionRow, WorklogRow
from .settings import KEYRING_SERVICE, JiraSettings
from .transport import RequestStats, Transport
from .write import IssueComment, IssueLabels, JiraWriter, comment_adf, comment_wiki

__all__ = [
    "FetchedBatch", "JiraConnector", "ServerInfo", "WorklogPage",
    "JiraAuthError", "JiraConfigError", "JiraError", "JiraFieldError", "JiraHTTPError",
    "JiraNotFoundError", "JiraPaginationError", "JiraServerError",
    "ROLE_NAMES", "SYSTEM_FIELDS", "FieldMap",
    "StatusMap", "adf_to_text", "normalize_histories", "normalize_issue", "normalize_worklog", "parse_datetime",
    "OffsetPaginator", "TokenPaginator",
    "STATUS_CATEGORIES", "FieldRow", "IssueRef", "IssueRow", "ProjectRef", "SprintRow", "TransitionRow", "WorklogRow",
    "KEYRING_SERVICE", "JiraSettings",
    "RequestStats", "Transport",
    "IssueComment", "IssueLabels", "JiraWriter", "comment_adf", "comment_wiki",
]
