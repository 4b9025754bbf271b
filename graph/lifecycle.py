"""The lifecycle of leads and cases: statuses, allowed transitions and who may make them.

This is the one place the rules live; the API, the docs table (`api/README.md`) and the
tests read them from here.

Leads:   draft -> verified -> pushed -> registered -> filed | declined | transferred
         transferred -> pushed (to another agency)
         filed -> investigating -> raided -> prosecuted -> judged -> closed
Cases:   open -> investigating -> raided -> prosecuted -> judged -> closed
Either may become `withdrawn` from any open state (not once judged, closed or declined).
Opening a case files its lead; later case statuses are mirrored on the lead.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UserError
from graph.caller import Caller

LEAD_STATUSES = ("draft", "verified", "pushed", "registered", "filed", "declined", "transferred",
                 "investigating", "raided", "prosecuted", "judged", "closed", "withdrawn")
EVENT_CAUSES = ("case_opened", "case_moved", "pushed", "raid")
"""What made the server write a status event, beside the caller's own note: a case opened
on the lead, the lead following its case (the case `cause_id` of both), a push to the
agency `cause_id`, a raid recorded on the case. Pages say it in the reader's language."""
CASE_STATUSES = ("open", "investigating", "raided", "prosecuted", "judged", "closed", "withdrawn")

LEAD_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("verified", "withdrawn"),
    "verified": ("pushed", "withdrawn"),
    "pushed": ("registered", "declined", "transferred", "withdrawn"),
    "registered": ("filed", "declined", "transferred", "withdrawn"),
    "transferred": ("pushed", "withdrawn"),
    "filed": ("investigating", "raided", "withdrawn"),
    "investigating": ("raided", "prosecuted", "withdrawn"),
    "raided": ("prosecuted", "withdrawn"),
    "prosecuted": ("judged", "withdrawn"),
    "judged": ("closed",),
    "declined": (),
    "closed": (),
    "withdrawn": (),
}
CASE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "raided", "withdrawn"),
    "investigating": ("raided", "prosecuted", "withdrawn"),
    "raided": ("prosecuted", "withdrawn"),
    "prosecuted": ("judged", "withdrawn"),
    "judged": ("closed",),
    "closed": (),
    "withdrawn": (),
}

OPEN_LEAD_STATUSES = tuple(s for s in LEAD_STATUSES if s not in ("declined", "closed", "withdrawn"))
OPEN_CASE_STATUSES = tuple(s for s in CASE_STATUSES if s not in ("closed", "withdrawn"))

LEAD_MOVERS: dict[str, tuple[str, ...]] = {
    "verified": ("investigator", "admin"),
    "pushed": ("investigator", "admin", "brand_member"),
    "registered": ("police_liaison", "admin"),
    "declined": ("police_liaison", "admin"),
    "transferred": ("police_liaison", "admin"),
    "filed": ("police_liaison", "admin"),
    "withdrawn": ("investigator", "admin", "brand_member"),
}
"""Roles that may move a lead into a status. Statuses after `filed` follow the case."""
CASE_MOVERS = ("police_liaison", "investigator", "admin")
"""Roles that may open cases, record raids and move cases (a liaison inside its
jurisdiction only; the query that finds the case enforces that)."""
LEAD_CREATORS = ("brand_member", "investigator", "admin")


class TransitionError(UserError):
    """A status change the lifecycle does not allow."""

    code = "ILLEGAL_TRANSITION"


class NotAllowed(TransitionError):
    """The caller's role may not make this change."""

    code = "FORBIDDEN"


@dataclass(frozen=True)
class Thresholds:
    """Prosecution thresholds in CNY for counterfeit trademark goods, compared with a
    lead's estimated value. Defaults follow the PRC judicial interpretations on
    intellectual-property crimes: business volume of 50,000 CNY opens a criminal case
    ("relatively large"), 250,000 CNY is "especially serious"."""

    filing_cny: float = 50_000.0
    serious_cny: float = 250_000.0

    def assess(self, value: float | None) -> str:
        if value is None:
            return "unknown"
        if value >= self.serious_cny:
            return "especially_serious"
        if value >= self.filing_cny:
            return "above_filing_threshold"
        return "below_filing_threshold"


def check_status(status: str, statuses: tuple[str, ...], what: str) -> str:
    if status not in statuses:
        raise TransitionError(f"unknown {what} status {status!r}; known: {list(statuses)}")
    return status


def check_lead_move(current: str, target: str, caller: Caller) -> None:
    """Raise TransitionError unless `caller` may move a lead from `current` to `target`."""
    check_status(target, LEAD_STATUSES, "lead")
    _check_move("lead", LEAD_TRANSITIONS, current, target)
    movers = LEAD_MOVERS.get(target)
    if movers is None:
        raise TransitionError(f"a lead becomes {target!r} when its case does; "
                              "update the case instead (updateCaseStatus)")
    if caller.role not in movers:
        raise NotAllowed(f"role {caller.role!r} may not move a lead to {target!r}; "
                              f"allowed roles: {list(movers)}")


def check_case_move(current: str, target: str, caller: Caller) -> None:
    check_status(target, CASE_STATUSES, "case")
    _check_move("case", CASE_TRANSITIONS, current, target)
    if caller.role not in CASE_MOVERS:
        raise NotAllowed(f"role {caller.role!r} may not change cases; "
                              f"allowed roles: {list(CASE_MOVERS)}")


def _check_move(what: str, table: dict[str, tuple[str, ...]], current: str, target: str) -> None:
    allowed = table.get(current, ())
    if target not in allowed:
        options = ", ".join(allowed) if allowed else "none (it is final)"
        raise TransitionError(f"a {what} in status {current!r} cannot become {target!r}; "
                              f"allowed next: {options}")


def lead_follows_case(lead_status: str, case_status: str) -> str | None:
    """The status a lead takes when its case moves to `case_status`, or None."""
    if case_status in LEAD_TRANSITIONS.get(lead_status, ()):
        return case_status
    return None


def transitions_table() -> str:
    """The lifecycle as a Markdown table (for the docs)."""
    lines = ["| object | from | allowed next | who |", "|---|---|---|---|"]
    for status, nexts in LEAD_TRANSITIONS.items():
        who = "; ".join(f"{n}: {', '.join(LEAD_MOVERS.get(n, ('follows the case',)))}" for n in nexts)
        lines.append(f"| lead | {status} | {', '.join(nexts) or '-'} | {who or '-'} |")
    for status, nexts in CASE_TRANSITIONS.items():
        lines.append(f"| case | {status} | {', '.join(nexts) or '-'} | "
                     f"{', '.join(CASE_MOVERS) if nexts else '-'} |")
    return "\n".join(lines)
