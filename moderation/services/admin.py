"""Admin use cases: sites and their policies, moderator accounts, the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.errors import NotFound, PermissionDenied, ValidationError
from moderation.scoring.policy import Policy
from moderation.services.accounts import ModeratorIdentity
from moderation.services.review import require_admin
from moderation.services.sites import site_policy, update_site_policy
from moderation.storage import repositories as repo
from moderation.storage.models import MODERATOR_ROLES, AuditEntry, Moderator, Site


def visible_sites(session: Session, moderator: ModeratorIdentity) -> list[Site]:
    query = select(Site).order_by(Site.name)
    if moderator.site_ids is not None:
        query = query.where(Site.id.in_(list(moderator.site_ids)))
    return list(session.scalars(query))


def admin_site(session: Session, moderator: ModeratorIdentity, site_id: int) -> Site:
    require_admin(moderator)
    site = session.get(Site, site_id)
    if site is None or (moderator.site_ids is not None and site.id not in moderator.site_ids):
        raise NotFound("no such site")
    return site


def read_policy(session: Session, moderator: ModeratorIdentity, site_id: int) -> Policy:
    return site_policy(session, admin_site(session, moderator, site_id).id)


def change_policy(
    session: Session, moderator: ModeratorIdentity, site_id: int, settings: dict[str, Any]
) -> Policy:
    site = admin_site(session, moderator, site_id)
    return update_site_policy(session, site.id, settings, actor=moderator.actor)


def manages(admin: ModeratorIdentity, account_site_ids: set[int]) -> bool:
    """An admin of every site manages every account; one of some sites, only accounts within them."""
    if admin.site_ids is None:
        return True
    return bool(account_site_ids) and account_site_ids <= set(admin.site_ids)


def update_moderator(
    session: Session,
    moderator: ModeratorIdentity,
    moderator_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
) -> Moderator:
    require_admin(moderator)
    target = session.get(Moderator, moderator_id)
    if target is None:
        raise NotFound("no such moderator")
    if not manages(moderator, set(repo.moderator_site_ids(session, target.id))):
        raise PermissionDenied("this account covers sites you do not administer")
    if target.id == moderator.id and (active is False or (role is not None and role != "admin")):
        raise ValidationError(
            "you cannot lock yourself out", fields={"moderator": "choose another admin to do this"}
        )
    changes: dict[str, Any] = {}
    if role is not None:
        if role not in MODERATOR_ROLES:
            raise ValidationError("invalid role", fields={"role": f"one of {', '.join(MODERATOR_ROLES)}"})
        changes["role"] = [target.role, role]
        target.role = role
    if active is not None:
        changes["active"] = [target.active, active]
        target.active = active
    repo.add_audit(
        session,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action="moderator_changed",
        details={"moderator": target.username, **changes},
    )
    return target


@dataclass
class AuditPage:
    total: int
    entries: list[AuditEntry]


def audit_page(
    session: Session,
    moderator: ModeratorIdentity,
    *,
    page: int,
    per_page: int,
    action: str | None = None,
    actor: str | None = None,
    site_ids: Sequence[int] | None = None,
) -> AuditPage:
    require_admin(moderator)
    query = select(AuditEntry)
    visible = moderator.site_ids
    if visible is not None:
        query = query.where(AuditEntry.site_id.in_(list(visible)))
    if site_ids:
        query = query.where(AuditEntry.site_id.in_(list(site_ids)))
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage(total=total, entries=list(entries))
